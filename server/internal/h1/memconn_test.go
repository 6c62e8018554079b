package h1

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// pipe is one direction of an in-memory connection, with FIN, shutdown and reset.
type pipe struct {
	mu      sync.Mutex
	buf     []byte
	fin     bool // writer closed: EOF once buf is drained
	shut    bool // reader shut down (SHUT_RD): EOF once buf is drained, writes fail
	reset   bool // reads fail with ECONNRESET
	changed chan struct{}
	nread   int
}

func newPipe() *pipe { return &pipe{changed: make(chan struct{})} }

func (p *pipe) notify() {
	close(p.changed)
	p.changed = make(chan struct{})
}

func (p *pipe) read(b []byte, timeout time.Duration) (int, error) {
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	for {
		p.mu.Lock()
		if p.reset {
			p.mu.Unlock()
			return 0, syscall.ECONNRESET
		}
		if len(p.buf) > 0 {
			n := copy(b, p.buf)
			p.buf = p.buf[n:]
			p.nread += n
			p.notify()
			p.mu.Unlock()
			return n, nil
		}
		if p.fin || p.shut {
			p.mu.Unlock()
			return 0, io.EOF
		}
		ch := p.changed
		p.mu.Unlock()
		select {
		case <-ch:
		case <-expired:
			return 0, os.ErrDeadlineExceeded
		}
	}
}

func (p *pipe) write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fin || p.shut || p.reset {
		return 0, syscall.EPIPE
	}
	p.buf = append(p.buf, b...)
	p.notify()
	return len(b), nil
}

func (p *pipe) set(f func(p *pipe)) {
	p.mu.Lock()
	f(p)
	p.notify()
	p.mu.Unlock()
}

// memConn is the server's end of an in-memory connection; it implements Conn and Pender.
type memConn struct {
	in, out *pipe
	readTO  time.Duration
	mu      sync.Mutex
	writes  int
	closed  bool
}

func (c *memConn) Read(b []byte) (int, error) { return c.in.read(b, c.readTO) }
func (c *memConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	return c.out.write(b)
}
func (c *memConn) SetReadTimeout(d time.Duration) error  { c.readTO = d; return nil }
func (c *memConn) SetWriteTimeout(d time.Duration) error { return nil }
func (c *memConn) CloseRead() error                      { c.in.set(func(p *pipe) { p.shut = true }); return nil }
func (c *memConn) CloseWrite() error                     { c.out.set(func(p *pipe) { p.fin = true }); return nil }
func (c *memConn) Close() error {
	c.in.set(func(p *pipe) { p.shut = true })
	c.out.set(func(p *pipe) { p.fin = true })
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return nil
}
func (c *memConn) Pending() bool {
	c.in.mu.Lock()
	defer c.in.mu.Unlock()
	return len(c.in.buf) > 0
}

func (c *memConn) writeCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes
}

// client is the test's end of a connection served by ServeConn in a goroutine.
type client struct {
	t    testing.TB
	conn *memConn
	done chan struct{}
	got  []byte // received, not yet consumed
}

const readWait = 5 * time.Second // deadline of every client read

// testConfig returns a fresh default config, without a logger (the engine then discards its
// log). It takes t so that every helper that builds a server reads alike.
func testConfig(t testing.TB) *Config {
	cfg := DefaultConfig()
	return &cfg
}

// startServer serves one in-memory connection and stops it at cleanup.
func startServer(t testing.TB, cfg *Config, drain <-chan struct{}) *client {
	t.Helper()
	return startServerWith(t, cfg, drain, "")
}

// startServerWith is startServer with input already waiting when the server starts.
func startServerWith(t testing.TB, cfg *Config, drain <-chan struct{}, pre string) *client {
	t.Helper()
	if cfg == nil {
		cfg = testConfig(t)
	}
	c := &client{t: t, conn: &memConn{in: newPipe(), out: newPipe()}, done: make(chan struct{})}
	c.conn.in.buf = []byte(pre)
	go func() {
		defer close(c.done)
		ServeConn(c.conn, cfg, drain)
	}()
	t.Cleanup(func() {
		c.conn.in.set(func(p *pipe) { p.fin = true })
		c.conn.out.set(func(p *pipe) { p.shut = true })
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			t.Errorf("ServeConn did not return after the client closed")
		}
	})
	return c
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := c.conn.in.write([]byte(s)); err != nil {
		c.t.Fatalf("send %q: %v", s, err)
	}
}

