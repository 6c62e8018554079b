package server

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// timeoutError is returned by a read or write that hit its timeout; it matches
// os.ErrDeadlineExceeded with errors.Is, like a net.Conn deadline error.
type timeoutError struct{ op string }

func (e *timeoutError) Error() string   { return e.op + ": i/o timeout" }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }
func (e *timeoutError) Unwrap() error   { return os.ErrDeadlineExceeded }

var (
	errReadTimeout  = &timeoutError{"read"}
	errWriteTimeout = &timeoutError{"write"}
)

// fdConn is a connection over a raw, blocking socket fd, used in the child processes: plain
// read(2)/write(2) with SO_RCVTIMEO/SO_SNDTIMEO for timeouts, so the child never starts the
// runtime's network poller.
type fdConn struct {
	fd       int
	rto, wto time.Duration
	closed   bool

	// beforeBlock, when set, is called once before the first read that would block.
	beforeBlock func()
}

func newFDConn(fd int) *fdConn { return &fdConn{fd: fd} }

func (c *fdConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if c.beforeBlock != nil {
		if n, done, err := c.readNow(p); done {
			return n, err
		}
		f := c.beforeBlock
		c.beforeBlock = nil
		f()
	}
	var start time.Time
	if c.rto > 0 {
		start = time.Now() // a vDSO call: cheap next to the read
	}
	n, err := unix.Read(c.fd, p)
	switch {
	case err == nil && n == 0:
		return 0, io.EOF
	case err == nil:
		return n, nil
	case err == unix.EAGAIN:
		return 0, errReadTimeout
	case err == unix.EINTR:
		return c.readAfterEINTR(p, start)
	}
	return 0, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", err)}
}

// readNow reads what is there without blocking; done is false when the read would block.
func (c *fdConn) readNow(p []byte) (n int, done bool, err error) {
	n, _, err = unix.Recvfrom(c.fd, p, unix.MSG_DONTWAIT)
	if err == unix.ENOTSOCK { // not a socket (a test's pipe or /dev/null): ask poll
		fds := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLIN}}
		if k, perr := unix.Poll(fds, 0); perr != nil || k == 0 {
			return 0, false, nil
		}
		n, err = unix.Read(c.fd, p)
	}
	switch {
	case err == nil && n == 0:
		return 0, true, io.EOF
	case err == nil:
		return n, true, nil
	case err == unix.EAGAIN, err == unix.EINTR:
		return 0, false, nil
	}
	return 0, true, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", err)}
}

// readAfterEINTR retries a read that started at start and was interrupted. Reads with
// SO_RCVTIMEO are not restarted after a signal (signal(7)), and the Go runtime sends
// signals for preemption, so the retry gets what is left of the timeout, counted from
// start, not a fresh one: the timeout stays absolute however often the read is interrupted.
// Rare path: it costs extra syscalls.
func (c *fdConn) readAfterEINTR(p []byte, start time.Time) (int, error) {
	var deadline time.Time
	if c.rto > 0 {
		deadline = start.Add(c.rto)
		defer c.setTimeout(unix.SO_RCVTIMEO, c.rto)
	}
	for {
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return 0, errReadTimeout
			}
			c.setTimeout(unix.SO_RCVTIMEO, left)
		}
		n, err := unix.Read(c.fd, p)
		switch {
		case err == nil && n == 0:
			return 0, io.EOF
		case err == nil:
			return n, nil
		case err == unix.EAGAIN:
			return 0, errReadTimeout
		case err == unix.EINTR:
			continue
		}
		return 0, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", err)}
	}
}

// Write writes all of p. The write timeout bounds each write(2) that makes no progress; an
// interrupted write is retried with what is left of its timeout, as readAfterEINTR does.
func (c *fdConn) Write(p []byte) (int, error) {
	written := 0
	var start time.Time
	if c.wto > 0 {
		start = time.Now()
	}
	retimed := false
	defer func() {
		if retimed {
			c.setTimeout(unix.SO_SNDTIMEO, c.wto)
		}
	}()
	for written < len(p) {
		n, err := unix.Write(c.fd, p[written:])
		if n > 0 {
			written += n
		}
		switch {
		case err == nil:
			if c.wto > 0 && written < len(p) {
				start = time.Now() // progress: the next write gets a whole timeout
				if retimed {
					c.setTimeout(unix.SO_SNDTIMEO, c.wto)
					retimed = false
				}
			}
			continue
		case err == unix.EINTR:
			if c.wto > 0 {
				left := c.wto - time.Since(start)
				if left <= 0 {
					return written, errWriteTimeout
				}
				c.setTimeout(unix.SO_SNDTIMEO, left)
				retimed = true
			}
			continue
		case err == unix.EAGAIN:
			return written, errWriteTimeout
		}
		return written, &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", err)}
	}
	return written, nil
}

