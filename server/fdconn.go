package server

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"time"
	"unsafe"

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

// fdConn is a connection over a raw socket fd, used in the child processes. Every read and
// write is tried at once without blocking (MSG_DONTWAIT, so the fd's own flags stay as they
// are) and only when it would block does the child wait in poll(2) with what is left of the
// timeout. A request that is already there — the common case for a fresh connection — costs
// one recv and one send, with no setsockopt for timeouts, and the child never starts the
// runtime's network poller.
type fdConn struct {
	fd       int
	rto, wto time.Duration
	closed   bool
	notSock  bool // a pipe or file (tests): made non-blocking, plain read/write

	// beforeBlock, when set, is called once before the first read that would block.
	beforeBlock func()
}

func newFDConn(fd int) *fdConn { return &fdConn{fd: fd} }

// Read reads what is there, waiting up to the read timeout (counted once, from the start of
// the call, however often a signal interrupts the wait) when nothing is.
func (c *fdConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var deadline time.Time
	for {
		n, err := c.recv(p)
		switch {
		case err == nil && n == 0:
			return 0, io.EOF
		case err == nil:
			return n, nil
		case err == unix.EINTR:
			continue
		case err != unix.EAGAIN:
			return 0, opError("read", err)
		}
		if c.beforeBlock != nil {
			f := c.beforeBlock
			c.beforeBlock = nil
			f()
			continue // data may have come meanwhile
		}
		if deadline.IsZero() && c.rto > 0 {
			deadline = time.Now().Add(c.rto)
		}
		if err := c.wait(unix.POLLIN, deadline); err != nil {
			if err == errTimedOut {
				return 0, errReadTimeout
			}
			return 0, err
		}
	}
}

// Write writes all of p. The write timeout bounds each wait that makes no progress: a slow
// reader that keeps taking bytes is served, one that stops is dropped.
func (c *fdConn) Write(p []byte) (int, error) {
	written := 0
	var deadline time.Time
	for written < len(p) {
		n, err := c.send(p[written:])
		if n > 0 {
			written += n
			deadline = time.Time{}
		}
		switch {
		case err == nil, err == unix.EINTR:
			continue
		case err != unix.EAGAIN:
			return written, opError("write", err)
		}
		if deadline.IsZero() && c.wto > 0 {
			deadline = time.Now().Add(c.wto)
		}
		if err := c.wait(unix.POLLOUT, deadline); err != nil {
			if err == errTimedOut {
				return written, errWriteTimeout
			}
			return written, err
		}
	}
	return written, nil
}

var errTimedOut = errors.New("timed out")

// wait polls the fd for events until deadline (zero: no deadline). It returns nil when the fd
// is ready (or has an error or hang-up for the next recv/send to report), errTimedOut when
// the deadline passes. A signal restarts the wait with what is left.
func (c *fdConn) wait(events int16, deadline time.Time) error {
	for {
		ms := -1
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return errTimedOut
			}
			ms = pollMS(left)
		}
		fds := [1]unix.PollFd{{Fd: int32(c.fd), Events: events}}
		n, err := unix.Poll(fds[:], ms)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return opError("poll", err)
		case n > 0:
			return nil
		}
	}
}

// recv reads without blocking.
func (c *fdConn) recv(p []byte) (int, error) {
	if !c.notSock {
		n, _, errno := unix.Syscall6(unix.SYS_RECVFROM, uintptr(c.fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), unix.MSG_DONTWAIT, 0, 0)
		if errno != unix.ENOTSOCK {
			if errno != 0 {
				return 0, errno
			}
			return int(n), nil
		}
		if err := c.useNonblocking(); err != nil {
			return 0, err
		}
	}
	n, err := unix.Read(c.fd, p)
	return max(n, 0), err
}

// send writes without blocking, and without SIGPIPE on a connection the peer has closed.
func (c *fdConn) send(p []byte) (int, error) {
	if !c.notSock {
		n, _, errno := unix.Syscall6(unix.SYS_SENDTO, uintptr(c.fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, 0, 0)
		if errno != unix.ENOTSOCK {
			if errno != 0 {
				return 0, errno
			}
			return int(n), nil
		}
		if err := c.useNonblocking(); err != nil {
			return 0, err
		}
	}
	n, err := unix.Write(c.fd, p)
	return max(n, 0), err
}

func (c *fdConn) useNonblocking() error {
	c.notSock = true
	return unix.SetNonblock(c.fd, true)
}

func opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Err: os.NewSyscallError(op, err)}
}

// SetReadTimeout bounds each subsequent read's wait; 0 means no timeout. No syscall: the
// timeout is applied by poll when a read has to wait.
func (c *fdConn) SetReadTimeout(d time.Duration) error {
	c.rto = max(d, 0)
	return nil
}

// SetWriteTimeout bounds each subsequent write's wait for progress; 0 means no timeout.
func (c *fdConn) SetWriteTimeout(d time.Duration) error {
	c.wto = max(d, 0)
	return nil
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
// Read or Write call, through the net.Conn's deadlines (fdConn waits in poll instead).
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
