package server

import (
	"bufio"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/forkproof/forkproof/internal/testbin"
)

// warm makes one request so lazily opened fds exist before a baseline is taken.
func warm(t *testing.T, s *testServer) {
	t.Helper()
	c := s.dial()
	defer c.Close()
	c.Write([]byte(get("/bytes/10", true)))
	if err := checkBytes(bufio.NewReader(c), 10); err != nil {
		t.Fatalf("warm-up: %v", err)
	}
}

func wantKids(mode string, workers int) int {
	if mode == "prefork" {
		return workers
	}
	return 0
}

func TestConcurrentPipelinedClients(t *testing.T) { run(t, testConcurrentPipelinedClients) }
func testConcurrentPipelinedClients(t *testing.T, mode string) {
	s := startServer(t, mode, "-workers", "4")
	warm(t, s)
	base := fdCount(t, s.pid)

	const clients, depth = 16, 6
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(15 * time.Second))
			var req strings.Builder
			for k := range depth {
				req.WriteString(get(fmt.Sprintf("/bytes/%d", 1+i*1000+k*37), k == depth-1))
			}
			if _, err := c.Write([]byte(req.String())); err != nil {
				errs <- err
				return
			}
			br := bufio.NewReader(c)
			for k := range depth {
				if err := checkBytes(br, 1+i*1000+k*37); err != nil {
					errs <- fmt.Errorf("client %d, response %d: %v", i, k, err)
					return
				}
			}
			if _, err := br.ReadByte(); err == nil {
				errs <- fmt.Errorf("client %d: bytes after the last response; want the connection closed", i)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s.settle(base, wantKids(mode, 4))
}

// reset closes c with SO_LINGER 0, so the server sees an RST instead of a FIN.
func reset(t *testing.T, c net.Conn) {
	t.Helper()
	if err := c.(*net.TCPConn).SetLinger(0); err != nil {
		t.Fatalf("SO_LINGER: %v", err)
	}
	c.Close()
}

func TestAbruptResets(t *testing.T) { run(t, testAbruptResets) }
func testAbruptResets(t *testing.T, mode string) {
	s := startServer(t, mode, "-workers", "2")
	warm(t, s)
	base := fdCount(t, s.pid)
	for range 10 {
		// Mid-request: half a request head, then RST.
		c := s.dial()
		c.Write([]byte("GET /bytes/10 HTTP/1.1\r\nHo"))
		reset(t, c)
		// Mid-response: the server is still writing a large body.
		c = s.dial()
		c.Write([]byte(get("/bytes/8000000", false)))
		buf := make([]byte, 1024)
		if _, err := c.Read(buf); err != nil {
			t.Fatalf("reading the start of a large response: %v", err)
		}
		reset(t, c)
	}
	c := s.dial()
	c.Write([]byte(get("/bytes/100", true)))
	if err := checkBytes(bufio.NewReader(c), 100); err != nil {
		t.Fatalf("after resets: %v", err)
	}
	s.settle(base, wantKids(mode, 2))
}

// runtimeFD reports whether target is an fd the Go runtime itself opens at start: since
// Go 1.25 it keeps the cgroup CPU limit files open (cpu.max on cgroup v2; cpu.cfs_quota_us
// and cpu.cfs_period_us on v1) to follow GOMAXPROCS changes.
func runtimeFD(target string) bool {
	return strings.HasPrefix(target, "/sys/fs/cgroup/") &&
		(strings.HasSuffix(target, "/cpu.max") || strings.Contains(target, "/cpu.cfs_"))
}

