package targets

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/forkproof/forkproof/internal/helpertarget"
	"github.com/forkproof/forkproof/internal/testbin"
)

// The test binary doubles as a target: `targets.test forkproof-helper MODE [PORT]`, or
// `targets.test serve -addr 127.0.0.1:0 …` (what LaunchBinary runs). init runs before
// TestMain, so the helper never reaches the test framework.
func init() {
	if len(os.Args) > 1 && os.Args[1] == "forkproof-helper" {
		os.Exit(helpertarget.Main(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		os.Exit(helpertarget.Main([]string{"http", "0"}))
	}
}

func helperCmd(t *testing.T, mode string) string { t.Helper(); return helpertarget.Cmd(t, mode) }

func get(t *testing.T, addr string) string { t.Helper(); return helpertarget.Get(t, addr) }

// noChildren fails when this test process still has a child (live or zombie) after a stop.
func noChildren(t *testing.T) {
	t.Helper()
	if kids := testbin.Children(); len(kids) > 0 {
		t.Errorf("children left after stop: %v", kids)
	}
}

// dead waits for pid to be gone (or a zombie its new parent has yet to reap).
func dead(pid int, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return true
		}
		if f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:])); len(f) > 0 && f[0] == "Z" {
			return true
		}
		time.Sleep(10 * time.Millisecond) // polling a state with a deadline
	}
	return false
}

