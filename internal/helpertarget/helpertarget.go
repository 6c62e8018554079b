// Package helpertarget is a tiny HTTP target for tests that launch and judge a process: a test
// binary doubles as it when started as `X.test forkproof-helper MODE [PORT]`. The test
// package's init calls Main before the test framework starts:
//
//	func init() {
//		if len(os.Args) > 1 && os.Args[1] == "forkproof-helper" {
//			os.Exit(helpertarget.Main(os.Args[2:]))
//		}
//	}
package helpertarget

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"
)

// kept holds descriptors the "leak" mode keeps open on purpose (and away from the GC).
var kept []*os.File

// Main runs the helper: MODE [PORT]. It listens on 127.0.0.1:PORT (0 when absent), says
// "listening on ADDR" on stderr and answers each connection's request with 200 and a close.
// Modes: "http" (cleanly), "leak" (keeps a copy of every connection's socket), "zombie"
// (leaves a zombie child per connection), "exit" (fails at start, exit status 3), "silent"
// (never listens), "spawn" (starts a silent child first and names it on stderr), "noterm"
// (ignores SIGTERM). FORKPROOF_HELPER_GREETING, when set, is echoed on stderr first.
func Main(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "helper: want MODE [PORT]")
		return 2
	}
	if g := os.Getenv("FORKPROOF_HELPER_GREETING"); g != "" {
		fmt.Fprintln(os.Stderr, "greeting", g)
	}
	mode := args[0]
	switch mode {
	case "exit":
		fmt.Fprintln(os.Stderr, "helper: cannot start: bad config")
		return 3
	case "silent":
		time.Sleep(time.Hour)
		return 0
	case "spawn":
		child := exec.Command(os.Args[0], "forkproof-helper", "silent")
		if err := child.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "spawn:", err)
			return 1
		}
		fmt.Fprintln(os.Stderr, "child", child.Process.Pid)
	case "noterm":
		signal.Ignore(syscall.SIGTERM)
	}
	port := "0"
	if len(args) > 1 {
		port = args[1]
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
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
		serve(c, mode)
	}
}

func serve(c net.Conn, mode string) {
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

// Cmd is a -target-cmd line running this test binary as the helper in mode.
func Cmd(tb testing.TB, mode string) string {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("'%s' forkproof-helper %s {port}", exe, mode)
}

// Get sends one GET / to addr and reads the answer to the end.
func Get(tb testing.TB, addr string) string {
	tb.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	b, err := io.ReadAll(c)
	if err != nil {
		tb.Fatalf("GET / on %s: %v", addr, err)
	}
	return string(b)
}
