// Package testbin builds the forkproof binary once per test process, so process-level tests
// run the real program, and checks after the tests that no child process was left behind.
package testbin

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/forkproof/forkproof/internal/proc"
)

var (
	once    sync.Once
	dir     string
	binPath string
	errBin  error
)

// Path returns the path of a freshly built forkproof binary, building it on first use.
// The binary lives in a temp dir removed by Main.
func Path(tb testing.TB) string {
	tb.Helper()
	p, err := build()
	if err != nil {
		tb.Fatalf("building forkproof: %v", err)
	}
	return p
}

func build() (string, error) {
	once.Do(func() {
		dir, errBin = os.MkdirTemp("", "forkproof-bin-")
		if errBin != nil {
			return
		}
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		binPath = filepath.Join(dir, "forkproof")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/forkproof")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			errBin = fmt.Errorf("%v: %s", err, out)
		}
	})
	return binPath, errBin
}

// Main runs the tests, removes the built binary, and fails the run when a child process, a
// goroutine (go.uber.org/goleak) or a socket of the test process outlives the tests (waiting
// up to 5s for what is still ending).
func Main(m *testing.M) {
	// A rapid failure prints its seed (-rapid.seed reproduces it) rather than writing a
	// record under testdata/rapid in the repository; -rapid.nofailfile=false brings it back.
	if f := flag.Lookup("rapid.nofailfile"); f != nil {
		f.Value.Set("true")
	}
	code := m.Run()
	if dir != "" {
		os.RemoveAll(dir)
	}
	if kids := waitNoChildren(5 * time.Second); len(kids) > 0 && code == 0 {
		fmt.Fprintf(os.Stderr, "testbin: child processes left behind: %v\n", kids)
		code = 1
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "testbin: goroutines left behind: %v\n", err)
			code = 1
		}
	}
	if socks := waitNoSockets(5 * time.Second); len(socks) > 0 && code == 0 {
		fmt.Fprintf(os.Stderr, "testbin: sockets left open: %v\n", socks)
		code = 1
	}
	os.Exit(code)
}

// waitNoSockets polls until this process holds no socket, and returns the fds of those left
// at the deadline.
func waitNoSockets(d time.Duration) []string {
	deadline := time.Now().Add(d)
	for {
		var socks []string
		fds, _ := os.ReadDir("/proc/self/fd")
		for _, fd := range fds {
			if link, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasPrefix(link, "socket:") {
				socks = append(socks, fd.Name()+"→"+link)
			}
		}
		if len(socks) == 0 || time.Now().After(deadline) {
			return socks
		}
		time.Sleep(20 * time.Millisecond) // polling a state with a deadline
	}
}

// Children lists the PIDs of the live (and zombie) children of this process; none when
// /proc cannot be read.
func Children() []int {
	kids, _ := proc.Children(os.Getpid())
	return kids
}

func waitNoChildren(d time.Duration) []int {
	deadline := time.Now().Add(d)
	for {
		kids := Children()
		if len(kids) == 0 || time.Now().After(deadline) {
			return kids
		}
		time.Sleep(20 * time.Millisecond) // polling a state with a deadline
	}
}
