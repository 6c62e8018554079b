package server

import (
	"bytes"
	"debug/buildinfo"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/forkproof/forkproof/internal/testbin"
)

// Budgets of the work every connection child does before main, in heap allocations and bytes
// counted by GODEBUG=inittrace=1 (deterministic for a given binary; no clock is read).
//
// Measured with go1.26 on linux/amd64: our own packages with any init work (cmd/forkproof,
// which the trace calls main; server; server/internal/h1; spec; conformance) 9 allocations,
// 1016 bytes; the whole binary 129 allocations, 23 KB. The budgets are 2-3 times that: room for
// a few small values, not for a compiled regular expression (a small one: 46 allocations,
// 4 KB) or a few status-reason-sized map literals (28 entries: 4 allocations, 1 KB each). The
// whole-binary budget stands for the dependencies: github.com/prometheus/procfs alone added
// 892 allocations (see internal/proc).
const (
	ownInitAllocs   = 24
	ownInitBytes    = 3 << 10
	totalInitAllocs = 400
	totalInitBytes  = 128 << 10
)

var initTraceLine = regexp.MustCompile(`^init (\S+) @\S+ ms, \S+ ms clock, (\d+) bytes, (\d+) allocs$`)

// TestChildInitCost keeps the rule that makes fork mode affordable: the server re-executes
// its binary for every connection (fork mode) and every prefork worker, so each package
// initialiser linked into cmd/forkproof runs once per connection. Package-level state must
// cost next to nothing to set up: a switch instead of a map literal, a table built on first
// use (sync.OnceValue), no regexp.MustCompile, no registration at init, no dependency with a
// heavy initialiser. The test runs the real child path of the real binary, as the
// supervisor starts it, on one connection, and counts what the initialisers allocate.
func TestChildInitCost(t *testing.T) {
	bin := testbin.Path(t)
	if info, err := buildinfo.ReadFile(bin); err != nil {
		t.Fatal(err)
	} else if slices.ContainsFunc(info.Settings, func(s debug.BuildSetting) bool { return s.Key == "-cover" && s.Value == "true" }) {
		t.Skip("a coverage build (GOFLAGS=-cover) registers its counters at init: the budgets are for the real binary")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	accepted, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	connFile, err := accepted.(*net.TCPConn).File()
	accepted.Close()
	if err != nil {
		t.Fatal(err)
	}

	o := DefaultOptions()
	pf, engineFaults, err := o.validate()
	if err != nil {
		t.Fatal(err)
	}
	// The environment the supervisor gives a connection child, with inittrace on (first: the
	// runtime takes the first of duplicate variables).
	env := []string{"GODEBUG=inittrace=1"}
	for _, kv := range childBaseEnv() {
		if !strings.HasPrefix(kv, "GODEBUG=") {
			env = append(env, kv)
		}
	}
	env = append(env, childEnv+"="+kindConn, confEnv+"="+o.childConf(engineFaults, pf).encode())
	cmd := exec.Command(bin, "serve-child", kindConn)
	cmd.Env = env
	cmd.ExtraFiles = []*os.File{connFile} // fd 3
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Start()
	connFile.Close()
	if err != nil {
		t.Fatal(err)
	}
	exited := false
	defer func() {
		if !exited {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()

	client.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(client, get("/", true)); err != nil {
		t.Fatal(err)
	}
	resp, err := io.ReadAll(client)
	if err != nil {
		t.Fatalf("reading the child's response: %v (got %q)", err, resp)
	}
	if !bytes.HasPrefix(resp, []byte("HTTP/1.1 200 ")) {
		t.Fatalf("child answered %q; want a 200", resp)
	}
	err = cmd.Wait()
	exited = true
	if err != nil {
		t.Fatalf("child: %v\nstderr:\n%s", err, stderr.String())
	}

	var own, total struct{ allocs, bytes int }
	var ownPkgs []string
	traced := 0
	for line := range strings.Lines(stderr.String()) {
		m := initTraceLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		traced++
		b, _ := strconv.Atoi(m[2])
		a, _ := strconv.Atoi(m[3])
		total.allocs += a
		total.bytes += b
		if m[1] == "main" || strings.HasPrefix(m[1], "github.com/forkproof/forkproof/") {
			own.allocs += a
			own.bytes += b
			ownPkgs = append(ownPkgs, m[1]+": "+m[3]+" allocs, "+m[2]+" bytes")
		}
	}
	if traced == 0 {
		t.Fatalf("no inittrace line in the child's stderr:\n%s", stderr.String())
	}
	t.Logf("init of our packages: %d allocs, %d bytes (%s); whole binary: %d allocs, %d bytes",
		own.allocs, own.bytes, strings.Join(ownPkgs, "; "), total.allocs, total.bytes)
	if own.allocs > ownInitAllocs || own.bytes > ownInitBytes {
		t.Errorf("our packages' initialisers: %d allocs, %d bytes; budget %d allocs, %d bytes\n%s",
			own.allocs, own.bytes, ownInitAllocs, ownInitBytes, stderr.String())
	}
	if total.allocs > totalInitAllocs || total.bytes > totalInitBytes {
		t.Errorf("all initialisers: %d allocs, %d bytes; budget %d allocs, %d bytes\n%s",
			total.allocs, total.bytes, totalInitAllocs, totalInitBytes, stderr.String())
	}
}
