package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/forkproof/forkproof/internal/testbin"
)

// testServer is one `forkproof serve` process started by a test.
type testServer struct {
	t    *testing.T
	cmd  *exec.Cmd
	pid  int
	addr string
	port int
	mode string

	err  error // Wait's result; read it after done is closed
	done chan struct{}
}

// startServer runs the real binary with args (mode and more), waits for "listening on",
// streams its stderr into the test log and stops it (SIGTERM, then SIGKILL) at cleanup.
func startServer(t *testing.T, mode string, args ...string) *testServer {
	t.Helper()
	argv := append([]string{"serve", "-addr", "127.0.0.1:0", "-mode", mode}, args...)
	cmd := exec.Command(testbin.Path(t), argv...)
	lw := &logWriter{t: t, prefix: mode + ": ", ready: make(chan string, 1)}
	cmd.Stderr = lw
	cmd.WaitDelay = 5 * time.Second // children inherit stderr; never hang on the pipe
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting server: %v", err)
	}
	s := &testServer{t: t, cmd: cmd, pid: cmd.Process.Pid, mode: mode, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.stop()
		lw.close()
	})
	select {
	case a := <-lw.ready:
		s.addr = a
		_, p, _ := net.SplitHostPort(a)
		s.port, _ = strconv.Atoi(p)
	case <-s.done:
		t.Fatalf("server exited before listening: %v", s.err)
	case <-time.After(10 * time.Second):
		t.Fatalf("server did not print \"listening on\" within 10s")
	}
	return s
}

// stop sends SIGTERM and waits for the exit (SIGKILL after 10s); it returns Wait's error.
func (s *testServer) stop() error {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.t.Errorf("server %d did not exit 10s after SIGTERM; killing it", s.pid)
		s.cmd.Process.Kill()
		<-s.done
	}
	return s.err
}

type logWriter struct {
	t      *testing.T
	prefix string
	ready  chan string
	mu     sync.Mutex
	buf    []byte
	closed bool
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		if a, ok := strings.CutPrefix(line, "listening on "); ok {
			select {
			case w.ready <- a:
			default:
			}
		}
		if !w.closed {
			w.t.Logf("%s%s", w.prefix, line)
		}
	}
	return len(p), nil
}

// close stops logging: t.Logf after the test ends would panic.
func (w *logWriter) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
}

// children lists the server's children.
func (s *testServer) children() []int { return childrenOf(s.pid) }

// settle polls until the server has no zombie, its fd count is at most baseline and (when
// wantKids >= 0) it has exactly wantKids children, failing the test with the numbers if not.
func (s *testServer) settle(baselineFDs, wantKids int) {
	s.t.Helper()
	ok, desc := waitFor(10*time.Second, func() (bool, string) {
		z := zombiesOf(s.pid)
		kids := s.children()
		fds, err := fdsOf(s.pid)
		if err != nil {
			return false, err.Error()
		}
		desc := fmt.Sprintf("zombies %v, children %v (want %d), fds %d (baseline %d): %v",
			z, kids, wantKids, len(fds), baselineFDs, fds)
		return len(z) == 0 && len(fds) <= baselineFDs && (wantKids < 0 || len(kids) == wantKids), desc
	})
	if !ok {
		s.t.Fatalf("server %d did not settle: %s", s.pid, desc)
	}
}

// dial connects to the server with a deadline on every later read and write.
func (s *testServer) dial() net.Conn {
	s.t.Helper()
	c, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
	if err != nil {
		s.t.Fatalf("dial %s: %v", s.addr, err)
	}
	c.SetDeadline(time.Now().Add(15 * time.Second))
	s.t.Cleanup(func() { c.Close() })
	return c
}

// response is a parsed HTTP/1.1 response (enough for these tests: Content-Length framing).
type response struct {
	status int
	header map[string]string
	body   []byte
}

// readResponse reads one response framed by Content-Length (the server always sends it for
// the endpoints used here).
func readResponse(br *bufio.Reader) (*response, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("status line: %w", err)
	}
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/1.") {
		return nil, fmt.Errorf("status line %q", line)
	}
	r := &response{header: map[string]string{}}
	if r.status, err = strconv.Atoi(f[1]); err != nil {
		return nil, fmt.Errorf("status line %q", line)
	}
	for {
		h, err := br.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("header: %w", err)
		}
		h = strings.TrimRight(h, "\r\n")
		if h == "" {
			break
		}
		k, v, _ := strings.Cut(h, ":")
		r.header[strings.ToLower(k)] = strings.TrimSpace(v)
	}
	n, err := strconv.Atoi(r.header["content-length"])
	if err != nil {
		return nil, fmt.Errorf("content-length %q", r.header["content-length"])
	}
	r.body = make([]byte, n)
	if _, err := io.ReadFull(br, r.body); err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	return r, nil
}

// bytesBody is what GET /bytes/n answers: byte i is 'a' + i%26.
func bytesBody(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

func get(path string, close bool) string {
	c := ""
	if close {
		c = "Connection: close\r\n"
	}
	return "GET " + path + " HTTP/1.1\r\nHost: t\r\n" + c + "\r\n"
}

// checkBytes reads one response to GET /bytes/n and checks it.
func checkBytes(br *bufio.Reader, n int) error {
	r, err := readResponse(br)
	if err != nil {
		return err
	}
	if r.status != 200 || !bytes.Equal(r.body, bytesBody(n)) {
		return fmt.Errorf("GET /bytes/%d: status %d, %d body bytes; want 200 and %d bytes of the pattern", n, r.status, len(r.body), n)
	}
	return nil
}

// run runs a test body against each process model.
func run(t *testing.T, f func(t *testing.T, mode string)) {
	for _, m := range Modes {
		t.Run(m, func(t *testing.T) { f(t, m) })
	}
}
