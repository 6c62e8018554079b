package h1

import (
	"strconv"
	"sync/atomic"
	"time"
)

var reasons = map[int]string{
	100: "Continue", 101: "Switching Protocols",
	200: "OK", 201: "Created", 202: "Accepted", 203: "Non-Authoritative Information",
	204: "No Content", 205: "Reset Content", 206: "Partial Content",
	300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other",
	304: "Not Modified", 305: "Use Proxy", 307: "Temporary Redirect", 308: "Permanent Redirect",
	400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
	404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
	407: "Proxy Authentication Required", 408: "Request Timeout", 409: "Conflict", 410: "Gone",
	411: "Length Required", 412: "Precondition Failed", 413: "Content Too Large",
	414: "URI Too Long", 415: "Unsupported Media Type", 416: "Range Not Satisfiable",
	417: "Expectation Failed", 418: "I'm a teapot", 421: "Misdirected Request",
	422: "Unprocessable Content", 425: "Too Early", 426: "Upgrade Required",
	428: "Precondition Required", 429: "Too Many Requests",
	431: "Request Header Fields Too Large", 451: "Unavailable For Legal Reasons",
	500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
	503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
}

// statusLines holds "HTTP/1.1 NNN Reason\r\n" and errorBodies "NNN Reason\n" for every status
// 100..599. They are built into two arenas: every forked child runs this at start-up, so it
// must cost two allocations, not a thousand.
var statusLines, errorBodies = buildStatusTables()

func buildStatusTables() (lines, bodies [600][]byte) {
	la := make([]byte, 0, 500*40)
	ba := make([]byte, 0, 500*32)
	for code := 100; code < 600; code++ {
		start := len(la)
		la = append(la, "HTTP/1.1 "...)
		bstart := len(la)
		la = strconv.AppendInt(la, int64(code), 10)
		la = append(la, ' ')
		if r, ok := reasons[code]; ok {
			la = append(la, r...)
		} else {
			la = append(la, "Status "...)
			la = strconv.AppendInt(la, int64(code), 10)
		}
		b0 := len(ba)
		ba = append(ba, la[bstart:]...)
		ba = append(ba, '\n')
		la = append(la, '\r', '\n')
		lines[code] = la[start:len(la):len(la)]
		bodies[code] = ba[b0:len(ba):len(ba)]
	}
	return lines, bodies
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
	s.out = append(s.out, statusLines[status]...)
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
	return string(s.req.method) != "HEAD" || s.f.HeadBody
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
	s.respond(status, "text/plain; charset=utf-8", errorBodies[status])
}
