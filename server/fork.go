package server

import (
	"context"
	"errors"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// runFork is fork mode: the parent accepts, starts a fresh child per connection with the
// connection as fd 3, and closes its own copy at once.
func runFork(ctx context.Context, o *Options, lfd int, addr string, conf childConf, pf procFaults) error {
	defer lockForkThread()()
	s, err := newSupervisor(conf, o.Log, pf.noReap)
	if err != nil {
		unix.Close(lfd)
		return err
	}
	defer s.close()
	if !pf.noReap {
		s.wakeOnExitFrom(o.MaxChildren)
	}
	go func() { <-ctx.Done(); s.notify() }()
	ready(o, addr)

	var bo backoff
	for ctx.Err() == nil {
		if !pf.noReap && s.live() >= o.MaxChildren {
			s.wait(-1, -1) // at the cap: the kernel backlog holds new connections
			continue
		}
		if acceptOne(o, s, lfd, pf, &bo) == acceptAgain {
			s.wait(lfd, -1)
		}
	}
	deadline := time.Now().Add(o.Grace)
	drainQueue(o, s, lfd, pf)
	unix.Close(lfd)
	s.shutdown(deadline)
	return nil
}

// drainQueue serves the connections still queued on the listening socket: the kernel
// completed them before we stopped, and closing the socket would reset them. Each gets a
// connection child that starts draining at once (requests already sent are answered).
func drainQueue(o *Options, s *supervisor, lfd int, pf procFaults) {
	var bo backoff
	for {
		switch acceptOne(o, s, lfd, pf, &bo) {
		case acceptOK, acceptRetry:
			continue
		}
		return
	}
}

// acceptOne accepts and hands off one connection, backing off when out of resources.
// acceptAgain means nothing is queued: wait for the listening socket.
func acceptOne(o *Options, s *supervisor, lfd int, pf procFaults, bo *backoff) acceptResult {
	nfd, res, err := accept(lfd)
	switch res {
	case acceptOK:
		bo.reset()
		if peerGone(nfd) {
			// Reset or closed before sending a byte (a connect-and-reset flood): a process
			// for it would serve nothing, and starve clients that are still there.
			unix.Close(nfd)
			return acceptRetry
		}
		pid, err := s.start(kindConn, nfd)
		if !pf.leakFD {
			unix.Close(nfd)
		}
		if err != nil {
			o.Log.Warn("cannot start child; connection dropped", "err", err)
			// EAGAIN: fork(2) is at the process limit (RLIMIT_NPROC), a wait too may help.
			if exhausted(err) || errors.Is(err, syscall.EAGAIN) {
				s.wait(-1, bo.next())
			}
			return acceptBackoff
		}
		o.Log.Debug("connection", "child", pid)
	case acceptRetry:
	case acceptBackoff:
		d := bo.next()
		o.Log.Warn("accept failed; backing off", "err", err, "wait", d)
		s.wait(-1, d)
	case acceptFatal:
		o.Log.Error("accept failed", "err", err)
		s.wait(-1, bo.next())
	}
	return res
}
