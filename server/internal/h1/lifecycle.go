package h1

import (
	"errors"
	"io"
	"os"
	"sync"
	"syscall"
	"time"
)

// What to do with the connection after a request.
type action int

const (
	keepOpen    action = iota
	closeNow           // response said Connection: close; close after sending it
	closeLinger        // framing error: send, half-close, drain the peer for a bounded time
	closeSilent        // nothing to say: EOF, idle timeout, drain
	abort              // the connection failed (reset, write error)
)

const (
	lingerTime  = time.Second
	lingerBytes = 256 << 10
	outFlushAt  = 32 << 10 // flush the output buffer when a batch grows past this
)

// server serves one connection.
type server struct {
	c   Conn
	cfg Config
	f   *Faults

	buf  []byte // read buffer; buf[r:w] is unconsumed input
	r, w int
	out  []byte // responses not yet written

	// lines are offsets from the start of the head (from r while readHead scans, then into
	// head): the request line's end, then a start and an end for each field line; an end
	// excludes the line terminator.
	lines   []int
	head    []byte // copy of the current request's head
	tbuf    []byte // raw trailer lines
	scratch []byte
	req     request

	readTO  time.Duration // last read timeout set; -1: unknown
	headDL  time.Time     // deadline for the rest of the head
	bodyDL  time.Time     // deadline for the body, before the allowance for bytes received
	nread   int64         // bytes read by fill and readBody so far (for the body deadline)
	bodyAt  int64         // nread when the current body started
	nreq    int
	lastErr error

	// graceful shutdown; drain is nil when ServeConn got none
	drain    <-chan struct{}
	mu       sync.Mutex
	idle     bool
	draining bool
}

var serverPool = sync.Pool{New: func() any { return new(server) }}

// ServeConn serves HTTP/1.1 on c until the connection ends, then closes c.
//
// When drain is closed (graceful shutdown): a connection idle between requests with nothing
// pending is closed at once; a request in progress gets its full response with
// "Connection: close", then the connection closes. Requests already buffered, or pending in
// the socket (see Pender), are answered first. A nil drain never fires.
func ServeConn(c Conn, cfg *Config, drain <-chan struct{}) {
	s := serverPool.Get().(*server)
	if cfg == nil {
		d := DefaultConfig()
		cfg = &d
	}
	s.init(c, cfg)
	var done, stopped chan struct{}
	if drain != nil {
		s.drain = drain
		done, stopped = make(chan struct{}), make(chan struct{})
		go func() {
			defer close(stopped)
			s.watchDrain(drain, done)
		}()
	}
	start := time.Now()
	why := s.serve()
	if done != nil {
		close(done)
		<-stopped // the watcher touches s: it must be gone before s is reused
	}
	if s.cfg.Verbose {
		s.cfg.Log.Info("connection", "requests", s.nreq, "end", why, "err", s.lastErr, "duration", time.Since(start))
	}
	s.release()
	serverPool.Put(s)
}

func (s *server) init(c Conn, cfg *Config) {
	s.c = c
	s.cfg = cfg.normalized()
	s.f = &s.cfg.Faults
	need := s.cfg.MaxRequestLine + s.cfg.MaxHeaderBytes + 2*maxLeadingEmpty + 64
	if need < 8192 {
		need = 8192
	}
	if cap(s.buf) < need || cap(s.buf) > 2*need {
		s.buf = make([]byte, need)
	}
	s.buf = s.buf[:need]
	s.r, s.w = 0, 0
	s.out = s.out[:0]
	s.readTO = -1
	s.nreq = 0
	s.lastErr = nil
	s.drain, s.idle, s.draining = nil, false, false
}

// release drops references and oversized buffers before the server returns to the pool.
func (s *server) release() {
	s.c = nil
	s.drain = nil
	s.cfg.Log = nil
	s.req.reset()
	if cap(s.out) > 256<<10 {
		s.out = nil
	}
	if cap(s.scratch) > 256<<10 {
		s.scratch = nil
	}
	if cap(s.tbuf) > 64<<10 {
		s.tbuf = nil
	}
	if cap(s.head) > 64<<10 {
		s.head = nil
	}
	if cap(s.req.body) > 1<<20 {
		s.req.body = nil
	}
}

func (s *server) watchDrain(drain <-chan struct{}, done chan struct{}) {
	select {
	case <-done:
		return
	case <-drain:
	}
	s.mu.Lock()
	s.draining = true
	if s.idle && !s.pending() {
		// Make the blocked read for the next request return. If bytes slip in between the
		// check and the shutdown, Linux still delivers them before EOF and they are served.
		s.c.CloseRead()
	}
	s.mu.Unlock()
}

func (s *server) pending() bool {
	if p, ok := s.c.(Pender); ok {
		return p.Pending()
	}
	return false
}

// isDraining reports whether graceful shutdown has begun. It looks at the channel itself,
// not only at the watcher's flag, so the answer does not depend on goroutine scheduling.
func (s *server) isDraining() bool {
	select { // a nil drain is never ready
	case <-s.drain:
		return true
	default:
		return false
	}
}

// setIdle marks whether the server is blocked waiting for the next request, for the drain
// watcher, and reports whether draining has begun.
func (s *server) setIdle(idle bool) (draining bool) {
	if s.drain == nil {
		return false
	}
	s.mu.Lock()
	s.idle = idle
	s.mu.Unlock()
	return s.isDraining()
}

