package h1

import (
	"strconv"
	"sync/atomic"
	"time"
)

// reason is the reason phrase of a status code ("" when we know none). A switch, not a map
// literal: nothing to build at init (server's TestChildInitCost).
func reason(code int) string {
	switch code {
	case 100:
		return "Continue"
	case 101:
		return "Switching Protocols"
	case 200:
		return "OK"
	case 201:
		return "Created"
	case 202:
		return "Accepted"
	case 203:
		return "Non-Authoritative Information"
	case 204:
		return "No Content"
	case 205:
		return "Reset Content"
	case 206:
		return "Partial Content"
	case 300:
		return "Multiple Choices"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Found"
	case 303:
		return "See Other"
	case 304:
		return "Not Modified"
	case 305:
		return "Use Proxy"
	case 307:
		return "Temporary Redirect"
	case 308:
		return "Permanent Redirect"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 402:
		return "Payment Required"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 406:
		return "Not Acceptable"
	case 407:
		return "Proxy Authentication Required"
	case 408:
		return "Request Timeout"
	case 409:
		return "Conflict"
	case 410:
		return "Gone"
	case 411:
		return "Length Required"
	case 412:
		return "Precondition Failed"
	case 413:
		return "Content Too Large"
	case 414:
		return "URI Too Long"
	case 415:
		return "Unsupported Media Type"
	case 416:
		return "Range Not Satisfiable"
	case 417:
		return "Expectation Failed"
	case 418:
		return "I'm a teapot"
	case 421:
		return "Misdirected Request"
	case 422:
		return "Unprocessable Content"
	case 425:
		return "Too Early"
	case 426:
		return "Upgrade Required"
	case 428:
		return "Precondition Required"
	case 429:
		return "Too Many Requests"
	case 431:
		return "Request Header Fields Too Large"
	case 451:
		return "Unavailable For Legal Reasons"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 504:
		return "Gateway Timeout"
	case 505:
		return "HTTP Version Not Supported"
	}
	return ""
}

// appendStatusLine appends "HTTP/1.1 NNN Reason\r\n", built per response rather than from a
// table built at init (server's TestChildInitCost).
func appendStatusLine(dst []byte, code int) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	return append(appendStatusText(dst, code), '\r', '\n')
}

// appendStatusText appends "NNN Reason" (or "NNN Status NNN" for a code without a phrase).
func appendStatusText(dst []byte, code int) []byte {
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, ' ')
	if r := reason(code); r != "" {
		return append(dst, r...)
	}
	dst = append(dst, "Status "...)
	return strconv.AppendInt(dst, int64(code), 10)
}

// errorBody is the body of an error or /status response, "NNN Reason\n", in s.scratch (valid
// until the next use of s.scratch).
func (s *server) errorBody(code int) []byte {
	s.scratch = append(appendStatusText(s.scratch[:0], code), '\n')
	return s.scratch
}

type dateEntry struct {
	sec int64
	b   []byte // "Date: Mon, 02 Jan 2006 15:04:05 GMT\r\n"
}

var dateCache atomic.Pointer[dateEntry]

// appendDate appends the Date header line, formatting it at most once per second.
func appendDate(dst []byte) []byte {
	now := time.Now()
	sec := now.Unix()
	d := dateCache.Load()
	if d == nil || d.sec != sec {
		d = &dateEntry{sec: sec}
		d.b = append(d.b, "Date: "...)
		d.b = now.UTC().AppendFormat(d.b, "Mon, 02 Jan 2006 15:04:05 GMT")
		d.b = append(d.b, "\r\n"...)
		dateCache.Store(d)
	}
	return append(dst, d.b...)
}

// header starts a response: status line, Date, Server, connection fields.
func (s *server) header(status int) {
	if status < 100 || status > 599 {
		status = 500
	}
	s.out = appendStatusLine(s.out, status)
	if !s.f.NoDate {
		s.out = appendDate(s.out)
	}
	s.out = append(s.out, "Server: forkproof\r\n"...)
	if s.req.close {
		s.out = append(s.out, "Connection: close\r\n"...)
	} else if s.req.minor == 0 && s.req.version != nil {
		s.out = append(s.out, "Connection: keep-alive\r\n"...)
	}
}

// endHeader writes Content-Length (a wrong one with the wrong-length fault) and the blank line.
func (s *server) endHeader(n int64) {
	if s.f.WrongLength {
		n++
	}
	s.out = append(s.out, "Content-Length: "...)
	s.out = strconv.AppendInt(s.out, n, 10)
	s.out = append(s.out, "\r\n\r\n"...)
}

// sendsBody reports whether the response carries its content (not for HEAD).
func (s *server) sendsBody() bool {
	return !s.req.head || s.f.HeadBody
}

// respond writes a complete response with a body of the given type.
func (s *server) respond(status int, ctype string, body []byte) {
	s.header(status)
	if ctype != "" {
		s.out = append(s.out, "Content-Type: "...)
		s.out = append(s.out, ctype...)
		s.out = append(s.out, "\r\n"...)
	}
	s.endHeader(int64(len(body)))
	if s.sendsBody() {
		s.out = append(s.out, body...)
	}
}

// errorResponse answers a request the parser refused; the connection closes after it.
func (s *server) errorResponse(status int) {
	s.req.close = true
	s.respond(status, "text/plain; charset=utf-8", s.errorBody(status))
}
