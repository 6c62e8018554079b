package server

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
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

// supervisor starts children by re-executing our own binary and reaps them: one reaper, a
// SIGCHLD-driven Wait4(-1, WNOHANG) loop. Nothing else in the process may wait for children.
type supervisor struct {
	exe    string
	argv   []string
	env    []string
	stdio  [3]uintptr
	log    *slog.Logger
	noReap bool
	wake   int // eventfd: written when a child is reaped or shutdown begins

	mu        sync.Mutex
	kids      map[int]time.Time // live (unreaped) children and their start time
	quickDied bool              // a child exited with an error within a second of its start
	stopReap  chan struct{}
	reaperWG  sync.WaitGroup
}

func newSupervisor(kind string, conf childConf, log *slog.Logger, noReap bool) (*supervisor, error) {
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
	env := append(os.Environ(), childRuntimeEnv...)
	env = append(env, childEnv+"="+kind, confEnv+"="+conf.encode())
	s := &supervisor{
		exe: exe, argv: []string{os.Args[0], "serve-child", kind}, env: env,
		stdio: [3]uintptr{uintptr(devnull), uintptr(devnull), stderr},
		log:   log, noReap: noReap, wake: wake,
		kids: map[int]time.Time{}, stopReap: make(chan struct{}),
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

// start runs a child with fd as its fd 3. The caller must run on a locked OS thread:
// Pdeathsig follows the thread that forked, not the process.
func (s *supervisor) start(fd int) (int, error) {
	attr := &syscall.ProcAttr{
		Env:   s.env,
		Files: []uintptr{s.stdio[0], s.stdio[1], s.stdio[2], uintptr(fd)},
		Sys:   &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM},
	}
	s.mu.Lock() // the reaper must not see the child exit before it is recorded
	defer s.mu.Unlock()
	pid, err := syscall.ForkExec(s.exe, s.argv, attr)
	if err != nil {
		return 0, fmt.Errorf("starting child: %w", err)
	}
	s.kids[pid] = time.Now()
	return pid, nil
}

// reap collects every child that has exited.
func (s *supervisor) reap() {
	s.mu.Lock()
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
		started, ok := s.kids[pid]
		delete(s.kids, pid)
		switch {
		case ws.Exited() && ws.ExitStatus() == 0:
			s.log.Debug("child exited", "pid", pid)
		case ws.Signaled():
			s.log.Debug("child killed", "pid", pid, "signal", ws.Signal())
		default:
			s.log.Warn("child failed", "pid", pid, "status", ws.ExitStatus())
			if ok && time.Since(started) < time.Second {
				s.quickDied = true
			}
		}
	}
	s.mu.Unlock()
	if reaped > 0 {
		s.notify()
	}
}

func (s *supervisor) live() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.kids)
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
// (negative: no timeout). It reports whether fd is readable.
func (s *supervisor) wait(fd int, timeout time.Duration) bool {
	fds := []unix.PollFd{{Fd: int32(s.wake), Events: unix.POLLIN}}
	if fd >= 0 {
		fds = append(fds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
	}
	ms := -1
	if timeout >= 0 {
		ms = int((timeout + time.Millisecond - 1) / time.Millisecond)
	}
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
	return fd >= 0 && fds[1].Revents != 0
}

// shutdown asks every child to drain, waits up to grace, kills what is left and reaps it all.
func (s *supervisor) shutdown(grace time.Duration) {
	s.signalAll(syscall.SIGTERM)
	if s.noReap {
		s.signalAll(syscall.SIGKILL)
		return
	}
	deadline := time.Now().Add(grace)
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
		deadline = time.Now().Add(10 * time.Second)
		for s.live() > 0 && time.Now().Before(deadline) {
			s.wait(-1, 100*time.Millisecond)
			s.reap() // in case a SIGCHLD was coalesced away
		}
	}
}
