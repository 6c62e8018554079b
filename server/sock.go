package server

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// listenTCP opens a listening TCP socket on addr ("host:port"; port 0 picks a free one) and
// returns its fd and the address it is bound to. The socket is close-on-exec, so no child
// inherits it unless it is handed over explicitly.
func listenTCP(addr string, backlog int, nonblock bool) (int, string, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return -1, "", fmt.Errorf("address %q: %v", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return -1, "", fmt.Errorf("address %q: bad port %q", addr, portStr)
	}
	ip, err := resolveHost(host)
	if err != nil {
		return -1, "", fmt.Errorf("address %q: %v", addr, err)
	}
	family := unix.AF_INET
	var sa unix.Sockaddr
	if ip4 := ip.To4(); ip4 != nil {
		s := &unix.SockaddrInet4{Port: port}
		copy(s.Addr[:], ip4)
		sa = s
	} else {
		family = unix.AF_INET6
		s := &unix.SockaddrInet6{Port: port}
		copy(s.Addr[:], ip.To16())
		sa = s
	}
	typ := unix.SOCK_STREAM | unix.SOCK_CLOEXEC
	if nonblock {
		typ |= unix.SOCK_NONBLOCK
	}
	fd, err := unix.Socket(family, typ, 0)
	if err != nil {
		return -1, "", fmt.Errorf("socket: %w", err)
	}
	fail := func(op string, err error) (int, string, error) {
		unix.Close(fd)
		return -1, "", fmt.Errorf("%s %s: %w", op, addr, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return fail("setsockopt SO_REUSEADDR", err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	if err := unix.Listen(fd, backlog); err != nil {
		return fail("listen", err)
	}
	bound, err := unix.Getsockname(fd)
	if err != nil {
		return fail("getsockname", err)
	}
	return fd, sockaddrString(bound), nil
}

func resolveHost(host string) (net.IP, error) {
	switch host {
	case "":
		return net.IPv4zero, nil
	case "localhost":
		return net.IPv4(127, 0, 0, 1), nil
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip, nil
	}
	ips, err := net.LookupIP(host)
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("host %q has no address", host)
	}
	return ips[0], nil
}

func sockaddrString(sa unix.Sockaddr) string {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port))
	case *unix.SockaddrInet6:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port))
	}
	return fmt.Sprint(sa)
}

// acceptResult classifies one accept attempt.
type acceptResult int

const (
	acceptOK      acceptResult = iota
	acceptAgain                // nothing ready (non-blocking socket): wait for readiness
	acceptRetry                // transient per-connection failure: try again at once
	acceptBackoff              // out of fds or memory: wait before retrying, do not spin
	acceptFatal
)

// accept takes one connection off fd's queue, close-on-exec, and says what to do next.
func accept(fd int) (int, acceptResult, error) {
	// accept4(2) directly, without asking for the peer's address: unix.Accept4 converts the
	// address and, for AF_INET, spends a getsockopt(SO_PROTOCOL) on every connection doing so.
	r, _, errno := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(fd), 0, 0, unix.SOCK_CLOEXEC, 0, 0)
	if errno == 0 {
		return int(r), acceptOK, nil
	}
	var err error = errno
	switch {
	case errors.Is(err, unix.EAGAIN):
		return -1, acceptAgain, err
	case errors.Is(err, unix.EINTR), errors.Is(err, unix.ECONNABORTED), errors.Is(err, unix.EPROTO),
		errors.Is(err, unix.EPERM): // EPERM: firewall rules refused this one connection
		return -1, acceptRetry, err
	case exhausted(err):
		return -1, acceptBackoff, err
	}
	return -1, acceptFatal, err
}

// peerGone reports whether a connection just accepted is already over: the client reset it,
// or closed it without sending a byte. A connection with data pending, or none yet, is not.
func peerGone(fd int) bool {
	var b [1]byte
	for {
		n, _, err := unix.Recvfrom(fd, b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err == nil:
			return n == 0 // end of stream before any data
		}
		return errors.Is(err, unix.ECONNRESET)
	}
}

// exhausted reports an error that says the process or the system is out of fds, buffers or
// memory: retrying at once would only spin, waiting a little may help.
func exhausted(err error) bool {
	return errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) || errors.Is(err, unix.ENOBUFS) ||
		errors.Is(err, unix.ENOMEM)
}

// pollMS converts a timeout to poll(2)'s and epoll_wait(2)'s milliseconds, rounding up so
// that a wait never ends early; negative means no timeout (-1).
func pollMS(d time.Duration) int {
	if d < 0 {
		return -1
	}
	return int((d + time.Millisecond - 1) / time.Millisecond)
}

// backoff doubles a wait from 10ms up to 1s; reset it after a success.
type backoff struct{ d time.Duration }

func (b *backoff) next() time.Duration {
	if b.d == 0 {
		b.d = 10 * time.Millisecond
	} else if b.d < time.Second {
		b.d *= 2
		if b.d > time.Second {
			b.d = time.Second
		}
	}
	return b.d
}

func (b *backoff) reset() { b.d = 0 }
