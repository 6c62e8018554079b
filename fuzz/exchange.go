package fuzz

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/forkproof/forkproof/spec/wire"
)

// Input is one fuzz input: bytes for one connection and how to deliver them.
type Input struct {
	Send      []byte
	SplitAt   []int
	Pause     time.Duration
	HalfClose bool
	// Mutation names what made the input invalid ("" for none, a Mutation's name, or a
	// byte-level mutation like "insert-cr"); Must says a 2xx to it is a bug in any target.
	Mutation string
	Must     bool
}

// Finding kinds.
const (
	KindNoResponse    = "no-response"    // closed or reset without a response to a complete request
	KindHang          = "hang"           // no response to a complete request within the timeout
	KindIllFramed     = "ill-framed"     // a response the strict reader rejects, or a truncated one
	KindEarlyResponse = "early-response" // a response to a request that had not fully arrived
	KindAcceptInvalid = "2xx-to-invalid" // a 2xx to a request every server must reject
	KindTargetDied    = "target-died"    // the target process died or stopped accepting
	KindZombie        = "zombie"         // zombie children after the campaign
	KindFDLeak        = "fd-leak"        // open fds grew beyond tolerance after the campaign
)

// analysis is what the judge makes of an input's bytes.
type analysis struct {
	reqs []parsedReq
	// tail is what follows the complete requests: tailNone, tailInvalid (rule) or
	// tailIncomplete (headDone says whether the head of the incomplete request is complete).
	tail     int
	rule     string
	headDone bool
}

type parsedReq struct {
	method string
	end    int  // offset just past the request
	close  bool // the connection may close after its response (HTTP/1.0, Connection: close)
}

const (
	tailNone = iota
	tailInvalid
	tailIncomplete
)

func analyze(b []byte) analysis {
	var a analysis
	off := 0
	for off < len(b) {
		req, n, err := wire.ParseRequest(b[off:])
		if err != nil {
			var we *wire.Error
			switch {
			case errors.As(err, &we):
				a.tail, a.rule = tailInvalid, we.Rule
			default:
				a.tail = tailIncomplete
				a.headDone = bytes.Contains(b[off:], []byte("\r\n\r\n"))
			}
			return a
		}
		off += n
		p := parsedReq{method: req.Method, end: off, close: req.Version == "HTTP/1.0"}
		for _, f := range req.Header {
			if strings.EqualFold(f[0], "Connection") {
				v := strings.ToLower(f[1])
				p.close = p.close && !strings.Contains(v, "keep-alive") || strings.Contains(v, "close")
			}
		}
		a.reqs = append(a.reqs, p)
	}
	return a
}

// valid reports whether the input is nothing but complete, valid requests.
func (a analysis) valid() bool { return a.tail == tailNone && len(a.reqs) > 0 }

// result is what one exchange showed.
type result struct {
	kind, detail string // kind "" when nothing is wrong
	responses    int    // responses judged
	reusable     bool   // the connection is in a known state and open for the next input
}

// conn is one connection to the target with its buffered reader.
type conn struct {
	c  net.Conn
	br *bufio.Reader
}

func dial(addr string, timeout time.Duration) (*conn, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	return &conn{c: c, br: bufio.NewReaderSize(c, 16<<10)}, nil
}

func (c *conn) close() { c.c.Close() }

// readable reports whether bytes are waiting, without blocking more than a millisecond.
func (c *conn) readable() bool {
	if c.br.Buffered() > 0 {
		return true
	}
	c.c.SetReadDeadline(time.Now().Add(time.Millisecond))
	_, err := c.br.Peek(1)
	return err == nil
}

// readFinal reads responses until a final (non-1xx) one.
func (c *conn) readFinal(method string, timeout time.Duration) (*wire.Response, error) {
	c.c.SetReadDeadline(time.Now().Add(timeout))
	for {
		r, err := wire.ReadResponse(c.br, method)
		if err != nil || r.StatusCode >= 200 || r.StatusCode == 101 {
			return r, err
		}
	}
}

func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// describeErr says how a read failed, in the words of a finding.
func describeErr(err error) (kind, what string) {
	var we *wire.Error
	switch {
	case errors.As(err, &we):
		return KindIllFramed, we.Error()
	case errors.Is(err, io.ErrUnexpectedEOF):
		return KindIllFramed, "response truncated: " + err.Error()
	case isTimeout(err):
		return KindHang, "no response"
	case errors.Is(err, io.EOF):
		return KindNoResponse, "connection closed"
	}
	return KindNoResponse, "connection failed: " + err.Error()
}

