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

// A read interrupted by a signal is retried with what is left of its timeout, counted from
// when the read began: when the whole timeout has passed, the retry reports a timeout even
// though data has arrived meanwhile (a fresh timeout would read it).
func TestReadAfterEINTRKeepsDeadline(t *testing.T) {
	c, peer := socketPair(t)
	const rto = 30 * time.Second
	if err := c.SetReadTimeout(rto); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(peer, []byte("x")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)

	n, err := c.readAfterEINTR(buf, time.Now().Add(-rto-time.Millisecond))
	if !errors.Is(err, os.ErrDeadlineExceeded) || n != 0 {
		t.Fatalf("retry after the whole timeout: %d bytes, %v; want a timeout", n, err)
	}
	if got := rcvTimeo(t, c.fd); got != rto {
		t.Errorf("SO_RCVTIMEO after the retry: %v; want %v restored", got, rto)
	}

	n, err = c.readAfterEINTR(buf, time.Now().Add(-rto/2))
	if err != nil || string(buf[:n]) != "x" {
		t.Fatalf("retry with half the timeout left: %q, %v; want \"x\"", buf[:n], err)
	}
	if got := rcvTimeo(t, c.fd); got != rto {
		t.Errorf("SO_RCVTIMEO after the retry: %v; want %v restored", got, rto)
	}
}

// With nothing to read, the retry waits out the rest of the timeout and reports it.
func TestReadAfterEINTRTimesOut(t *testing.T) {
	c, _ := socketPair(t)
	const rto = 50 * time.Millisecond
	if err := c.SetReadTimeout(rto); err != nil {
		t.Fatal(err)
	}
	n, err := c.readAfterEINTR(make([]byte, 8), time.Now())
	if !errors.Is(err, os.ErrDeadlineExceeded) || n != 0 {
		t.Fatalf("retry with nothing to read: %d bytes, %v; want a timeout", n, err)
	}
}

// Without a timeout the retry just reads.
func TestReadAfterEINTRNoTimeout(t *testing.T) {
	c, peer := socketPair(t)
	unix.Write(peer, []byte("yz"))
	buf := make([]byte, 8)
	n, err := c.readAfterEINTR(buf, time.Time{})
	if err != nil || string(buf[:n]) != "yz" {
		t.Fatalf("retry without a timeout: %q, %v; want \"yz\"", buf[:n], err)
	}
	if got := rcvTimeo(t, c.fd); got != 0 {
		t.Errorf("SO_RCVTIMEO: %v; want none", got)
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