func TestChildFDs(t *testing.T) {
	for _, mode := range []string{"fork", "prefork"} {
		t.Run(mode, func(t *testing.T) {
			s := startServer(t, mode, "-workers", "1")
			// A finished exchange on a kept-alive connection: the child is past its start-up
			// and waits for the next request.
			c := s.dial()
			c.Write([]byte(get("/bytes/10", false)))
			if err := checkBytes(bufio.NewReader(c), 10); err != nil {
				t.Fatal(err)
			}
			kids := s.children()
			if len(kids) != 1 {
				t.Fatalf("children %v; want 1", kids)
			}
			fds, err := fdsOf(kids[0])
			if err != nil {
				t.Fatal(err)
			}
			parentFDs, _ := fdsOf(s.pid)
			t.Logf("child %d fds: %v (parent: %v)", kids[0], fds, parentFDs)
			// fork: fd 3 is the connection. prefork: fd 3 is the listening socket (the
			// parent's), and the worker's one accepted connection is one more socket.
			conns := 0
			waitFDs := map[string]bool{}
			for fd, target := range fds {
				switch {
				case fd <= 2:
				case fd == 3:
					if !strings.HasPrefix(target, "socket:") {
						t.Errorf("child fd 3 = %q; want a socket", target)
					}
					if mode == "prefork" && !slices.Contains(slices.Collect(maps.Values(parentFDs)), target) {
						t.Errorf("worker fd 3 = %q; want the parent's listening socket", target)
					}
				case runtimeFD(target):
				case mode == "prefork" && strings.HasPrefix(target, "socket:") && conns == 0:
					conns++
				case mode == "prefork" && (target == "anon_inode:[eventpoll]" || target == "anon_inode:[eventfd]") && !waitFDs[target]:
					waitFDs[target] = true // the worker's wait for connections or a stop request
				default:
					t.Errorf("child holds fd %d -> %s; want only 0-2, the socket as 3, the runtime's cgroup files (and a worker's connection, epoll and eventfd)", fd, target)
				}
			}
		})
	}
}

func TestPreforkReplacesDeadWorker(t *testing.T) {
	s := startServer(t, "prefork", "-workers", "3")
	ok, desc := waitFor(10*time.Second, func() (bool, string) {
		k := s.children()
		return len(k) == 3, fmt.Sprint(k)
	})
	if !ok {
		t.Fatalf("workers %s; want 3", desc)
	}
	victim := s.children()[0]
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	ok, desc = waitFor(10*time.Second, func() (bool, string) {
		k := s.children()
		return len(k) == 3 && !slices.Contains(k, victim) && len(zombiesOf(s.pid)) == 0, fmt.Sprint(k)
	})
	if !ok {
		t.Fatalf("after killing worker %d: workers %s; want 3 others and no zombie", victim, desc)
	}
	warm(t, s)
}

func TestShutdownAnswersInFlight(t *testing.T) { run(t, testShutdownAnswersInFlight) }
func testShutdownAnswersInFlight(t *testing.T, mode string) {
	// A long grace and idle timeout: the server must end by draining, not by waiting them out.
	// In fork mode the drain signal reaches the child while it sleeps, before it watches for
	// signals (it has not waited for a read yet): it must still arrive.
	s := startServer(t, mode, "-workers", "2", "-grace", "60s", "-idle-timeout", "60s")
	warm(t, s)
	c := s.dial()
	if _, err := c.Write([]byte(get("/sleep/300", false))); err != nil {
		t.Fatal(err)
	}
	// The request is in flight once the server has taken the connection off the queue.
	ok, desc := waitFor(5*time.Second, func() (bool, string) {
		n, err := acceptQueue(s.port)
		return err == nil && n == 0, fmt.Sprint(n, err)
	})
	if !ok {
		t.Fatalf("connection not accepted: queue %s", desc)
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r, err := readResponse(bufio.NewReader(c))
	if err != nil {
		t.Fatalf("in-flight request after SIGTERM: %v; want its response", err)
	}
	if r.status != 200 {
		t.Errorf("in-flight request after SIGTERM: status %d; want 200", r.status)
	}
	waitExit0(t, s)
}

func TestShutdownKillsAfterGrace(t *testing.T) {
	s := startServer(t, "fork", "-grace", "200ms")
	c := s.dial()
	c.Write([]byte(get("/sleep/10000", false)))
	ok, _ := waitFor(5*time.Second, func() (bool, string) { return len(s.children()) == 1, "" })
	if !ok {
		t.Fatal("no child for the connection")
	}
	if err := s.stop(); err != nil {
		t.Errorf("server exit: %v; want status 0", err)
	}
	if _, err := readResponse(bufio.NewReader(c)); err == nil {
		t.Error("a /sleep/10000 response arrived although the grace period was 200ms")
	}
}

func setNoFile(t *testing.T, pid int, n uint64) {
	t.Helper()
	lim := unix.Rlimit{Cur: n, Max: n}
	if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, &lim, nil); err != nil {
		t.Skipf("prlimit: %v", err)
	}
}

