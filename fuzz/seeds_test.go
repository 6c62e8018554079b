package fuzz

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/forkproof/forkproof/spec"
)

// catalogueSeeds are the bytes every catalogue case sends, one seed per Send step.
func catalogueSeeds() [][]byte {
	seen := map[string]bool{}
	var out [][]byte
	for _, c := range spec.Catalogue() {
		for _, s := range c.Steps {
			if len(s.Send) == 0 || len(s.Send) > 2048 || seen[string(s.Send)] {
				continue
			}
			seen[string(s.Send)] = true
			out = append(out, s.Send)
		}
	}
	return out
}

// TestWriteSeedCorpus rewrites the committed seed corpora of the native fuzz targets from the
// catalogue. It runs only when asked: FORKPROOF_WRITE_SEEDS=1 go test -run TestWriteSeedCorpus ./fuzz/
func TestWriteSeedCorpus(t *testing.T) {
	if os.Getenv("FORKPROOF_WRITE_SEEDS") == "" {
		t.Skip("set FORKPROOF_WRITE_SEEDS=1 to rewrite testdata/fuzz from the catalogue")
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..")
	dirs := []string{
		filepath.Join(root, "fuzz", "testdata", "fuzz", "FuzzNetHTTPDifferential"),
		filepath.Join(root, "server", "internal", "h1", "testdata", "fuzz", "FuzzDifferentialVerdict"),
		filepath.Join(root, "server", "internal", "h1", "testdata", "fuzz", "FuzzSocketPair"),
	}
	seeds := catalogueSeeds()
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, s := range seeds {
			name := fmt.Sprintf("catalogue-%x", sha256.Sum256(s))[:26]
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
			if err := os.WriteFile(filepath.Join(d, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("wrote %d seeds into each of %d corpora", len(seeds), len(dirs))
}

// The catalogue gives the fuzz targets plenty of seeds.
func TestCatalogueSeeds(t *testing.T) {
	if n := len(catalogueSeeds()); n < 100 {
		t.Fatalf("catalogue gives %d distinct seeds; want at least 100", n)
	}
}