func (c *fdConn) setTimeout(opt int, d time.Duration) error {
	if d < 0 {
		d = 0
	}
	tv := unix.NsecToTimeval(d.Nanoseconds())
	if d > 0 && tv.Sec == 0 && tv.Usec == 0 {
		tv.Usec = 1 // a tiny positive timeout must not become "no timeout"
	}
	return unix.SetsockoptTimeval(c.fd, unix.SOL_SOCKET, opt, &tv)
}

// SetReadTimeout bounds each subsequent read; 0 means no timeout.
func (c *fdConn) SetReadTimeout(d time.Duration) error {
	if d == c.rto {
		return nil
	}
	c.rto = d
	return c.setTimeout(unix.SO_RCVTIMEO, d)
}

// SetWriteTimeout bounds each subsequent write; 0 means no timeout.
func (c *fdConn) SetWriteTimeout(d time.Duration) error {
	if d == c.wto {
		return nil
	}
	c.wto = d
	return c.setTimeout(unix.SO_SNDTIMEO, d)
}

func (c *fdConn) CloseRead() error  { return unix.Shutdown(c.fd, unix.SHUT_RD) }
func (c *fdConn) CloseWrite() error { return unix.Shutdown(c.fd, unix.SHUT_WR) }

// Pending reports whether bytes are waiting to be read, without blocking.
func (c *fdConn) Pending() bool {
	var b [1]byte
	n, _, err := unix.Recvfrom(c.fd, b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	return err == nil && n > 0
}

func (c *fdConn) Close() error {
	if c.closed {
		return errors.New("close: connection already closed")
	}
	c.closed = true
	return unix.Close(c.fd)
}

// netConn adapts a net.Conn (goroutine mode) to the engine's Conn: a timeout applies to each
// read or write, like SO_RCVTIMEO does for fdConn.
type netConn struct {
	c        net.Conn
	rto, wto time.Duration
}

func (c *netConn) Read(p []byte) (int, error) {
	if c.rto > 0 {
		c.c.SetReadDeadline(time.Now().Add(c.rto))
	}
	return c.c.Read(p)
}

func (c *netConn) Write(p []byte) (int, error) {
	if c.wto > 0 {
		c.c.SetWriteDeadline(time.Now().Add(c.wto))
	}
	return c.c.Write(p)
}

func (c *netConn) SetReadTimeout(d time.Duration) error {
	c.rto = d
	if d <= 0 {
		return c.c.SetReadDeadline(time.Time{})
	}
	return nil
}

func (c *netConn) SetWriteTimeout(d time.Duration) error {
	c.wto = d
	if d <= 0 {
		return c.c.SetWriteDeadline(time.Time{})
	}
	return nil
}

func (c *netConn) CloseRead() error {
	if tc, ok := c.c.(*net.TCPConn); ok {
		return tc.CloseRead()
	}
	return c.c.SetReadDeadline(time.Unix(1, 0))
}

func (c *netConn) CloseWrite() error {
	if tc, ok := c.c.(*net.TCPConn); ok {
		return tc.CloseWrite()
	}
	return nil
}

// Pending reports whether bytes are waiting to be read, without blocking.
func (c *netConn) Pending() bool {
	sc, ok := c.c.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	// Control, not Read: RawConn.Read takes the read lock, so it would wait for a Read
	// blocked for the next request, which is just when the drain asks (for up to the idle
	// timeout, holding up shutdown).
	pending := false
	raw.Control(func(fd uintptr) {
		var b [1]byte
		n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		pending = err == nil && n > 0
	})
	return pending
}

func (c *netConn) Close() error { return c.c.Close() }
