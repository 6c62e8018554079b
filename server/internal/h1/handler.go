package h1

import (
	"encoding/base64"
	"strconv"
	"sync"
	"time"
)

const (
	rootBody   = "Hello from forkproof, the reference HTTP/1.1 server.\n"
	allowAll   = "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH, TRACE"
	allowRoot  = "GET, HEAD, OPTIONS"
	allowEcho  = "POST, PUT, OPTIONS"
	textPlain  = "text/plain; charset=utf-8"
	bytesBlock = 26 * 2048 // multiple of the /bytes pattern period
)

// bytesPattern is the content of /bytes/N: byte i is 'a' + i%26. Built on first use, not at
// init (server's TestChildInitCost): most children never serve /bytes.
var bytesPattern = sync.OnceValue(func() []byte {
	b := make([]byte, bytesBlock)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return b
})

func knownMethod(m []byte) bool {
	switch string(m) {
	case "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE":
		return true
	}
	return false
}

// route answers the request; false when writing failed.
func (s *server) route() bool {
	req := &s.req
	m := string(req.method)
	if !knownMethod(req.method) {
		s.respond(501, textPlain, s.errorBody(501))
		return true
	}
	if req.asterisk {
		s.allow(200, allowAll)
		return true
	}
	p := req.path
	switch {
	case string(p) == "/":
		switch m {
		case "GET", "HEAD":
			s.respond(200, textPlain, []byte(rootBody))
		case "OPTIONS":
			s.allow(200, allowRoot)
		default:
			s.allow(405, allowRoot)
		}
	case string(p) == "/echo":
		switch m {
		case "POST", "PUT":
			s.respond(200, "application/octet-stream", req.body)
		case "OPTIONS":
			s.allow(200, allowEcho)
		default:
			s.allow(405, allowEcho)
		}
	case string(p) == "/reflect":
		s.reflect()
	case hasPrefix(p, "/bytes/"):
		if !s.getOnly(m) {
			return true
		}
		n, ok := parseDecimal(p[len("/bytes/"):])
		if !ok || n > s.cfg.MaxBytes {
			s.respond(400, textPlain, s.errorBody(400))
			return true
		}
		return s.sendBytes(n)
	case hasPrefix(p, "/status/"):
		if !s.getOnly(m) {
			return true
		}
		n, ok := parseDecimal(p[len("/status/"):])
		if !ok || n < 200 || n > 599 {
			s.respond(400, textPlain, s.errorBody(400))
			return true
		}
		s.status(int(n))
	case hasPrefix(p, "/sleep/"):
		if !s.getOnly(m) {
			return true
		}
		n, ok := parseDecimal(p[len("/sleep/"):])
		d := time.Duration(n) * time.Millisecond
		if !ok || n > int64(s.cfg.MaxSleep/time.Millisecond) {
			s.respond(400, textPlain, s.errorBody(400))
			return true
		}
		if s.flush() != nil { // earlier pipelined responses do not wait for the sleep
			return false
		}
		time.Sleep(d)
		s.respond(200, textPlain, []byte("slept\n"))
	default:
		s.respond(404, textPlain, s.errorBody(404))
	}
	return true
}

// getOnly answers 405 (or OPTIONS) for methods other than GET and HEAD.
func (s *server) getOnly(m string) bool {
	switch m {
	case "GET", "HEAD":
		return true
	case "OPTIONS":
		s.allow(200, allowRoot)
	default:
		s.allow(405, allowRoot)
	}
	return false
}

func (s *server) allow(status int, methods string) {
	s.header(status)
	s.out = append(s.out, "Allow: "...)
	s.out = append(s.out, methods...)
	s.out = append(s.out, "\r\n"...)
	if status == 200 {
		s.endHeader(0)
		return
	}
	s.out = append(s.out, "Content-Type: "+textPlain+"\r\n"...)
	body := s.errorBody(status)
	s.endHeader(int64(len(body)))
	if s.sendsBody() {
		s.out = append(s.out, body...)
	}
}

func (s *server) status(code int) {
	switch code {
	case 204, 304:
		// No content and no Content-Length (RFC 9110 §8.6, §15.3.5, §15.4.5).
		s.header(code)
		s.out = append(s.out, "\r\n"...)
	case 205:
		s.header(code)
		s.endHeader(0)
	default:
		s.respond(code, textPlain, s.errorBody(code))
	}
}

func (s *server) sendBytes(n int64) bool {
	s.header(200)
	s.out = append(s.out, "Content-Type: application/octet-stream\r\n"...)
	s.endHeader(n)
	if !s.sendsBody() {
		return true
	}
	// Small bodies join the batch; big ones go out in pattern-sized writes.
	off := int64(0)
	for n > 0 {
		o := int(off % bytesBlock)
		k := min(n, int64(bytesBlock-o))
		chunk := bytesPattern()[o : o+int(k)]
		off += k
		n -= k
		if len(s.out)+len(chunk) <= 64<<10 {
			s.out = append(s.out, chunk...)
			continue
		}
		if s.flush() != nil || s.writeAll(chunk) != nil {
			return false
		}
	}
	return true
}

// reflect answers with JSON describing the request as parsed.
func (s *server) reflect() {
	req := &s.req
	s.header(200)
	s.out = append(s.out, "Content-Type: application/json\r\n"...)
	// Build the JSON at the end of out to measure it, then move it behind Content-Length.
	mark := len(s.out)
	b := s.out
	b = append(b, `{"method":`...)
	b = appendJSONString(b, req.method)
	b = append(b, `,"target":`...)
	b = appendJSONString(b, req.target)
	b = append(b, `,"version":`...)
	b = appendJSONString(b, req.version)
	b = append(b, `,"headers":`...)
	b = appendFields(b, req.fields)
	b = append(b, `,"body":"`...)
	b = base64.StdEncoding.AppendEncode(b, req.body)
	b = append(b, `","trailers":`...)
	b = appendFields(b, req.trailers)
	b = append(b, "}\n"...)
	json := len(b) - mark
	s.scratch = append(s.scratch[:0], b[mark:]...)
	s.out = b[:mark]
	s.endHeader(int64(json))
	if s.sendsBody() {
		s.out = append(s.out, s.scratch...)
	}
}

func appendFields(b []byte, fs []field) []byte {
	b = append(b, '[')
	for i, f := range fs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = appendJSONString(b, f.name)
		b = append(b, ',')
		b = appendJSONString(b, f.value)
		b = append(b, ']')
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, reading its bytes as ISO-8859-1 so that any
// byte sequence round-trips.
func appendJSONString(b []byte, s []byte) []byte {
	b = append(b, '"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c >= 0x7f:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func hasPrefix(b []byte, p string) bool {
	return len(b) >= len(p) && string(b[:len(p)]) == p
}

// parseDecimal parses 1..18 decimal digits.
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || b[0] == '+' || b[0] == '-' {
		return 0, false
	}
	return n, true
}
