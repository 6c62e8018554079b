package h1

import (
	"bytes"
	"time"
)

// maxChunkLine bounds a chunk-size line, extensions included; a longer one is a 400.
const maxChunkLine = 4096

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
