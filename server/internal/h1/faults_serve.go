package h1

import (
	"errors"
	"syscall"
	"time"
)

// spinFor is how long the spin-after-reset fault burns CPU; spinHook sees it start. Tests
// change both.
var (
	spinFor  = 10 * time.Second
	spinHook func()
)

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
	req.head = rl.isHead(h[:end])
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