func TestSplitCommand(t *testing.T) {
	tests := []struct {
		in    string
		want  []string
		shell bool // needs a shell
		bad   bool // a plain error
	}{
		{in: "srv -p 80", want: []string{"srv", "-p", "80"}},
		{in: "  srv\t-p   80  ", want: []string{"srv", "-p", "80"}},
		{in: `srv 'a b' "c d"`, want: []string{"srv", "a b", "c d"}},
		{in: `srv a\ b 'it''s' "q\"q" "back\\slash" "keep\n"`, want: []string{"srv", "a b", "its", `q"q`, `back\slash`, `keep\n`}},
		{in: `srv ''`, want: []string{"srv", ""}},
		{in: `srv 'x|y;z&$'`, want: []string{"srv", "x|y;z&$"}},
		{in: `FOO=1 srv --opt=2`, want: []string{"FOO=1", "srv", "--opt=2"}},
		{in: "srv a#b", want: []string{"srv", "a#b"}},
		{in: "srv | tee log", shell: true},
		{in: "srv > log", shell: true},
		{in: "srv $HOME", shell: true},
		{in: `srv "$HOME"`, shell: true},
		{in: "srv; other", shell: true},
		{in: "srv # comment", shell: true},
		{in: "srv 'open", bad: true},
		{in: `srv "open`, bad: true},
		{in: `srv \`, bad: true},
		{in: "   ", bad: true},
	}
	for _, tt := range tests {
		got, err := SplitCommand(tt.in)
		switch {
		case tt.shell:
			if err == nil || !strings.Contains(err.Error(), "needs a shell") {
				t.Errorf("For %q, SplitCommand = %q, %v; want a needs-a-shell error", tt.in, got, err)
			}
		case tt.bad:
			if err == nil || strings.Contains(err.Error(), "needs a shell") {
				t.Errorf("For %q, SplitCommand = %q, %v; want a syntax error", tt.in, got, err)
			}
		case err != nil || !reflect.DeepEqual(got, tt.want):
			t.Errorf("For %q, SplitCommand = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestSplitAssignments(t *testing.T) {
	env, rest := splitAssignments([]string{"A=1", "_B2=x=y", "srv", "C=3"})
	if !reflect.DeepEqual(env, []string{"A=1", "_B2=x=y"}) || !reflect.DeepEqual(rest, []string{"srv", "C=3"}) {
		t.Errorf("splitAssignments = %q, %q", env, rest)
	}
	env, rest = splitAssignments([]string{"./srv=1", "x"})
	if env != nil || len(rest) != 2 {
		t.Errorf("a path with '=' is not an assignment: got %q, %q", env, rest)
	}
}

func TestLaunchServesAndStops(t *testing.T) {
	tgt, stop, err := Launch(context.Background(), helperCmd(t, "http"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop() }) // if a check fails first; stop runs once
	if got := get(t, tgt.Addr); !strings.HasPrefix(got, "HTTP/1.1 200 OK") {
		t.Errorf("GET / = %q; want a 200", got)
	}
	if !strings.HasPrefix(tgt.Addr, "127.0.0.1:") || strings.Contains(tgt.Cmd, "{port}") || !strings.Contains(tgt.Cmd, tgt.Addr[len("127.0.0.1:"):]) {
		t.Errorf("target = %+v; want a loopback address whose port is in Cmd", tgt)
	}
	// The PID is the server's own, not a wrapper shell's.
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", tgt.PID))
	if err != nil || !strings.Contains(string(cmdline), "forkproof-helper") {
		t.Errorf("/proc/%d/cmdline = %q, %v; want the helper itself", tgt.PID, cmdline, err)
	}
	if pgid, err := syscall.Getpgid(tgt.PID); err != nil || pgid != tgt.PID {
		t.Errorf("Getpgid(%d) = %d, %v; want its own group", tgt.PID, pgid, err)
	}
	if err := stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	if err := stop(); err != nil { // idempotent
		t.Errorf("second stop: %v", err)
	}
	noChildren(t)
	if err := Reachable(context.Background(), tgt.Addr, time.Second); err == nil {
		t.Errorf("%s still accepts after stop", tgt.Addr)
	}
}

func TestLaunchEnvironmentAndShell(t *testing.T) {
	exe, _ := os.Executable()
	for _, cmd := range []string{
		fmt.Sprintf("FORKPROOF_HELPER_GREETING=hi '%s' forkproof-helper http {port}", exe),
		// Shell syntax: run through sh -c 'exec …', still no wrapper shell left.
		fmt.Sprintf("'%s' forkproof-helper http {port} 2>&1", exe),
	} {
		tgt, stop, err := Launch(context.Background(), cmd)
		if err != nil {
			t.Fatalf("Launch(%q): %v", cmd, err)
		}
		t.Cleanup(func() { stop() }) // if a check fails first; stop runs once
		get(t, tgt.Addr)
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", tgt.PID))
		if !strings.Contains(string(comm), "forkproof-helper") {
			t.Errorf("For %q, the target PID runs %q; want the helper", cmd, comm)
		}
		if err := stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
		if strings.HasPrefix(cmd, "FORKPROOF") && !strings.Contains(tgt.Stderr(), "greeting hi") {
			t.Errorf("For %q, stderr = %q; want the variable seen by the target", cmd, tgt.Stderr())
		}
	}
	noChildren(t)
}

func TestLaunchExitsAtOnce(t *testing.T) {
	_, _, err := Launch(context.Background(), helperCmd(t, "exit"))
	if err == nil {
		t.Fatal("Launch of a target that exits at once succeeded")
	}
	for _, want := range []string{"exited before accepting", "exit status 3", "helper: cannot start: bad config"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error = %q; want it to contain %q", err, want)
		}
	}
	noChildren(t)
}

func TestLaunchNeverAccepts(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, _, err := Launch(ctx, helperCmd(t, "silent"))
	if err == nil || !strings.Contains(err.Error(), "did not accept") {
		t.Fatalf("Launch of a silent target: %v; want a did-not-accept error", err)
	}
	noChildren(t)
}

func TestLaunchBadCommands(t *testing.T) {
	for _, cmd := range []string{"srv -p 80", "'unterminated {port}", "/nonexistent/forkproof-target {port}", "A=1 {port}=x"} {
		if _, _, err := Launch(context.Background(), cmd); err == nil {
			t.Errorf("Launch(%q) succeeded; want an error", cmd)
		}
	}
	noChildren(t)
}

func TestStopKillsTheGroup(t *testing.T) {
	tgt, stop, err := Launch(context.Background(), helperCmd(t, "spawn"))
	if err != nil {
		t.Fatal(err)
	}
	var child int
	deadline := time.Now().Add(5 * time.Second)
	for child == 0 && time.Now().Before(deadline) {
		for _, l := range strings.Split(tgt.Stderr(), "\n") {
			fmt.Sscanf(l, "child %d", &child)
		}
		if child == 0 {
			time.Sleep(10 * time.Millisecond) // polling a state with a deadline
		}
	}
	if err := stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	if child == 0 {
		t.Fatalf("helper never named its child; stderr %q", tgt.Stderr())
	}
	if !dead(child, 5*time.Second) {
		t.Errorf("grandchild %d still alive after the target was stopped", child)
		syscall.Kill(child, syscall.SIGKILL)
	}
	noChildren(t)
}

func TestStopEscalatesToKill(t *testing.T) {
	tgt, stop, err := Launch(context.Background(), helperCmd(t, "noterm"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop() }) // if a check fails first; stop runs once
	get(t, tgt.Addr)
	if err := stop(); err == nil || !strings.Contains(err.Error(), "SIGTERM") {
		t.Errorf("stop of a target ignoring SIGTERM = %v; want a killed-after-grace error", err)
	}
	noChildren(t)
}

func TestLaunchBinaryReadsListeningLine(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tgt, stop, err := LaunchBinary(context.Background(), exe)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
		noChildren(t)
	}()
	if got := get(t, tgt.Addr); !strings.HasPrefix(got, "HTTP/1.1 200") {
		t.Errorf("GET / on %s = %q", tgt.Addr, got)
	}
	if !strings.Contains(tgt.Cmd, "serve -addr 127.0.0.1:0 -mode fork") || tgt.PID <= 0 {
		t.Errorf("target = %+v", tgt)
	}
}

func TestReachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := Reachable(context.Background(), addr, time.Second); err != nil {
		t.Errorf("Reachable(%s) = %v on a listening port", addr, err)
	}
	ln.Close()
	if err := Reachable(context.Background(), addr, time.Second); err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("Reachable(%s) = %v on a closed port; want unreachable", addr, err)
	}
	if err := Reachable(context.Background(), "no-port", time.Second); err == nil {
		t.Error("Reachable(no-port) succeeded")
	}
}

func TestRingBufferKeepsTail(t *testing.T) {
	b := newRingBuffer(8)
	b.Write([]byte("0123456"))
	b.Write([]byte("789ab"))
	if got, want := b.String(), "[… 4 earlier bytes dropped]\n456789ab"; got != want {
		t.Errorf("ring = %q; want %q", got, want)
	}
}

// A reference binary that says a lot before "listening on" is still heard: the line used to
// be dropped once 16 earlier lines filled a buffer, and the launch timed out with the line in
// the stderr it quoted.
func TestLaunchBinaryHearsListeningAfterNoise(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	script := filepath.Join(t.TempDir(), "noisy")
	body := "#!/bin/sh\ni=0\nwhile [ $i -lt 100 ]; do echo \"noise $i\" >&2; i=$((i+1)); done\n" +
		"echo \"listening on " + ln.Addr().String() + "\" >&2\nexec sleep 30\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	tg, stop, err := LaunchBinary(t.Context(), script)
	if err != nil {
		t.Fatalf("LaunchBinary: %v", err)
	}
	defer stop()
	if tg.Addr != ln.Addr().String() {
		t.Errorf("address %q; want %q", tg.Addr, ln.Addr())
	}
}