func (s *server) serve() string {
	s.c.SetWriteTimeout(s.cfg.WriteTimeout)
	var act action
	if s.f.OneRecv {
		act = s.serveOneRecv()
	} else {
		for act = keepOpen; act == keepOpen; {
			act = s.serveRequest()
		}
	}
	return s.finish(act)
}

func (s *server) finish(act action) string {
	if act != abort && len(s.out) > 0 {
		if err := s.flush(); err != nil {
			act = abort
		}
	}
	switch act {
	case closeNow:
		// Linger only when the client has sent more than was served; otherwise close sends
		// the FIN at once (a shutdown first would only cost a syscall).
		if s.r < s.w || s.pending() {
			s.c.CloseWrite()
			s.linger()
		}
		s.c.Close()
		return "close"
	case closeLinger:
		s.c.CloseWrite()
		s.linger()
		s.c.Close()
		return "error"
	case closeSilent:
		s.c.Close()
		return "idle"
	default:
		if s.f.SpinAfterReset && isReset(s.lastErr) {
			spin(spinFor)
		}
		s.c.Close()
		return "abort"
	}
}

// linger reads and discards what the peer still sends, for a bounded time and amount, so
// that closing does not turn into a reset that destroys the response in flight.
func (s *server) linger() {
	deadline := time.Now().Add(lingerTime)
	total := 0
	for total < lingerBytes {
		rem := time.Until(deadline)
		if rem <= 0 {
			return
		}
		s.c.SetReadTimeout(rem)
		n, err := s.c.Read(s.buf)
		total += n
		if err != nil {
			return
		}
	}
}

func (s *server) flush() error {
	if len(s.out) == 0 {
		return nil
	}
	err := s.writeAll(s.out)
	s.out = s.out[:0]
	return err
}

func (s *server) writeAll(p []byte) error {
	for len(p) > 0 {
		n, err := s.c.Write(p)
		if err != nil {
			s.lastErr = err
			return err
		}
		if n <= 0 {
			s.lastErr = io.ErrShortWrite
			return io.ErrShortWrite
		}
		p = p[n:]
	}
	return nil
}

func (s *server) setReadTimeout(d time.Duration) {
	if s.f.NoTimeout {
		d = 0
	}
	if d != s.readTO {
		s.c.SetReadTimeout(d)
		s.readTO = d
	}
}

// readErr classifies the error of a read.
type readErr int

const (
	readOK readErr = iota
	readEOF
	readTimeout
	readFailed
)

// fill reads more input into buf[w:], after flushing pending output (never block on a read
// with responses unsent) and compacting the buffer when its tail is short. Offsets relative
// to r stay valid.
func (s *server) fill(timeout time.Duration) readErr {
	if len(s.out) > 0 {
		if err := s.flush(); err != nil {
			return readFailed
		}
	}
	if s.r > 0 && (s.r == s.w || len(s.buf)-s.w < 4096) {
		copy(s.buf, s.buf[s.r:s.w])
		s.w -= s.r
		s.r = 0
	}
	if s.w == len(s.buf) {
		return readFailed // callers bound their lines below the buffer size
	}
	s.setReadTimeout(timeout)
	n, err := s.c.Read(s.buf[s.w:])
	s.w += n
	s.nread += int64(n)
	if n > 0 {
		return readOK
	}
	return classify(err, &s.lastErr)
}

func classify(err error, last *error) readErr {
	switch {
	case err == nil:
		return readOK // a zero-byte read without error: callers loop
	case errors.Is(err, io.EOF):
		return readEOF
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, syscall.EAGAIN):
		return readTimeout
	}
	*last = err
	return readFailed
}

// midRequest says what a read that ended other than with data means in the middle of a
// request: EOF closes quietly, a timeout is answered 408, a failure aborts; readOK (a
// zero-byte read) goes on.
func midRequest(r readErr) (int, action) {
	switch r {
	case readEOF:
		return 0, closeSilent
	case readTimeout:
		return 408, closeLinger
	case readFailed:
		return 0, abort
	}
	return 0, keepOpen
}

// serveRequest reads, answers and finishes one request.
func (s *server) serveRequest() action {
	status, act := s.readHead()
	if act != keepOpen {
		if status != 0 {
			s.errorResponse(status)
		}
		return act
	}
	s.nreq++
	if status = s.parseHead(); status != 0 {
		return s.fail(status)
	}
	if status, act = s.readBody(); act != keepOpen {
		if status != 0 {
			s.errorResponse(status)
		}
		return act
	}
	if s.f.DropPipelined {
		s.r = s.w
	}
	if s.req.close && s.f.IgnoreClose {
		s.req.close = false
	}
	if !s.req.close && s.isDraining() && s.r == s.w && !s.pending() {
		s.req.close = true
	}
	if !s.route() {
		return abort
	}
	if len(s.out) >= outFlushAt {
		if s.flush() != nil {
			return abort
		}
	}
	if s.req.close {
		return closeNow
	}
	return keepOpen
}

// fail answers a request whose framing cannot be trusted, and closes.
func (s *server) fail(status int) action {
	s.errorResponse(status)
	return closeLinger
}
