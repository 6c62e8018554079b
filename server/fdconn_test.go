package server

import (
	"errors"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// socketPair returns the two ends of a connected stream socket pair, closed at cleanup.
func socketPair(t *testing.T) (*fdConn, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := newFDConn(fds[0])
	t.Cleanup(func() {
		if !c.closed {
			c.Close()
		}
		unix.Close(fds[1])
	})
	return c, fds[1]
}

func rcvTimeo(t *testing.T, fd int) time.Duration {
	t.Helper()
	tv, err := unix.GetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO)
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(tv.Nano())
}

// Timeouts are applied by poll when a read has to wait, not by SO_RCVTIMEO: setting one
// costs no syscall, and a read with nothing to read reports a timeout.
func TestReadTimeoutWithoutSetsockopt(t *testing.T) {
	c, _ := socketPair(t)
	if err := c.SetReadTimeout(30 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if got := rcvTimeo(t, c.fd); got != 0 {
		t.Errorf("SO_RCVTIMEO = %v; want none (timeouts live in poll)", got)
	}
	n, err := c.Read(make([]byte, 8))
	if !errors.Is(err, os.ErrDeadlineExceeded) || n != 0 {
		t.Fatalf("read with nothing to read: %d bytes, %v; want a timeout", n, err)
	}
}

// A read waits for data that comes later.
func TestReadWaitsForData(t *testing.T) {
	c, peer := socketPair(t)
	c.SetReadTimeout(10 * time.Second)
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 8)
		n, err := c.Read(buf)
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(buf[:n])
	}()
	unix.Write(peer, []byte("x"))
	if s := <-got; s != "x" {
		t.Fatalf("Read = %q; want \"x\"", s)
	}
}

// The deadline of a wait is absolute: a retried wait (after a signal) gets only what is left,
// and one whose deadline has passed reports a timeout at once, whatever is waiting.
func TestWaitDeadlineIsAbsolute(t *testing.T) {
	c, peer := socketPair(t)
	unix.Write(peer, []byte("x"))
	if err := c.wait(unix.POLLIN, time.Now().Add(-time.Millisecond)); err != errTimedOut {
		t.Fatalf("wait past its deadline: %v; want a timeout", err)
	}
	if err := c.wait(unix.POLLIN, time.Now().Add(10*time.Second)); err != nil {
		t.Fatalf("wait with data waiting: %v; want ready", err)
	}
	c2, _ := socketPair(t)
	if err := c2.wait(unix.POLLIN, time.Now().Add(20*time.Millisecond)); err != errTimedOut {
		t.Fatalf("wait with nothing to read: %v; want a timeout", err)
	}
}

// A peer that stops reading makes a large write time out with what was written so far; a
// peer that keeps reading gets everything.
func TestWriteTimeout(t *testing.T) {
	c, peer := socketPair(t)
	unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4096)
	c.SetWriteTimeout(30 * time.Millisecond)
	big := make([]byte, 4<<20)
	n, err := c.Write(big)
	if !errors.Is(err, os.ErrDeadlineExceeded) || n == 0 || n == len(big) {
		t.Fatalf("write to a stalled peer: %d of %d bytes, %v; want a timeout after some bytes", n, len(big), err)
	}

	c2, peer2 := socketPair(t)
	c2.SetWriteTimeout(10 * time.Second)
	read := make(chan int, 1)
	go func() {
		total := 0
		buf := make([]byte, 64<<10)
		for {
			k, err := unix.Read(peer2, buf)
			if k <= 0 || err != nil {
				read <- total
				return
			}
			total += k
		}
	}()
	if n, err := c2.Write(big); err != nil || n != len(big) {
		t.Fatalf("write to a reading peer: %d of %d bytes, %v", n, len(big), err)
	}
	c2.Close()
	if total := <-read; total != len(big) {
		t.Fatalf("the peer read %d bytes; want %d", total, len(big))
	}
	_ = peer
}

// A pipe (not a socket) works too: it is made non-blocking and read with read(2).
func TestPipeConn(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	r, w := newFDConn(p[0]), newFDConn(p[1])
	t.Cleanup(func() { r.Close(); w.Close() })
	r.SetReadTimeout(20 * time.Millisecond)
	if _, err := r.Read(make([]byte, 4)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read from an empty pipe: %v; want a timeout", err)
	}
	if _, err := w.Write([]byte("ok")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if n, err := r.Read(buf); err != nil || string(buf[:n]) != "ok" {
		t.Fatalf("read from the pipe: %q, %v; want \"ok\"", buf[:n], err)
	}
}

// beforeBlock runs once, and only when a read would block: a child whose request is already
// there never sets up its signal watch.
func TestBeforeBlock(t *testing.T) {
	c, peer := socketPair(t)
	calls := 0
	c.beforeBlock = func() { calls++ }
	unix.Write(peer, []byte("ab"))
	buf := make([]byte, 8)
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "ab" {
		t.Fatalf("read with data waiting: %q, %v; want \"ab\"", buf[:n], err)
	}
	if calls != 0 {
		t.Fatalf("beforeBlock called %d times for a read that did not block; want 0", calls)
	}
	c.SetReadTimeout(10 * time.Millisecond)
	if _, err := c.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read with nothing waiting: %v; want a timeout", err)
	}
	if calls != 1 {
		t.Fatalf("beforeBlock called %d times before a read that blocked; want 1", calls)
	}
	unix.Write(peer, []byte("c"))
	if _, err := c.Read(buf); err != nil {
		t.Fatal(err)
	}
	c.Read(buf) // times out again
	if calls != 1 {
		t.Fatalf("beforeBlock called %d times in all; want once", calls)
	}
	unix.Shutdown(peer, unix.SHUT_WR)
	if _, err := c.Read(buf); err == nil {
		t.Fatal("read after the peer's FIN: no error; want EOF")
	}
}