// closeWrite half-closes the client side (FIN).
func (c *client) closeWrite() { c.conn.in.set(func(p *pipe) { p.fin = true }) }

// readAll reads until the server closes, with a deadline.
func (c *client) readAll() string {
	c.t.Helper()
	deadline := time.Now().Add(readWait)
	b := make([]byte, 64<<10)
	for {
		n, err := c.conn.out.read(b, time.Until(deadline))
		c.got = append(c.got, b[:n]...)
		if err == io.EOF {
			s := string(c.got)
			c.got = nil
			return s
		}
		if err != nil {
			c.t.Fatalf("reading until close: %v (got %q)", err, c.got)
		}
	}
}

// waitClosed waits for ServeConn to return.
func (c *client) waitClosed() {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(readWait):
		c.t.Fatalf("server did not close the connection within %s", readWait)
	}
}

// response is one parsed response.
type response struct {
	status int
	header map[string][]string // lower-case names
	body   string
	raw    string
}

func (r *response) get(name string) string {
	if v := r.header[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// readResponse reads one response (framed by Content-Length; none for HEAD, 1xx, 204, 304).
func (c *client) readResponse(head bool) *response {
	c.t.Helper()
	r, err := c.readResponseErr(head, readWait)
	if err != nil {
		c.t.Fatalf("reading response: %v", err)
	}
	return r
}

func (c *client) readResponseErr(head bool, wait time.Duration) (*response, error) {
	deadline := time.Now().Add(wait)
	b := make([]byte, 64<<10)
	more := func() error {
		n, err := c.conn.out.read(b, time.Until(deadline))
		c.got = append(c.got, b[:n]...)
		if n > 0 {
			return nil
		}
		return err
	}
	for {
		r, n, ok := parseResponse(c.got, head)
		if ok {
			c.got = c.got[n:]
			return r, nil
		}
		if err := more(); err != nil {
			return nil, &respErr{err, string(c.got)}
		}
	}
}

type respErr struct {
	err error
	got string
}

func (e *respErr) Error() string { return e.err.Error() + " after " + strconv.Quote(e.got) }

// parseResponse parses a response at the start of b; ok is false when it is incomplete.
// A malformed response is reported as a status of -1 covering all of b.
func parseResponse(b []byte, head bool) (*response, int, bool) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return nil, 0, false
	}
	lines := strings.Split(string(b[:end]), "\r\n")
	r := &response{header: map[string][]string{}}
	if !strings.HasPrefix(lines[0], "HTTP/1.1 ") || len(lines[0]) < 12 {
		return &response{status: -1, raw: string(b)}, len(b), true
	}
	r.status, _ = strconv.Atoi(lines[0][9:12])
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, ":")
		k = strings.ToLower(k)
		r.header[k] = append(r.header[k], strings.TrimSpace(v))
	}
	n := end + 4
	cl := 0
	if v := r.get("content-length"); v != "" && !head && r.status >= 200 && r.status != 204 && r.status != 304 {
		cl, _ = strconv.Atoi(v)
	}
	if len(b) < n+cl {
		return nil, 0, false
	}
	r.body = string(b[n : n+cl])
	r.raw = string(b[:n+cl])
	return r, n + cl, true
}

// exchangeRaw sends raw on a fresh connection, half-closes, and returns all the output.
func exchangeRaw(t testing.TB, cfg *Config, raw string) string {
	t.Helper()
	c := startServer(t, cfg, nil)
	c.send(raw)
	c.closeWrite()
	all := c.readAll()
	c.waitClosed()
	return all
}

// exchange sends raw on a fresh connection, half-closes, and returns every response.
func exchange(t testing.TB, cfg *Config, raw string, head bool) ([]*response, string) {
	t.Helper()
	all := exchangeRaw(t, cfg, raw)
	var rs []*response
	b := []byte(all)
	for len(b) > 0 {
		r, n, ok := parseResponse(b, head)
		if !ok {
			t.Fatalf("for %q: truncated response %q", raw, b)
		}
		rs = append(rs, r)
		b = b[n:]
	}
	return rs, all
}
