package server

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Environment of a child process. The child is recognised by childEnv at the very top of
// main, before any flag parsing; confEnv carries the engine settings in one compact string.
const (
	childEnv = "FORKPROOF_CHILD" // "conn" (fork mode) or "worker" (prefork mode)
	confEnv  = "FORKPROOF_CHILD_CONF"
)

// childRuntimeEnv makes short-lived children cheaper: no garbage collection unless the heap
// nears 64 MiB, and one P (a child serves one connection on one goroutine).
var childRuntimeEnv = []string{"GOGC=off", "GOMEMLIMIT=64MiB", "GOMAXPROCS=1"}

// drainSignal asks a child to finish what it has and exit. Not SIGTERM: a Go program dies
// of a SIGTERM that arrives before its signal.Notify, and a child started a moment before
// shutdown may not be there yet: its connection would be lost. The Go runtime ignores
// SIGUSR1 until notified, and the forking thread blocks it (lockForkThread), so a child
// starts with it blocked: one sent early stays pending until the child's Notify unblocks it.
// Children still drain on SIGTERM too (what an operator or Pdeathsig sends).
const drainSignal = unix.SIGUSR1

// lockForkThread locks the calling goroutine to its OS thread, which must do every fork
// (Pdeathsig follows the thread that forked, not the process), and blocks drainSignal on it,
// which children inherit through fork and exec. The returned function undoes both.
func lockForkThread() (undo func()) {
	runtime.LockOSThread()
	var set, old unix.Sigset_t
	bit := uint(drainSignal) - 1
	set.Val[bit/64] |= 1 << (bit % 64)
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &set, &old); err != nil {
		return runtime.UnlockOSThread // cannot fail on Linux; early signals are then lost, not fatal
	}
	return func() {
		unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil)
		runtime.UnlockOSThread()
	}
}

// childBaseEnv is the part of our environment a child can use: the Go runtime's settings
// (GODEBUG, GOTRACEBACK, GOCOVERDIR, ...), the dynamic loader's and TZ (log timestamps), but
// not the ones the child's own are set to (the Go runtime takes the first of duplicates),
// then the child's runtime settings. The rest would only be copied at every fork and exec.
func childBaseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "GO") && !strings.HasPrefix(k, "LD_") && k != "TZ" {
			continue
		}
		if slices.ContainsFunc(childRuntimeEnv, func(c string) bool { return strings.HasPrefix(c, k+"=") }) {
			continue
		}
		env = append(env, kv)
	}
	return append(env, childRuntimeEnv...)
}

// supervisor starts children by re-executing our own binary and reaps them: one reaper, a
// SIGCHLD-driven Wait4(-1, WNOHANG) loop. Nothing else in the process may wait for children.
type supervisor struct {
	exe    string
	argv   map[string][]string // by child kind
	env    map[string][]string
	stdio  [3]uintptr
	log    *slog.Logger
	noReap bool
	wake   int // eventfd: written when a child is reaped or shutdown begins

	mu        sync.Mutex
	kids      map[int]kid // live (unreaped) children
	wakeAt    int         // reaping wakes the waiter only when at least this many were live
	quickDied bool        // a child exited with an error within a second of its start
	stopReap  chan struct{}
	reaperWG  sync.WaitGroup
}

// kid is a live child: its kind ("conn" or "worker") and start time.
type kid struct {
	kind    string
	started time.Time
}

// Child kinds: a connection child (fork mode, and prefork's shutdown drain) serves the one
// connection on its fd 3; a worker (prefork mode) accepts on the listening socket as fd 3.
const (
	kindConn   = "conn"
	kindWorker = "worker"
)

func newSupervisor(conf childConf, log *slog.Logger, noReap bool) (*supervisor, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding own binary: %w", err)
	}
	devnull, err := unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/null: %w", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(devnull)
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	stderr := uintptr(devnull)
	if _, err := unix.FcntlInt(2, unix.F_GETFD, 0); err == nil {
		stderr = 2
	}
	s := &supervisor{
		exe: exe, argv: map[string][]string{}, env: map[string][]string{},
		stdio: [3]uintptr{uintptr(devnull), uintptr(devnull), stderr},
		log:   log, noReap: noReap, wake: wake,
		kids: map[int]kid{}, stopReap: make(chan struct{}),
	}
	base := childBaseEnv()
	for _, kind := range []string{kindConn, kindWorker} {
		env := append(slices.Clip(base), childEnv+"="+kind, confEnv+"="+conf.encode())
		s.env[kind] = env
		s.argv[kind] = []string{os.Args[0], "serve-child", kind}
	}
	sigchld := make(chan os.Signal, 1)
	signal.Notify(sigchld, syscall.SIGCHLD)
	s.reaperWG.Add(1)
	go func() {
		defer s.reaperWG.Done()
		defer signal.Stop(sigchld)
		for {
			select {
			case <-sigchld:
				if !s.noReap {
					s.reap()
				}
			case <-s.stopReap:
				return
			}
		}
	}()
	return s, nil
}

