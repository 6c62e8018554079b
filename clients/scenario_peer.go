package clients

import (
	"encoding/binary"
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// Knowing when the server has read what was sent. A split request only tests "the server
// waits for the rest" if the server has read the first piece alone; a fixed pause does not
// promise that (a forking server's child may start after the second piece has arrived, and
// then one recv() gets both). For a server on this host, the kernel says how many bytes wait
// unread in the server's socket: sock_diag (the netlink interface ss(8) uses) looks the
// socket up by its four-tuple and reports its receive queue. (/proc/net/tcp has the same
// figure, but lists every socket of the host: tens of thousands of TIME_WAIT lines after a
// test run, 150ms a read.)

// PeerUnread returns how many bytes sent on c the server has not read yet, and whether that
// could be known (false for a server on another host, or without sock_diag).
func PeerUnread(c *Conn) (int, bool) {
	fd, ok := openDiag()
	if !ok {
		return 0, false
	}
	defer unix.Close(fd)
	return peerUnread(fd, c)
}

// openDiag opens a sock_diag netlink socket whose reads give up after a second.
func openDiag() (int, bool) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return 0, false
	}
	tv := unix.NsecToTimeval(time.Second.Nanoseconds())
	if unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv) != nil {
		unix.Close(fd)
		return 0, false
	}
	return fd, true
}

// peerUnread asks the sock_diag socket fd for the server's receive queue on c.
func peerUnread(fd int, c *Conn) (int, bool) {
	local, ok1 := c.nc.LocalAddr().(*net.TCPAddr)
	remote, ok2 := c.nc.RemoteAddr().(*net.TCPAddr)
	if !ok1 || !ok2 {
		return 0, false
	}
	// The server's socket: its source is our remote end, its destination our local end.
	return diagRecvQueue(fd, remote, local)
}

// diagRecvQueue asks sock_diag (on fd) for the TCP socket src→dst and returns its receive
// queue.
func diagRecvQueue(fd int, src, dst *net.TCPAddr) (int, bool) {
	rq, _, ok := diagQueues(fd, src, dst)
	return rq, ok
}

// ListenQueue returns how many finished connections wait in the accept queue of the
// listening socket at addr (a host:port on this host) and the backlog that bounds it, as
// ss -lt shows them (Recv-Q, Send-Q); ok is false when that cannot be known.
func ListenQueue(addr string) (queued, backlog int, ok bool) {
	a, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return 0, 0, false
	}
	fd, ok := openDiag()
	if !ok {
		return 0, 0, false
	}
	defer unix.Close(fd)
	// A listener is found by its local address and a wildcard peer.
	any := &net.TCPAddr{IP: net.IPv4zero}
	if a.IP.To4() == nil {
		any.IP = net.IPv6zero
	}
	return diagQueues(fd, a, any)
}

// diagQueues asks sock_diag (on fd) for the TCP socket src→dst and returns its receive and
// send queues (for a listener: its accept queue and its backlog).
func diagQueues(fd int, src, dst *net.TCPAddr) (rq, wq int, ok bool) {
	family := unix.AF_INET
	s4, d4 := src.IP.To4(), dst.IP.To4()
	sIP, dIP := []byte(s4), []byte(d4)
	if s4 == nil || d4 == nil {
		family = unix.AF_INET6
		sIP, dIP = src.IP.To16(), dst.IP.To16()
		if sIP == nil || dIP == nil {
			return 0, 0, false
		}
	}
	// struct nlmsghdr (16) + struct inet_diag_req_v2 (56).
	req := make([]byte, 16+56)
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:], sockDiagByFamily)
	binary.NativeEndian.PutUint16(req[6:], unix.NLM_F_REQUEST)
	binary.NativeEndian.PutUint32(req[8:], 1) // sequence
	r := req[16:]
	r[0], r[1] = byte(family), unix.IPPROTO_TCP
	binary.NativeEndian.PutUint32(r[4:], 0xffffffff) // every state
	id := r[8:]                                      // struct inet_diag_sockid
	binary.BigEndian.PutUint16(id[0:], uint16(src.Port))
	binary.BigEndian.PutUint16(id[2:], uint16(dst.Port))
	copy(id[4:20], sIP)
	copy(id[20:36], dIP)
	binary.NativeEndian.PutUint32(id[40:], 0xffffffff) // INET_DIAG_NOCOOKIE: look up by address
	binary.NativeEndian.PutUint32(id[44:], 0xffffffff)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, 0, false
	}
	buf := make([]byte, 8192)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	// The answer: struct nlmsghdr, then struct inet_diag_msg, whose idiag_rqueue follows
	// family/state/timer/retrans (4), the sockid (48) and idiag_expires (4); idiag_wqueue
	// follows it.
	const rqueue = 16 + 4 + 48 + 4
	if err != nil || n < rqueue+8 || binary.NativeEndian.Uint16(buf[4:]) != sockDiagByFamily {
		return 0, 0, false // NLMSG_ERROR: no such socket (not on this host), or no sock_diag
	}
	return int(binary.NativeEndian.Uint32(buf[rqueue:])), int(binary.NativeEndian.Uint32(buf[rqueue+4:])), true
}

// sockDiagByFamily is SOCK_DIAG_BY_FAMILY from linux/sock_diag.h.
const sockDiagByFamily = 20

// WaitPeerRead polls until the server has read everything sent on c, or timeout passes. It
// reports whether the server was seen to have read it all; false also when that cannot be
// known (then the caller's pause is all there is).
func WaitPeerRead(c *Conn, timeout time.Duration) bool {
	fd, ok := openDiag() // one socket for every poll
	if !ok {
		return false
	}
	defer unix.Close(fd)
	deadline := time.Now().Add(timeout)
	for {
		n, known := peerUnread(fd, c)
		if !known {
			return false
		}
		if n == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond) // polling the kernel's state, with the deadline above
	}
}