// exchange sends in on c and judges what comes back.
func exchange(c *conn, in *Input, a analysis, timeout time.Duration) result {
	var res result
	c.c.SetWriteDeadline(time.Now().Add(timeout))
	got := 0 // responses read so far, answering a.reqs[got-1]
	next := func(i int) (r *wire.Response, kind, detail string) {
		r, err := c.readFinal(a.reqs[i].method, timeout)
		if err != nil {
			k, what := describeErr(err)
			return r, k, fmt.Sprintf("%s after request %d of %d (%s)", what, i+1, len(a.reqs), a.reqs[i].method)
		}
		res.responses++
		return r, "", ""
	}
	prev := 0
	cuts := append(append([]int{}, in.SplitAt...), len(in.Send))
	for k, cut := range cuts {
		if cut <= prev || cut > len(in.Send) {
			continue
		}
		if _, err := c.c.Write(in.Send[prev:cut]); err != nil {
			// The server may close after rejecting the start of an invalid input.
			if a.valid() {
				return result{kind: KindNoResponse, detail: fmt.Sprintf("write failed at byte %d of a valid input: %v", prev, err)}
			}
			break
		}
		prev = cut
		if in.Pause <= 0 || k == len(cuts)-1 {
			continue
		}
		time.Sleep(in.Pause) // the delivery plan's pause, not synchronisation
		complete := 0
		for _, r := range a.reqs {
			if r.end <= cut {
				complete++
			}
		}
		for c.readable() {
			if got >= complete {
				if !a.valid() {
					break // an invalid input may be answered as soon as it is seen
				}
				r, err := c.readFinal("GET", timeout)
				if err == nil && r.StatusCode != 408 {
					return result{kind: KindEarlyResponse, detail: fmt.Sprintf("%d %s after %d of %d bytes, before request %d was complete", r.StatusCode, r.Reason, cut, len(in.Send), got+1)}
				}
				break
			}
			r, kind, detail := next(got)
			got++
			if kind != "" {
				res.kind, res.detail = kind, detail
				if !a.valid() && kind != KindIllFramed {
					res.kind = ""
				}
				return res
			}
			if a.reqs[got-1].close || hasClose(r) {
				return res
			}
		}
	}
	if in.HalfClose {
		if tc, ok := c.c.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
	}
	for got < len(a.reqs) {
		r, kind, detail := next(got)
		got++
		if kind != "" {
			if a.valid() || kind == KindIllFramed {
				res.kind, res.detail = kind, detail
			}
			return res
		}
		if r.Tunnel || a.reqs[got-1].close || hasClose(r) {
			return res // the server may close now; nothing after this is judged
		}
	}
	switch a.tail {
	case tailNone:
		res.reusable = !in.HalfClose
		return res
	case tailInvalid, tailIncomplete:
		if !in.HalfClose && a.tail == tailIncomplete {
			return res // the server rightly waits for the rest
		}
		r, err := c.readFinal(tailMethod(in.Send[lastEnd(a):]), timeout)
		if err != nil {
			if kind, what := describeErr(err); kind == KindIllFramed {
				res.kind, res.detail = kind, what+" after an invalid request"
			}
			return res
		}
		res.responses++
		switch {
		case a.tail == tailInvalid && in.Must && r.StatusCode/100 == 2:
			res.kind = KindAcceptInvalid
			res.detail = fmt.Sprintf("%d %s to a request the judge rejects (%s, rule %s); every server must reject it", r.StatusCode, r.Reason, in.Mutation, a.rule)
		case a.tail == tailIncomplete && !a.headDone && r.StatusCode/100 == 2:
			res.kind = KindEarlyResponse
			res.detail = fmt.Sprintf("%d %s to a request whose head never completed", r.StatusCode, r.Reason)
		}
	}
	return res
}

func hasClose(r *wire.Response) bool {
	for _, v := range r.Get("Connection") {
		if strings.Contains(strings.ToLower(v), "close") {
			return true
		}
	}
	return r.Version == "HTTP/1.0" || r.CloseDelimited
}

func lastEnd(a analysis) int {
	if len(a.reqs) == 0 {
		return 0
	}
	return a.reqs[len(a.reqs)-1].end
}

// tailMethod guesses the method of a request the judge could not parse: HEAD changes the
// framing of the answer, anything else reads like GET.
func tailMethod(b []byte) string {
	b = bytes.TrimLeft(b, "\r\n")
	if bytes.HasPrefix(b, []byte("HEAD ")) {
		return "HEAD"
	}
	return "GET"
}
