package server

import (
	"context"
	"time"

	"golang.org/x/sys/unix"
)

// runPrefork is prefork mode: N workers, each a re-exec of our binary that inherits the
// listening socket as fd 3 and serves one connection at a time. A worker that dies is
// replaced; a worker that crashes right after its start is replaced after a back-off, so a
// broken binary cannot turn into a fork storm.
//
// Shutdown loses no queued connection: workers stop taking new ones and finish their own,
// while the parent takes what is queued and serves it as fork mode does, once at SIGTERM
// and once more when the last worker is gone (a worker may have been woken for a connection
// and stopped instead of taking it), before it closes the socket.
func runPrefork(ctx context.Context, o *Options, lfd int, addr string, conf childConf, pf procFaults) error {
	defer lockForkThread()()
	s, err := newSupervisor(conf, o.Log, pf.noReap)
	if err != nil {
		unix.Close(lfd)
		return err
	}
	defer s.close()
	go func() { <-ctx.Done(); s.notify() }()

	var bo backoff
	fill := func() bool {
		for s.liveKind(kindWorker) < o.Workers && ctx.Err() == nil {
			if _, err := s.start(kindWorker, lfd); err != nil {
				o.Log.Warn("cannot start worker", "err", err)
				return false
			}
		}
		return true
	}
	fill()
	ready(o, addr)
	startFailed := false
	for ctx.Err() == nil {
		if s.liveKind(kindWorker) >= o.Workers {
			s.wait(-1, -1)
			continue
		}
		if s.takeQuickDied() {
			s.wait(-1, bo.next())
			if ctx.Err() != nil {
				break
			}
		} else if !startFailed {
			bo.reset()
		}
		startFailed = !fill()
		if startFailed {
			s.wait(-1, bo.next())
		}
	}

	deadline := time.Now().Add(o.Grace)
	s.signalAll(drainSignal) // idle workers exit, busy ones finish their connection
	drainQueue(o, s, lfd, pf)
	for s.liveKind(kindWorker) > 0 && !pf.noReap {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		s.wait(-1, left)
	}
	drainQueue(o, s, lfd, pf)
	unix.Close(lfd)
	s.shutdown(deadline)
	return nil
}
