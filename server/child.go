package server

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/forkproof/forkproof/server/internal/h1"
)

// IsChild reports whether this process was started by the server as a connection child or
// a prefork worker. main calls it first thing, before parsing flags.
func IsChild() bool { return os.Getenv(childEnv) != "" }

// ChildMain runs the child side and returns the exit code. The connection (fork mode) or the
// listening socket (prefork mode) is fd 3; everything else was closed on exec.
func ChildMain() int {
	kind := os.Getenv(childEnv)
	conf, err := decodeChildConf(os.Getenv(confEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "forkproof child:", err)
		return 2
	}
	level := slog.LevelWarn
	if conf.verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("pid", os.Getpid())
	cfg, err := conf.engineConfig(log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "forkproof child:", err)
		return 2
	}
	switch kind {
	case "conn":
		return connChild(&cfg, conf)
	case "worker":
		return worker(&cfg, log)
	}
	fmt.Fprintf(os.Stderr, "forkproof child: %s=%q: want conn or worker\n", childEnv, kind)
	return 2
}

const inheritedFD = 3

// connChild serves the one connection on fd 3; drainSignal or SIGTERM starts a graceful
// drain.
//
// The signals are watched only from the first read that would block: os/signal costs a
// child two more threads, and a child whose request is already there when it starts (the
// common case: Connection: close, or a pipelined burst) answers it without ever waiting.
// drainSignal is blocked from our start (see lockForkThread), so one sent before we watch
// stays pending and arrives when we do; the engine then closes the connection at its next
// wait for a request. A SIGTERM before that point ends the child at once.
func connChild(cfg *h1.Config, conf childConf) int {
	drain := make(chan struct{})
	watching := false
	watch := func() {
		if !watching {
			watching = true
			watchDrainSignals(drain, nil)
		}
	}
	c := newFDConn(inheritedFD)
	c.beforeBlock = watch
	h1.ServeConn(c, cfg, drain)
	if conf.lingerChild {
		watch()
		select { // the fault: stay around (idle) after the connection is gone
		case <-drain:
		case <-time.After(time.Minute):
		}
	}
	return 0
}

// watchDrainSignals closes drain on drainSignal, SIGTERM or SIGINT, then calls then (when
// not nil).
func watchDrainSignals(drain chan struct{}, then func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, drainSignal, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		close(drain)
		if then != nil {
			then()
		}
	}()
}

// worker accepts on the inherited listening socket and serves one connection at a time.
//
// drainSignal or SIGTERM: an idle worker exits; a busy one finishes its connection, then
// exits. The signal only ever wakes the worker's wait, it never ends the process itself, so
// a connection the worker has taken off the queue is always served. The worker waits with epoll for the
// listening socket (EPOLLEXCLUSIVE: one idle worker is woken per connection, not all) or its
// stop eventfd, and accepts without blocking only when the socket is readable. If it is
// stopped while a connection waits, the connection stays queued and the parent serves it.
func worker(cfg *h1.Config, log *slog.Logger) int {
	w, err := newWaiter(inheritedFD)
	if err != nil {
		log.Error("worker", "err", err)
		return 1
	}
	defer w.close()
	drain := make(chan struct{})
	fair := newFairness(inheritedFD)
	// drain is closed before the wake-up: the main loop checks drain when it wakes; the
	// connection being served, if any, is drained at once.
	watchDrainSignals(drain, func() { w.stop(); fair.drainNow() })
	stopped := func() bool {
		select {
		case <-drain:
			return true
		default:
			return false
		}
	}
	var bo backoff
	for !stopped() {
		ready, err := w.wait()
		if err != nil {
			log.Error("worker: waiting for connections", "err", err)
			return 1
		}
		if !ready || stopped() {
			continue
		}
		fd, res, err := accept(inheritedFD)
		switch res {
		case acceptOK:
			bo.reset()
			// Served even if SIGTERM came after the accept: drain is then already closed,
			// and the engine answers what the client has sent, then closes.
			h1.ServeConn(newFDConn(fd), cfg, fair.begin(drain))
			fair.end()
		case acceptRetry, acceptAgain: // another process took it, or it was aborted
		case acceptBackoff:
			log.Warn("accept failed; backing off", "err", err)
			w.pause(bo.next())
		default:
			log.Error("accept failed", "err", err)
			return 1
		}
	}
	return 0
}

// fairWait is how long a connection may wait in the listen queue, every worker busy, before a
// worker ends its kept-alive connection to let it in; fairAge is how long a worker keeps a
// connection before it gives way at all, so that a client's few requests on one connection
// (a persistence check, a short pipeline) are never cut. See fairness.
const (
	fairWait = 100 * time.Millisecond
	fairAge  = time.Second
)

