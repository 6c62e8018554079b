package server

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/forkproof/forkproof/server/internal/h1"
)

// runGoroutines is goroutine mode: one process, one goroutine per connection; the baseline
// the process models are compared against.
func runGoroutines(ctx context.Context, o *Options, lfd int, addr string, conf childConf, pf procFaults) error {
	f := os.NewFile(uintptr(lfd), "listener")
	ln, err := net.FileListener(f) // dups the fd
	f.Close()
	if err != nil {
		return fmt.Errorf("listener: %v", err)
	}
	cfg, err := conf.engineConfig(o.Log)
	if err != nil {
		ln.Close()
		return err
	}
	go func() { <-ctx.Done(); ln.Close() }()
	ready(o, addr)

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
		drain = make(chan struct{})
		bo    backoff
	)
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			// Back off without spinning (EMFILE and friends, or worse); shutdown cuts the
			// wait short. Go's Accept itself retries ECONNABORTED and EINTR.
			d := bo.next()
			if exhausted(err) {
				o.Log.Warn("accept failed; backing off", "err", err, "wait", d)
			} else {
				o.Log.Error("accept failed", "err", err, "wait", d)
			}
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
			continue
		}
		bo.reset()
		if pf.leakFD {
			if tc, ok := c.(*net.TCPConn); ok {
				if f, err := tc.File(); err == nil {
					leaked = append(leaked, f) // the fault: a dup nobody closes
				}
			}
		}
		mu.Lock()
		conns[c] = true
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if o.Verbose {
				o.Log.Info("connection", "remote", c.RemoteAddr().String())
			}
			h1.ServeConn(&netConn{c: c}, &cfg, drain)
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
		}()
	}
	close(drain)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(o.Grace)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
	}
	mu.Lock()
	o.Log.Warn("grace period over; closing connections", "count", len(conns))
	for c := range conns {
		c.Close()
	}
	mu.Unlock()
	<-done // every Read and Write now fails at once
	return nil
}

// leaked holds the fds leaked by the leak-fd fault, so the garbage collector's finalizers
// do not close them behind the fault's back.
var leaked []*os.File