// close stops the reaper and releases the supervisor's fds (after the children are gone).
func (s *supervisor) close() {
	close(s.stopReap)
	s.reaperWG.Wait()
	unix.Close(s.wake)
	unix.Close(int(s.stdio[0]))
}

// start runs a child with fd as its fd 3. The caller must run on the thread lockForkThread
// prepared.
func (s *supervisor) start(kind string, fd int) (int, error) {
	attr := &syscall.ProcAttr{
		Env:   s.env[kind],
		Files: []uintptr{s.stdio[0], s.stdio[1], s.stdio[2], uintptr(fd)},
		Sys:   &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM},
	}
	s.mu.Lock() // the reaper must not see the child exit before it is recorded
	defer s.mu.Unlock()
	pid, err := syscall.ForkExec(s.exe, s.argv[kind], attr)
	if err != nil {
		return 0, fmt.Errorf("starting child: %w", err)
	}
	s.kids[pid] = kid{kind: kind, started: time.Now()}
	return pid, nil
}

// reap collects every child that has exited.
func (s *supervisor) reap() {
	s.mu.Lock()
	before := len(s.kids)
	reaped := 0
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			break
		}
		reaped++
		k, ok := s.kids[pid]
		delete(s.kids, pid)
		switch {
		case ws.Exited() && ws.ExitStatus() == 0:
			s.log.Debug("child exited", "pid", pid)
		case ws.Signaled():
			s.log.Debug("child killed", "pid", pid, "signal", ws.Signal())
		default:
			s.log.Warn("child failed", "pid", pid, "status", ws.ExitStatus())
			if ok && time.Since(k.started) < time.Second {
				s.quickDied = true
			}
		}
	}
	wake := reaped > 0 && before >= s.wakeAt
	s.mu.Unlock()
	if wake {
		s.notify()
	}
}

// wakeOnExitFrom makes reaping wake wait only when n or more children were live (fork
// mode: only a parent at its cap waits for an exit; a wake-up per connection would cost a
// poll, an eventfd read and an accept that finds nothing). 0: every exit wakes it.
func (s *supervisor) wakeOnExitFrom(n int) {
	s.mu.Lock()
	s.wakeAt = n
	s.mu.Unlock()
}

func (s *supervisor) live() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.kids)
}

// liveKind counts the live children of one kind.
func (s *supervisor) liveKind(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, k := range s.kids {
		if k.kind == kind {
			n++
		}
	}
	return n
}

// takeQuickDied reports whether a child crashed right after its start since the last call.
func (s *supervisor) takeQuickDied() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.quickDied
	s.quickDied = false
	return q
}

func (s *supervisor) signalAll(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for pid := range s.kids {
		unix.Kill(pid, sig)
	}
}

func (s *supervisor) notify() {
	var one = [8]byte{1}
	unix.Write(s.wake, one[:])
}

// wait blocks until the wake eventfd fires, fd (if >= 0) is readable, or timeout passes
// (negative: no timeout).
func (s *supervisor) wait(fd int, timeout time.Duration) {
	fds := []unix.PollFd{{Fd: int32(s.wake), Events: unix.POLLIN}}
	if fd >= 0 {
		fds = append(fds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
	}
	ms := pollMS(timeout)
	for {
		_, err := unix.Poll(fds, ms)
		if err == unix.EINTR {
			continue // a rare early wake-up is harmless: callers loop
		}
		break
	}
	if fds[0].Revents != 0 {
		var buf [8]byte
		unix.Read(s.wake, buf[:])
	}
}

// shutdown asks every child to drain, waits until deadline, kills what is left and reaps it
// all.
func (s *supervisor) shutdown(deadline time.Time) {
	s.wakeOnExitFrom(0)
	s.signalAll(drainSignal)
	if s.noReap {
		s.signalAll(syscall.SIGKILL)
		return
	}
	for s.live() > 0 {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		s.wait(-1, left)
	}
	if n := s.live(); n > 0 {
		s.log.Warn("grace period over; killing children", "count", n)
		s.signalAll(syscall.SIGKILL)
		// SIGKILL cannot be ignored; the bound only guards against a kernel stuck in D state.
		deadline := time.Now().Add(10 * time.Second)
		for s.live() > 0 && time.Now().Before(deadline) {
			s.wait(-1, 100*time.Millisecond)
			s.reap() // in case a SIGCHLD was coalesced away
		}
	}
}
