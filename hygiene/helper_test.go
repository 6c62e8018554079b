package hygiene

import (
	"context"
	"os"
	"testing"

	"github.com/forkproof/forkproof/internal/helpertarget"
	"github.com/forkproof/forkproof/targets"
)

// The test binary doubles as a target for the hygiene tests: `hygiene.test
// forkproof-helper MODE PORT` (modes "http", "leak", "zombie"). init runs before TestMain, so
// the helper never reaches the test framework.
func init() {
	if len(os.Args) > 1 && os.Args[1] == "forkproof-helper" {
		os.Exit(helpertarget.Main(os.Args[2:]))
	}
}

// launch starts a helper target and stops it at the end of the test, checking the stop.
func launch(t *testing.T, mode string) *targets.Target {
	t.Helper()
	tgt, stop, err := targets.Launch(context.Background(), helpertarget.Cmd(t, mode))
	if err != nil {
		t.Fatalf("Launch(%s): %v", mode, err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
		t.Logf("target stderr:\n%s", tgt.Stderr())
	})
	return tgt
}

func get(t *testing.T, addr string) string { t.Helper(); return helpertarget.Get(t, addr) }
