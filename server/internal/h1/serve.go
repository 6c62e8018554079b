package h1

import (
	"bytes"
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
	maxLeadingEmpty = 8
	maxChunkLine    = 4096
	lingerTime      = time.Second
	lingerBytes     = 256 << 10
	outFlushAt      = 32 << 10 // flush the output buffer when a batch grows past this
)

// spinFor is how long the spin-after-reset fault burns CPU; spinHook sees it start. Tests
// change both.
var (
	spinFor  = 10 * time.Second
	spinHook func()
)

type field struct{ name, value []byte }

// request is the request being served; its slices point into server.head and server.body.
type request struct {
	method, target []byte
	version        []byte
	minor          int
	path           []byte // path of the target, without query
	asterisk       bool
	authority      []byte // of an absolute-form target
	fields         []field
	trailers       []field
	host           []byte
	hosts          int
	cl             int64 // -1: none
	cls            int
	te             bool
	chunked        bool
	close          bool // the response ends the connection
	keepAlive10    bool // HTTP/1.0 asked for keep-alive
	expect         bool
	body           []byte
}

// server serves one connection.
type server struct {
	c   Conn
	cfg Config
	f   *Faults

	buf  []byte // read buffer; buf[r:w] is unconsumed input
	r, w int
	out  []byte // responses not yet written

	lines   []int  // during readHead: ends of the head's lines (index of '\n'), relative to r
	head    []byte // copy of the current request's head
	tbuf    []byte // raw trailer lines
	scratch []byte
	req     request

	readTO  time.Duration // last read timeout set; -1: unknown
	headDL  time.Time     // deadline for the rest of the head
	bodyDL  time.Time     // deadline for the body, before the allowance for bytes received
	nread   int64         // bytes read from the connection so far
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

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// spin is the spin-after-reset fault: a child burning CPU with nobody connected.
func spin(d time.Duration) {
	if spinHook != nil {
		spinHook()
	}
	end := time.Now().Add(d)
	x := 0
	for time.Now().Before(end) {
		for i := 0; i < 1<<16; i++ {
			x += i
		}
	}
	_ = x
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

// readHead reads up to the end of the head, enforcing the line limits as bytes arrive, and
// copies the head into s.head. It returns keepOpen when a head is ready, or the action (and
// the error status to send, if any) that ends the connection.
func (s *server) readHead() (int, action) {
	s.req.reset()
	s.lines = s.lines[:0]
	s.headDL = time.Time{}
	pos := 0       // scan position relative to r
	lineStart := 0 // start of the current line relative to r
	hdrStart := -1 // start of the header section relative to r; -1 before the request line
	var rl requestLine
	leading := 0
	for {
		if s.r == s.w {
			// Between requests: wait for the first byte with the idle timeout.
			if len(s.out) > 0 {
				if s.flush() != nil {
					return 0, abort
				}
			}
			if s.setIdle(true) && !s.pending() {
				s.setIdle(false)
				return 0, closeSilent
			}
			e := s.fill(s.cfg.IdleTimeout)
			s.setIdle(false)
			switch e {
			case readEOF, readTimeout:
				return 0, closeSilent
			case readFailed:
				return 0, abort
			}
			continue
		}
		nl := bytes.IndexByte(s.buf[s.r+pos:s.w], '\n')
		if nl < 0 {
			pos = s.w - s.r
			// The line is incomplete: enforce limits now, not when it ends.
			if hdrStart < 0 {
				if pos-lineStart > s.cfg.MaxRequestLine {
					return lineTooLong(s.buf[s.r+lineStart:s.w], s.cfg.MaxRequestLine), closeLinger
				}
				if hasCTL(s.buf[s.r+lineStart : s.w]) {
					return 400, closeLinger
				}
			} else if pos-hdrStart > s.cfg.MaxHeaderBytes {
				return 431, closeLinger
			}
			if s.headDL.IsZero() {
				s.headDL = time.Now().Add(s.cfg.HeaderTimeout)
			}
			rem := time.Until(s.headDL)
			if rem <= 0 && !s.f.NoTimeout {
				return 408, closeLinger
			}
			if st, act := midRequest(s.fill(rem)); act != keepOpen {
				return st, act
			}
			continue
		}
		end := pos + nl // index of '\n' relative to r
		pos = end + 1
		contentEnd := end
		if end > lineStart && s.buf[s.r+end-1] == '\r' {
			contentEnd = end - 1
		} else if !s.f.BareLF {
			return 400, closeLinger // bare LF
		}
		line := s.buf[s.r+lineStart : s.r+contentEnd]
		switch {
		case hdrStart < 0 && len(line) == 0:
			leading++
			if leading > maxLeadingEmpty {
				return 400, closeLinger
			}
		case hdrStart < 0:
			if len(line) > s.cfg.MaxRequestLine {
				return lineTooLong(line, s.cfg.MaxRequestLine), closeLinger
			}
			var st int
			if rl, st = parseRequestLine(line); st != 0 {
				return st, closeLinger
			}
			// Drop the leading empty lines so the head starts at the request line.
			s.r += lineStart
			pos -= lineStart
			s.lines = append(s.lines, contentEnd-lineStart)
			lineStart = 0
			hdrStart = pos
		default:
			if pos-hdrStart > s.cfg.MaxHeaderBytes {
				return 431, closeLinger
			}
			if len(line) == 0 {
				s.copyHead(pos, rl)
				return 0, keepOpen
			}
			if bytes.IndexByte(line, '\r') >= 0 {
				return 400, closeLinger // bare CR inside a field line
			}
			if (len(s.lines)-1)/2 >= s.cfg.MaxHeaderFields {
				return 431, closeLinger
			}
			s.lines = append(s.lines, lineStart, contentEnd)
		}
		lineStart = pos
	}
}

// hasCTL reports a byte that can never appear in a request line (anything below SP except
// the CR of the line end, and DEL), so garbage such as a TLS hello is refused at once.
func hasCTL(b []byte) bool {
	for _, c := range b {
		if (c < ' ' && c != '\r') || c == 0x7f {
			return true
		}
	}
	return false
}

// copyHead copies the head (n bytes from r) into s.head, so that the body can reuse the read
// buffer, and slices the request line.
func (s *server) copyHead(n int, rl requestLine) {
	s.head = append(s.head[:0], s.buf[s.r:s.r+n]...)
	s.r += n
	s.req.setLine(s.head, rl)
}

// setLine points the request line's parts into h, the head the line was parsed from.
func (r *request) setLine(h []byte, rl requestLine) {
	r.method = h[rl.method[0]:rl.method[1]]
	r.target = h[rl.target[0]:rl.target[1]]
	r.version = h[rl.version[0]:rl.version[1]]
	r.minor = rl.minor
}

func (r *request) reset() {
	*r = request{fields: r.fields[:0], trailers: r.trailers[:0], body: r.body[:0], cl: -1}
}

// parseHead parses the header lines recorded by readHead and applies the message-level rules
// (Host, framing, connection). It returns an error status, or 0.
func (s *server) parseHead() int {
	h := s.head
	req := &s.req
	lines := s.lines[1:]
	for i := 0; i < len(lines); i += 2 {
		line := h[lines[i]:lines[i+1]]
		if line[0] == ' ' || line[0] == '\t' {
			// obs-fold (RFC 9112 §5.2)
			if !s.f.LenientWS || len(req.fields) == 0 {
				return 400
			}
			// Join in place: the previous value, the line break and the fold's leading
			// whitespace become spaces.
			prev := &req.fields[len(req.fields)-1]
			vstart := cap(h) - cap(prev.value)
			j := vstart + len(prev.value)
			for ; j < lines[i] || j < lines[i+1] && (h[j] == ' ' || h[j] == '\t'); j++ {
				h[j] = ' '
			}
			v := trimOWS(h[vstart:lines[i+1]])
			for _, c := range v {
				if !isFieldByte[c] {
					return 400
				}
			}
			prev.value = v
			continue
		}
		name, value, ok := splitField(line, s.f.LenientWS)
		if !ok {
			return 400
		}
		req.fields = append(req.fields, field{name, value})
	}
	for i := range req.fields {
		if st := s.noteField(&req.fields[i]); st != 0 {
			return st
		}
	}
	return s.checkHead()
}

// noteField records what the server needs from one header field.
func (s *server) noteField(f *field) int {
	req := &s.req
	switch len(f.name) {
	case 4:
		if eqFold(f.name, "host") {
			req.hosts++
			req.host = f.value
		}
	case 6:
		if eqFold(f.name, "expect") && eqFold(f.value, "100-continue") {
			req.expect = true
		}
	case 10:
		if eqFold(f.name, "connection") {
			eachToken(f.value, func(t []byte) {
				if eqFold(t, "close") {
					req.close = true
				} else if eqFold(t, "keep-alive") {
					req.keepAlive10 = true
				}
			})
		}
	case 14:
		if eqFold(f.name, "content-length") {
			req.cls++
			n, ok := parseContentLength(f.value)
			if !ok {
				return 400
			}
			req.cl = n
		}
	case 17:
		if eqFold(f.name, "transfer-encoding") {
			req.te = true
			st := 0
			empty := true
			eachToken(f.value, func(t []byte) {
				if len(t) == 0 {
					return // empty list elements are allowed (RFC 9110 §5.6.1)
				}
				empty = false
				if st != 0 {
					return
				}
				switch {
				case req.chunked:
					st = 400 // a coding after chunked: chunked is not last
				case eqFold(t, "chunked"):
					req.chunked = true
				default:
					st = 501 // unknown, or known but not decoded here (gzip, deflate, compress)
				}
			})
			if empty {
				return 400
			}
			return st
		}
	}
	return 0
}

// eachToken calls fn for each element of a comma-separated list, OWS trimmed; empty
// elements are passed as empty slices.
func eachToken(v []byte, fn func([]byte)) {
	for {
		i := 0
		for i < len(v) && v[i] != ',' {
			i++
		}
		fn(trimOWS(v[:i]))
		if i == len(v) {
			return
		}
		v = v[i+1:]
	}
}

// checkHead applies the rules that need the whole head.
func (s *server) checkHead() int {
	req := &s.req
	http10 := req.minor == 0
	if req.te {
		if http10 {
			return 400 // RFC 9112 §6.1: TE in HTTP/1.0 is a framing error
		}
		if req.cls > 0 && !s.f.SmuggleCL {
			return 400 // CL and TE together (RFC 9112 §6.1)
		}
		if !req.chunked {
			return 400 // chunked is not the final coding of a request
		}
		if s.f.SmuggleCL && req.cls > 0 {
			req.chunked = false
		}
	}
	if req.cls > 1 {
		return 400
	}
	if !s.f.NoHostCheck {
		if req.hosts > 1 || (req.hosts == 0 && !http10) || !validHost(req.host) {
			return 400
		}
	}
	if st := s.parseTarget(); st != 0 {
		return st
	}
	if http10 {
		req.close = req.close || !req.keepAlive10
		req.expect = false // RFC 9110 §10.1.1: ignored in HTTP/1.0
	}
	if req.cl > s.cfg.MaxBody {
		return 413
	}
	return 0
}

// parseTarget recognises the form of the request-target (RFC 9112 §3.2).
func (s *server) parseTarget() int {
	req := &s.req
	t := req.target
	switch {
	case t[0] == '/':
		req.path = t
	case len(t) == 1 && t[0] == '*':
		if string(req.method) != "OPTIONS" {
			return 400
		}
		req.asterisk = true
		return 0
	case hasSchemePrefix(t):
		rest := t[len("http://"):]
		if t[4] == 's' || t[4] == 'S' {
			rest = t[len("https://"):]
		}
		i := 0
		for i < len(rest) && rest[i] != '/' && rest[i] != '?' {
			i++
		}
		auth := rest[:i]
		if len(auth) == 0 || !validHost(auth) {
			return 400 // also refuses userinfo ('@' is not a reg-name byte)
		}
		req.authority = auth
		req.path = rest[i:]
		if len(req.path) == 0 || req.path[0] == '?' {
			req.path = rootPath
		}
	case string(req.method) == "CONNECT":
		return 0 // authority-form; answered 501 by route
	default:
		return 400
	}
	for i, c := range req.path {
		if c == '?' {
			req.path = req.path[:i]
			break
		}
	}
	return 0
}

var rootPath = []byte("/")

func hasSchemePrefix(t []byte) bool {
	return len(t) > 7 && eqFold(t[:7], "http://") || len(t) > 8 && eqFold(t[:8], "https://")
}

// readBody reads the request's content by its framing into s.req.body.
func (s *server) readBody() (int, action) {
	req := &s.req
	if !req.chunked && req.cl <= 0 {
		return 0, keepOpen
	}
	s.bodyDL, s.bodyAt = time.Now().Add(s.cfg.BodyTimeout), s.nread
	if req.expect && s.r == s.w && !s.f.No100 {
		s.out = append(s.out, "HTTP/1.1 100 Continue\r\n\r\n"...)
		if s.flush() != nil {
			return 0, abort
		}
	}
	if req.chunked {
		return s.readChunked()
	}
	n := int(req.cl)
	if cap(req.body) < n {
		req.body = make([]byte, 0, n)
	}
	body := req.body[:n]
	got := copy(body, s.buf[s.r:s.w])
	s.r += got
	for got < n {
		// Read straight into the body: exactly what is missing, never into the next request.
		wait, ok := s.bodyWait()
		if !ok {
			return 408, closeLinger
		}
		s.setReadTimeout(wait)
		m, err := s.c.Read(body[got:])
		got += m
		s.nread += int64(m)
		if m > 0 {
			continue
		}
		if st, act := midRequest(classify(err, &s.lastErr)); act != keepOpen {
			return st, act
		}
	}
	req.body = body
	return 0, keepOpen
}

// readLine returns the next line of the body section (chunk-size line or trailer line)
// without its terminator, valid until the next fill, or an error status / action.
func (s *server) readLine(limit, tooLong int) ([]byte, int, action) {
	pos := 0
	for {
		nl := bytes.IndexByte(s.buf[s.r+pos:s.w], '\n')
		if nl >= 0 {
			end := pos + nl
			line := s.buf[s.r : s.r+end]
			s.r += end + 1
			if len(line) > 0 && line[len(line)-1] == '\r' {
				line = line[:len(line)-1]
			} else if !s.f.BareLF {
				return nil, 400, closeLinger
			}
			for _, c := range line {
				if c == '\r' {
					return nil, 400, closeLinger // bare CR
				}
			}
			return line, 0, keepOpen
		}
		pos = s.w - s.r
		if pos > limit {
			return nil, tooLong, closeLinger
		}
		if st, act := s.fillBody(); act != keepOpen {
			return nil, st, act
		}
	}
}

// bodyRate is the allowance of the body deadline: one more second for every bodyRate bytes.
const bodyRate = 64 << 10

// bodyWait says how long the next body read may wait: BodyTimeout per read, and no later
// than the body's own deadline — BodyTimeout from the body's start plus a second for every
// 64 KiB received — so a client that drips a byte now and then cannot hold the connection
// (and, in fork mode, a process) for ever. ok is false once the deadline has passed.
func (s *server) bodyWait() (wait time.Duration, ok bool) {
	if s.f.NoTimeout {
		return 0, true
	}
	allowance := time.Duration((s.nread-s.bodyAt)/bodyRate) * time.Second
	rem := time.Until(s.bodyDL.Add(allowance))
	if rem <= 0 {
		return 0, false
	}
	return min(rem, s.cfg.BodyTimeout), true
}

func (s *server) fillBody() (int, action) {
	wait, ok := s.bodyWait()
	if !ok {
		return 408, closeLinger
	}
	return midRequest(s.fill(wait))
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

// readChunked decodes the chunked coding (RFC 9112 §7.1), trailers included.
func (s *server) readChunked() (int, action) {
	req := &s.req
	body := req.body[:0]
	for {
		line, st, act := s.readLine(maxChunkLine, 400)
		if act != keepOpen {
			return st, act
		}
		size, ok := parseChunkLine(line, s.f.BadChunked)
		if !ok {
			return 400, closeLinger
		}
		if size == 0 {
			break
		}
		if int64(len(body))+size > s.cfg.MaxBody {
			return 413, closeLinger
		}
		for size > 0 {
			if s.r == s.w {
				if st, act := s.fillBody(); act != keepOpen {
					return st, act
				}
				continue
			}
			n := min(int64(s.w-s.r), size)
			body = append(body, s.buf[s.r:s.r+int(n)]...)
			s.r += int(n)
			size -= n
		}
		for s.w-s.r < 2 {
			if s.w-s.r == 1 && s.buf[s.r] == '\n' && s.f.BareLF {
				break
			}
			if st, act := s.fillBody(); act != keepOpen {
				return st, act
			}
		}
		switch {
		case s.buf[s.r] == '\r' && s.buf[s.r+1] == '\n':
			s.r += 2
		case s.buf[s.r] == '\n' && s.f.BareLF:
			s.r++
		default:
			return 400, closeLinger // chunk data not followed by CRLF
		}
	}
	req.body = body
	// trailer-section, then CRLF
	s.tbuf = s.tbuf[:0]
	var spans [][2]int
	total := 0
	for {
		line, st, act := s.readLine(s.cfg.MaxHeaderBytes, 431)
		if act != keepOpen {
			return st, act
		}
		if len(line) == 0 {
			break
		}
		total += len(line) + 2
		if total > s.cfg.MaxHeaderBytes || len(spans) >= s.cfg.MaxHeaderFields {
			return 431, closeLinger
		}
		spans = append(spans, [2]int{len(s.tbuf), len(s.tbuf) + len(line)})
		s.tbuf = append(s.tbuf, line...)
	}
	for _, sp := range spans {
		line := s.tbuf[sp[0]:sp[1]]
		if line[0] == ' ' || line[0] == '\t' {
			return 400, closeLinger // obs-fold in a trailer
		}
		name, value, ok := splitField(line, s.f.LenientWS)
		if !ok {
			return 400, closeLinger
		}
		req.trailers = append(req.trailers, field{name, value})
	}
	return 0, keepOpen
}

// serveOneRecv is the one-recv fault: the classic learner server that reads the request with
// a single read of up to 1024 bytes, answers whatever arrived, and closes.
func (s *server) serveOneRecv() action {
	req := &s.req
	req.reset()
	s.setReadTimeout(s.cfg.IdleTimeout)
	n, err := s.c.Read(s.buf[:1024])
	if n <= 0 {
		if classify(err, &s.lastErr) == readFailed {
			return abort
		}
		return closeSilent
	}
	s.nreq++
	s.head = append(s.head[:0], s.buf[:n]...)
	h := s.head
	lineEnd := func(p int) (int, int) { // content end, next line start; -1 if none
		for i := p; i < len(h); i++ {
			if h[i] == '\n' {
				if i > p && h[i-1] == '\r' {
					return i - 1, i + 1
				}
				return i, i + 1
			}
		}
		return -1, -1
	}
	end, p := lineEnd(0)
	if end < 0 {
		end, p = len(h), len(h)
	}
	rl, st := parseRequestLine(h[:end])
	if st != 0 {
		s.errorResponse(st)
		return closeNow
	}
	req.setLine(h, rl)
	var body []byte
	for p < len(h) {
		e, next := lineEnd(p)
		if e < 0 {
			break // an incomplete line: ignored
		}
		line := h[p:e]
		p = next
		if len(line) == 0 {
			body = h[p:]
			break
		}
		if name, value, ok := splitField(line, true); ok {
			req.fields = append(req.fields, field{name, value})
		}
	}
	for i := range req.fields {
		s.noteField(&req.fields[i])
	}
	if s.parseTarget() != 0 {
		s.errorResponse(400)
		return closeNow
	}
	if req.cl >= 0 && int64(len(body)) > req.cl {
		body = body[:req.cl]
	}
	req.body = append(req.body[:0], body...) // never alias s.head: the buffers are reused
	req.close = true
	if !s.route() {
		return abort
	}
	return closeNow
}

// lineTooLong is the status for a request line over the limit max: 501 when its method alone
// is over it (RFC 9112 §3: a method "longer than any that it implements SHOULD" get 501), else
// 414 (a target "longer than any URI it wishes to parse MUST" get 414).
func lineTooLong(line []byte, max int) int {
	if sp := bytes.IndexByte(line, ' '); sp < 0 || sp > max {
		return 501
	}
	return 414
}
