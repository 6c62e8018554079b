package hygiene

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/forkproof/forkproof/targets"
)

// The test binary doubles as a target for the hygiene tests: `hygiene.test
// forkproof-helper MODE PORT`. init runs before TestMain, so the helper never reaches the test
// framework. (Package targets' tests have the fuller helper, with the modes that test
// launching and stopping.)
func init() {
	if len(os.Args) > 1 && os.Args[1] == "forkproof-helper" {
		os.Exit(helperMain(os.Args[2:]))
	}
}

// kept holds descriptors the "leak" helper keeps open on purpose (and away from the GC).
var kept []*os.File

// helperMain serves GET / on 127.0.0.1:PORT in mode "http" (cleanly), "leak" (keeping a copy
// of every connection's socket) or "zombie" (leaving a zombie child per connection).
func helperMain(args []string) int {
	ln, err := net.Listen("tcp", "127.0.0.1:"+args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		return 1
	}
	fmt.Fprintln(os.Stderr, "listening on", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			return 1
		}
		helperServe(c, args[0])
	}
}

func helperServe(c net.Conn, mode string) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if line == "\r\n" {
			break
		}
	}
	if mode == "zombie" {
		// Started and never waited for: it stays a zombie.
		exec.Command("/bin/true").Start()
	}
	io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
	if mode == "leak" {
		// The client still sees the end (FIN), but a copy of the socket stays open here.
		c.(*net.TCPConn).CloseWrite()
		if f, err := c.(*net.TCPConn).File(); err == nil {
			kept = append(kept, f)
		}
	}
}

// launch starts a helper target and stops it at the end of the test, checking the stop.
func launch(t *testing.T, mode string) *targets.Target {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tgt, stop, err := targets.Launch(context.Background(), fmt.Sprintf("'%s' forkproof-helper %s {port}", exe, mode))
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

// get sends one GET / and reads the answer to the end.
func get(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("GET / on %s: %v", addr, err)
	}
	return string(b)
}
