package server

import (
	"context"
	"runtime"

	"golang.org/x/sys/unix"
)

// runPrefork is prefork mode: N workers, each a re-exec of our binary that inherits the
// listening socket as fd 3 and serves one connection at a time. A worker that dies is
// replaced; a worker that crashes right after its start is replaced after a back-off, so a
// broken binary cannot turn into a fork storm.
func runPrefork(ctx context.Context, o *Options, lfd int, addr string, conf childConf, pf procFaults) error {
	runtime.LockOSThread() // see supervisor.start: Pdeathsig follows this thread
	defer runtime.UnlockOSThread()
	s, err := newSupervisor("worker", conf, o.Log, pf.noReap)
	if err != nil {
		unix.Close(lfd)
		return err
	}
	defer s.close()
	go func() { <-ctx.Done(); s.notify() }()

	var bo backoff
	fill := func() bool {
		for s.live() < o.Workers && ctx.Err() == nil {
			if _, err := s.start(lfd); err != nil {
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
		if s.live() >= o.Workers {
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
	unix.Close(lfd)
	s.shutdown(o.Grace)
	return nil
}
