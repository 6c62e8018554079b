package server

import (
	"net"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestPeerGone(t *testing.T) {
	lfd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(lfd)
	if err := unix.Bind(lfd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(lfd, 16); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(lfd)
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*unix.SockaddrInet4).Port))
	for _, tt := range []struct {
		name string
		do   func(c *net.TCPConn)
		want bool
	}{
		{"reset", func(c *net.TCPConn) { c.SetLinger(0); c.Close() }, true},
		{"closed without data", func(c *net.TCPConn) { c.Close() }, true},
		{"request then close", func(c *net.TCPConn) { c.Write([]byte("GET / HTTP/1.0\r\n\r\n")); c.Close() }, false},
		{"open, nothing yet", func(c *net.TCPConn) {}, false},
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		tt.do(c.(*net.TCPConn))
		var fd int
		deadline := time.Now().Add(5 * time.Second)
		for {
			var res acceptResult
			fd, res, _ = accept(lfd)
			if res == acceptOK || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Millisecond) // polling the accept queue, with a deadline
		}
		if fd < 0 {
			t.Fatalf("%s: nothing to accept", tt.name)
		}
		// What the client did reaches the accepted socket a moment later: poll for the state
		// we expect, within a deadline, before judging.
		got := peerGone(fd)
		for got != tt.want && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
			got = peerGone(fd)
		}
		unix.Close(fd)
		c.Close()
		if got != tt.want {
			t.Errorf("%s: peerGone = %v; want %v", tt.name, got, tt.want)
		}
	}
}
