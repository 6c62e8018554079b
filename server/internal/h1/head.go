package h1

import (
	"bytes"
	"time"
)

// maxLeadingEmpty empty lines before a request line are ignored; one more is a 400.
const maxLeadingEmpty = 8

type field struct{ name, value []byte }

// request is the request being served. The request line and header fields point into
// server.head, the trailers into server.tbuf; body is the request's own buffer, and path may
// be rootPath.
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
	head           bool // the request line names HEAD: no response to it carries content
	close          bool // the response ends the connection
	keepAlive10    bool // HTTP/1.0 asked for keep-alive
	expect         bool
	body           []byte
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
			rl, st = parseRequestLine(line)
			// Known from here on, so that a refusal of the rest of this head (505 for the
			// version, 400, 431, 408) is framed as its client frames it: no content to HEAD.
			s.req.head = rl.isHead(line)
			if st != 0 {
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

// lineTooLong is the status for a request line over the limit max: 501 when its method alone
// is over it (RFC 9112 §3: a method "longer than any that it implements SHOULD" get 501), else
// 414 (a target "longer than any URI it wishes to parse MUST" get 414).
func lineTooLong(line []byte, max int) int {
	if sp := bytes.IndexByte(line, ' '); sp < 0 || sp > max {
		return 501
	}
	return 414
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