// fdLimitAllowing returns the RLIMIT_NOFILE under which pid can open exactly n more fds
// (the limit caps fd numbers, and new fds take the lowest free numbers).
func fdLimitAllowing(t *testing.T, pid, n int) uint64 {
	t.Helper()
	fds, err := fdsOf(pid)
	if err != nil {
		t.Fatal(err)
	}
	fd := 0
	for free := 0; ; fd++ {
		if _, used := fds[fd]; !used {
			if free == n {
				return uint64(fd)
			}
			free++
		}
	}
}

// cpuTicks returns the CPU time pid has used, in clock ticks.
func cpuTicks(t *testing.T, pid int) int64 {
	t.Helper()
	_, ticks, err := procStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	return ticks
}

// expectSilence checks that no byte arrives on c within d.
func expectSilence(t *testing.T, c net.Conn, d time.Duration) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	b := make([]byte, 1)
	n, err := c.Read(b)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("expected no data within %s but got %d bytes, err %v", d, n, err)
	}
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
}

// TestEMFILERecovers runs out of fds in the accepting process: the server must neither spin
// nor die, and must serve the waiting client once fds are free again.
func TestEMFILERecovers(t *testing.T) {
	s := startServer(t, "goroutine", "-idle-timeout", "30s")
	warm(t, s)
	// The warm-up connection's fd may still be open for a moment: the limit must be computed
	// with only the listening socket left.
	ok, desc := waitFor(5*time.Second, func() (bool, string) {
		fds, _ := fdsOf(s.pid)
		n := 0
		for _, target := range fds {
			if strings.HasPrefix(target, "socket:") {
				n++
			}
		}
		return n == 1, fmt.Sprint(fds)
	})
	if !ok {
		t.Fatalf("server fds %s; want one socket (the listener) once idle", desc)
	}
	setNoFile(t, s.pid, fdLimitAllowing(t, s.pid, 2))
	var held []net.Conn
	for range 2 {
		c := s.dial()
		c.Write([]byte(get("/bytes/5", false)))
		if err := checkBytes(bufio.NewReader(c), 5); err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	waiting := s.dial()
	waiting.Write([]byte(get("/bytes/7", true)))
	before := cpuTicks(t, s.pid)
	expectSilence(t, waiting, 500*time.Millisecond)
	// A spinning accept loop burns the whole 500ms (50 ticks); backing off costs almost none.
	if used := cpuTicks(t, s.pid) - before; used > 15 {
		t.Errorf("server used %d clock ticks in 500ms while out of fds; want it to back off, not spin", used)
	}
	for _, c := range held {
		c.Close()
	}
	if err := checkBytes(bufio.NewReader(waiting), 7); err != nil {
		t.Fatalf("after fds were freed: %v", err)
	}
}

// TestFaultLeakFD shows the leak-fd fault is caught by the fd count, and that a server out of
// fds for good still backs off and still shuts down cleanly.
func TestFaultLeakFD(t *testing.T) {
	s := startServer(t, "fork", "-fault", "leak-fd")
	warm(t, s)
	base := fdCount(t, s.pid)
	for range 8 {
		c := s.dial()
		c.Write([]byte(get("/bytes/3", true)))
		if err := checkBytes(bufio.NewReader(c), 3); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	if n := fdCount(t, s.pid); n < base+8 {
		t.Fatalf("leak-fd: fds %d after 8 connections, baseline %d; want at least %d", n, base, base+8)
	}
	setNoFile(t, s.pid, fdLimitAllowing(t, s.pid, 0))
	c := s.dial()
	c.Write([]byte(get("/bytes/3", true)))
	before := cpuTicks(t, s.pid)
	expectSilence(t, c, 500*time.Millisecond)
	if used := cpuTicks(t, s.pid) - before; used > 15 {
		t.Errorf("server used %d clock ticks in 500ms while out of fds; want it to back off", used)
	}
	if err := s.stop(); err != nil {
		t.Errorf("server exit: %v; want status 0", err)
	}
}

// TestFaultNoReap shows the no-reap fault is caught by the zombie count.
func TestFaultNoReap(t *testing.T) {
	s := startServer(t, "fork", "-fault", "no-reap")
	for range 4 {
		c := s.dial()
		c.Write([]byte(get("/bytes/3", true)))
		if err := checkBytes(bufio.NewReader(c), 3); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	ok, desc := waitFor(10*time.Second, func() (bool, string) {
		z := zombiesOf(s.pid)
		return len(z) >= 4, fmt.Sprint(z)
	})
	if !ok {
		t.Fatalf("no-reap: zombies %s; want at least 4", desc)
	}
}

func TestFaultLingerChild(t *testing.T) {
	s := startServer(t, "fork", "-fault", "linger-child")
	warm(t, s)
	ok, desc := waitFor(3*time.Second, func() (bool, string) {
		k := s.children()
		if len(k) != 1 {
			return false, fmt.Sprint(k)
		}
		st, _, _ := procStat(k[0])
		return st == 'S', fmt.Sprintf("%v state %c", k, st)
	})
	if !ok {
		t.Fatalf("linger-child: children %s; want one sleeping child after its connection closed", desc)
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-mode", "thread"},
		{"-fault", "leak-fd,nonsense"},
		{"-workers", "0"},
		{"-idle-timeout", "0"},
		{"-addr", "nohostport"},
		{"-backlog", "x"},
		{"extra"},
	} {
		cmd := exec.Command(testbin.Path(t), append([]string{"serve", "-addr", "127.0.0.1:0"}, args...)...)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("serve %v: %v, output %q; want exit status 2", args, err, out)
			continue
		}
		if len(out) == 0 || strings.Contains(string(out), "panic") {
			t.Errorf("serve %v: output %q; want a clear error", args, out)
		}
	}
}

// TestShutdownAnswersQueued: connections the kernel has completed and queued, each with a
// whole request sent, while the server can take none of them (its one worker or its one
// allowed child busy), all get their responses after SIGTERM; then the server exits 0.
func TestShutdownAnswersQueued(t *testing.T) {
	for _, tc := range []struct{ mode, flag string }{{"prefork", "-workers"}, {"fork", "-max-children"}} {
		t.Run(tc.mode, func(t *testing.T) {
			s := startServer(t, tc.mode, tc.flag, "1")
			warm(t, s)
			busy := s.dial()
			if _, err := busy.Write([]byte(get("/sleep/500", false))); err != nil {
				t.Fatal(err)
			}
			ok, desc := waitFor(5*time.Second, func() (bool, string) {
				n, err := acceptQueue(s.port)
				return err == nil && n == 0, fmt.Sprint(n, err)
			})
			if !ok {
				t.Fatalf("the /sleep connection was not accepted: queue %s", desc)
			}
			queued := sendQueued(t, s, 8)
			if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			checkQueued(t, queued)
			if r, err := readResponse(bufio.NewReader(busy)); err != nil || r.status != 200 {
				t.Errorf("in-flight /sleep/500 after SIGTERM: %v, %v; want 200", r, err)
			}
			waitExit0(t, s)
		})
	}
}

// TestPreforkShutdownStoppedWorkers: the workers are stopped (SIGSTOP) while connections
// queue up, so none takes them and none can react to SIGTERM: the parent serves the queue
// itself, kills the workers when the grace period ends and exits 0.
func TestPreforkShutdownStoppedWorkers(t *testing.T) {
	s := startServer(t, "prefork", "-workers", "2", "-grace", "1s")
	warm(t, s)
	workers := s.children()
	if len(workers) != 2 {
		t.Fatalf("workers %v; want 2", workers)
	}
	for _, w := range workers {
		if err := syscall.Kill(w, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Kill(w, syscall.SIGCONT) })
	}
	ok, desc := waitFor(5*time.Second, func() (bool, string) {
		var states []string
		for _, w := range workers {
			st, _, err := procStat(w)
			if err != nil || st != 'T' {
				return false, fmt.Sprint(workers, states, err)
			}
			states = append(states, string(st))
		}
		return true, ""
	})
	if !ok {
		t.Fatalf("workers not stopped: %s", desc)
	}
	queued := sendQueued(t, s, 6)
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	checkQueued(t, queued)
	waitExit0(t, s)
}

// sendQueued opens n connections, sends a whole request on each (GET /bytes/i+1 with
// Connection: close) and waits until all n sit in the listening socket's accept queue.
func sendQueued(t *testing.T, s *testServer, n int) []net.Conn {
	t.Helper()
	var conns []net.Conn
	for i := range n {
		c := s.dial()
		if _, err := c.Write([]byte(get(fmt.Sprintf("/bytes/%d", i+1), true))); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	ok, desc := waitFor(5*time.Second, func() (bool, string) {
		q, err := acceptQueue(s.port)
		return err == nil && q == n, fmt.Sprint(q, err)
	})
	if !ok {
		t.Fatalf("accept queue %s; want all %d connections queued", desc, n)
	}
	return conns
}

// checkQueued reads each queued connection's response and then the end of the connection.
func checkQueued(t *testing.T, conns []net.Conn) {
	t.Helper()
	for i, c := range conns {
		br := bufio.NewReader(c)
		if err := checkBytes(br, i+1); err != nil {
			t.Errorf("queued connection %d after SIGTERM: %v; want its response", i, err)
			continue
		}
		if b, err := br.ReadByte(); err == nil {
			t.Errorf("queued connection %d: byte %q after the response; want the connection closed", i, b)
		}
	}
}

func waitExit0(t *testing.T, s *testServer) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Fatal("server still running 10s after SIGTERM")
	}
	if s.err != nil {
		t.Errorf("server exit: %v; want status 0", s.err)
	}
}

// TestShutdownClosesIdleKeepAlive: a kept-alive connection waiting for its next request is
// closed at SIGTERM (the drain reaches the child or worker, however early it was sent), and
// the server exits 0 long before the grace period or the idle timeout would end it.
func TestShutdownClosesIdleKeepAlive(t *testing.T) {
	for _, mode := range []string{"fork", "prefork"} {
		t.Run(mode, func(t *testing.T) {
			s := startServer(t, mode, "-workers", "2", "-grace", "60s", "-idle-timeout", "60s")
			c := s.dial()
			c.Write([]byte(get("/bytes/10", false)))
			br := bufio.NewReader(c)
			if err := checkBytes(br, 10); err != nil {
				t.Fatal(err)
			}
			if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if b, err := br.ReadByte(); err == nil {
				t.Fatalf("idle keep-alive connection after SIGTERM: got byte %q; want it closed", b)
			} else if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal("idle keep-alive connection still open 15s after SIGTERM; want it closed")
			}
			waitExit0(t, s)
		})
	}
}