// fairness drains a prefork worker's connection, once it is older than fairAge, when a new
// connection has waited in the listen queue for fairWait (every worker is busy with a
// kept-alive connection, and keeping this one would keep that client out: Apache's
// MaxKeepAliveRequests and nginx's keepalive_requests bound the same thing). The engine then
// answers what the client has sent, with "Connection: close", and closes. One watcher per
// worker, started with its first connection; between connections it sleeps on a channel, and
// a connection younger than fairAge costs it one poll(2) sleep, not a goroutine or a thread.
type fairness struct {
	lfd  int
	wake chan struct{} // a connection began: the watcher may have something to watch

	mu       sync.Mutex
	out      chan struct{} // the current connection's drain channel, nil between connections
	start    time.Time     // when the current connection began
	draining bool          // the worker is told to drain: every connection drains at once
	watching bool
}

func newFairness(lfd int) *fairness {
	return &fairness{lfd: lfd, wake: make(chan struct{}, 1)}
}

// begin returns the drain channel of a connection starting now; drain is the worker's.
func (f *fairness) begin(drain <-chan struct{}) <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.out, f.start = make(chan struct{}), time.Now()
	select {
	case <-drain:
		f.draining = true
	default:
	}
	if f.draining {
		close(f.out)
		return f.out
	}
	if !f.watching {
		f.watching = true
		go f.watch()
	}
	select {
	case f.wake <- struct{}{}:
	default:
	}
	return f.out
}

// end says the current connection is over.
func (f *fairness) end() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.out = nil
}

// drainNow drains the current connection and every later one (a drain signal).
func (f *fairness) drainNow() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.draining = true
	f.closeLocked()
}

func (f *fairness) closeLocked() {
	if f.out != nil {
		select {
		case <-f.out:
		default:
			close(f.out)
		}
	}
}

// watch looks at the listen queue while the current connection is older than fairAge. No Go
// timer here: a timer would start the runtime's netpoller (an epoll fd and an eventfd) in a
// process that otherwise needs none; poll(2) does the waiting.
func (f *fairness) watch() {
	const every = 50 * time.Millisecond // between looks at the listen queue
	var since time.Time                 // when the listen queue was first seen non-empty
	for {
		f.mu.Lock()
		out, age := f.out, time.Since(f.start)
		f.mu.Unlock()
		if out == nil {
			since = time.Time{}
			<-f.wake // nothing to watch until a connection begins
			continue
		}
		if age < fairAge {
			since = time.Time{}
			unix.Poll(nil, int(min(fairAge-age, every)/time.Millisecond)+1)
			continue
		}
		fds := []unix.PollFd{{Fd: int32(f.lfd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(every/time.Millisecond))
		switch {
		case err != nil && !errors.Is(err, unix.EINTR):
			return // cannot watch: the worker drains only when told to
		case n > 0 && fds[0].Revents&unix.POLLIN != 0:
			if since.IsZero() {
				since = time.Now()
			} else if time.Since(since) >= fairWait {
				f.mu.Lock()
				if f.out == out {
					f.closeLocked()
				}
				f.mu.Unlock()
				since = time.Time{}
			}
			unix.Poll(nil, int(every/time.Millisecond)) // the socket stays readable: look again later, not spin
		default:
			since = time.Time{}
		}
	}
}

// waiter waits for a listening socket to become readable or for a stop request.
type waiter struct {
	ep, wake, lfd int
}

func newWaiter(lfd int) (*waiter, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(ep)
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	w := &waiter{ep: ep, wake: wake, lfd: lfd}
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLEXCLUSIVE, Fd: int32(lfd)}
	err = unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, lfd, &ev)
	if err == unix.EINVAL { // kernels before 4.5: every idle worker wakes, one wins
		ev.Events = unix.EPOLLIN
		err = unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, lfd, &ev)
	}
	if err == nil {
		ev = unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wake)}
		err = unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, wake, &ev)
	}
	if err != nil {
		w.close()
		return nil, fmt.Errorf("epoll_ctl: %w", err)
	}
	return w, nil
}

// wait blocks until the listening socket is readable (true) or a stop request arrives
// (false; also after a signal interrupted the wait).
func (w *waiter) wait() (bool, error) {
	var evs [2]unix.EpollEvent
	n, err := unix.EpollWait(w.ep, evs[:], -1)
	if err == unix.EINTR {
		return false, nil // callers loop and re-check
	}
	if err != nil {
		return false, fmt.Errorf("epoll_wait: %w", err)
	}
	for _, ev := range evs[:n] {
		if int(ev.Fd) == w.lfd {
			return true, nil
		}
	}
	return false, nil
}

// pause waits up to d, cut short by a stop request.
func (w *waiter) pause(d time.Duration) {
	fds := []unix.PollFd{{Fd: int32(w.wake), Events: unix.POLLIN}}
	unix.Poll(fds, pollMS(d))
}

// stop wakes the waiter for good (the eventfd is never read, so it stays readable).
func (w *waiter) stop() {
	one := [8]byte{1}
	unix.Write(w.wake, one[:])
}

func (w *waiter) close() {
	unix.Close(w.ep)
	unix.Close(w.wake)
}
