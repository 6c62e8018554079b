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
	// Hold, when set, withholds the last byte of a valid input for that long while watching
	// for a response: a response to the request the byte completes is an early response.
	Hold time.Duration
	// ResetAt, when set, resets the connection (RST) after that many bytes instead of sending
	// the rest; nothing is judged but that the target still serves a fresh connection after.
	ResetAt int
	// Echo says the input's POST and PUT requests to /echo must come back byte for byte
	// (set only when the target has an /echo endpoint).
	Echo bool
	// Mutation names what made the input invalid ("" for none, a Mutation's name, or a
	// byte-level mutation like "insert-cr"); Must says a 2xx to it is a bug in any target.
	Mutation string
	Must     bool
}

// Finding kinds.
const (
	KindNoResponse    = "no-response"      // closed or reset without a response to a complete request
	KindHang          = "hang"             // no response to a complete request within the timeout
	KindIllFramed     = "ill-framed"       // a response the strict reader rejects, or a truncated one
	KindEarlyResponse = "early-response"   // a response other than a refusal to a request not fully arrived
	KindAcceptInvalid = "2xx-to-invalid"   // a 2xx to a request every server must reject
	KindTargetDied    = "target-died"      // the target process died or stopped accepting
	KindResetKills    = "dead-after-reset" // the target stopped serving after a client reset
	KindEchoMismatch  = "echo-mismatch"    // a 2xx from /echo whose body is not the request body
	KindNoClose       = "no-close"         // the connection stayed open after a response that must end it
	KindZombie        = "zombie"           // zombie children after the campaign
	KindFDLeak        = "fd-leak"          // open fds grew beyond tolerance after the campaign
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
	method  string
	end     int    // offset just past the request
	close   bool   // the connection may close after its response (HTTP/1.0, Connection: close)
	version string // as sent, for findings
	echo    bool   // a POST or PUT to /echo: its 2xx response must carry body
	body    []byte // the decoded body
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
		p := parsedReq{method: req.Method, version: req.Version, end: off, close: req.Version == "HTTP/1.0", body: req.Body,
			echo: (req.Method == "POST" || req.Method == "PUT") && targetPath(req.Target) == "/echo"}
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

// targetPath is the path of an origin-form or absolute-form request target.
func targetPath(t string) string {
	if i := strings.Index(t, "://"); i >= 0 {
		t = t[i+3:]
		if j := strings.IndexByte(t, '/'); j >= 0 {
			t = t[j:]
		} else {
			t = "/"
		}
	}
	if i := strings.IndexByte(t, '?'); i >= 0 {
		t = t[:i]
	}
	return t
}

// closeEnd is the offset just past the first request after which the target may close.
func (a analysis) closeEnd() int {
	for _, r := range a.reqs {
		if r.close {
			return r.end
		}
	}
	return -1
}

// valid reports whether the input is nothing but complete, valid requests.
func (a analysis) valid() bool { return a.tail == tailNone && len(a.reqs) > 0 }

// result is what one exchange showed.
type result struct {
	kind, detail string // kind "" when nothing is wrong
	class        string // groups findings of one bug, when the kind alone does not
	responses    int    // responses judged
	reusable     bool   // the connection is in a known state and open for the next input
}

// conn is one connection to the target with its buffered reader.
type conn struct {
	addr string
	c    net.Conn
	br   *bufio.Reader
	// found, when set, says whether a finding is known already by its key; the close checks
	// skip waiting for a close that is known not to come, so a campaign does not wait a full
	// timeout on every such input of a target known to have the bug.
	found func(key string) bool
}

func dial(addr string, timeout time.Duration) (*conn, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	return &conn{addr: addr, c: c, br: bufio.NewReaderSize(c, 16<<10)}, nil
}

func (c *conn) close() { c.c.Close() }

// readableBy reports whether bytes arrive before the deadline.
func (c *conn) readableBy(deadline time.Time) bool {
	if c.br.Buffered() > 0 {
		return true
	}
	c.c.SetReadDeadline(deadline)
	_, err := c.br.Peek(1)
	return err == nil
}

// reset aborts the connection with an RST (SO_LINGER 0) instead of a FIN.
func (c *conn) reset() {
	if tc, ok := c.c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.c.Close()
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

// servingProbe is the request that checks a target still serves after a reset.
const servingProbe = "GET / HTTP/1.1\r\nHost: forkproof\r\nConnection: close\r\n\r\n"

// stillServing checks on a fresh connection that the target answers a plain request.
func stillServing(addr string, timeout time.Duration) error {
	c, err := dial(addr, timeout)
	if err != nil {
		return err
	}
	defer c.close()
	c.c.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c.c, servingProbe); err != nil {
		return err
	}
	_, err = c.readFinal("GET", timeout)
	return err
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
		if q := a.reqs[i]; in.Echo && q.echo && r.StatusCode/100 == 2 && !r.Tunnel && !bytes.Equal(r.Body, q.body) {
			return r, KindEchoMismatch, fmt.Sprintf("%d %s from %s /echo (request %d of %d) carries %d bytes %q; the request body was %d bytes %q",
				r.StatusCode, r.Reason, q.method, i+1, len(a.reqs), len(r.Body), clip(r.Body), len(q.body), clip(q.body))
		}
		return r, "", ""
	}
	// ready reads the responses that arrive before until, which must answer requests complete
	// within the first cut bytes; done says the exchange is over (res holds the outcome).
	ready := func(cut int, until time.Time) (done bool) {
		complete := 0
		for _, r := range a.reqs {
			if r.end <= cut {
				complete++
			}
		}
		for c.readableBy(until) {
			if got >= complete {
				if !a.valid() {
					return false // an invalid input may be answered as soon as it is seen
				}
				// A refusal (4xx, 5xx) may come as soon as the target sees enough to refuse;
				// anything else answers a request the target has not seen whole.
				r, err := c.readFinal(a.reqs[got].method, timeout)
				switch {
				case err != nil:
					return false // judged when the response to this request is read
				case r.StatusCode < 400:
					res.kind = KindEarlyResponse
					res.detail = fmt.Sprintf("%d %s after %d of %d bytes, before request %d was complete", r.StatusCode, r.Reason, cut, len(in.Send), got+1)
					return true
				}
				// An early refusal answers the request it refuses.
				got++
				res.responses++
				if a.reqs[got-1].close || hasClose(r) {
					return true
				}
				continue
			}
			r, kind, detail := next(got)
			got++
			if kind != "" {
				res.kind, res.detail = kind, detail
				if !a.valid() && kind != KindIllFramed && kind != KindEchoMismatch {
					res.kind = ""
				}
				return true
			}
			if a.reqs[got-1].close || hasClose(r) {
				return true
			}
		}
		return false
	}
	end := len(in.Send)
	if in.ResetAt > 0 && in.ResetAt < end {
		end = in.ResetAt
	}
	cuts := clipSplits(in.SplitAt, end)
	hold := in.Hold > 0 && in.ResetAt <= 0 && end > 1 && a.valid()
	if hold && (len(cuts) == 0 || cuts[len(cuts)-1] < end-1) {
		cuts = append(cuts, end-1)
	}
	cuts = append(cuts, end)
	prev := 0
	for k, cut := range cuts {
		if cut <= prev {
			continue
		}
		if _, err := c.c.Write(in.Send[prev:cut]); err != nil {
			// The server may close after rejecting the start of an invalid input, or after
			// answering a request that asked it to close (HTTP/1.0, Connection: close).
			if a.valid() && in.ResetAt <= 0 && !(a.closeEnd() >= 0 && prev >= a.closeEnd()) {
				return result{kind: KindNoResponse, detail: fmt.Sprintf("write failed at byte %d of a valid input: %v", prev, err)}
			}
			break
		}
		prev = cut
		if k == len(cuts)-1 {
			break
		}
		switch {
		case hold && cut == end-1:
			if ready(cut, time.Now().Add(in.Hold)) {
				return res
			}
		case in.Pause > 0:
			time.Sleep(in.Pause) // the delivery plan's pause, not synchronisation
			if ready(cut, time.Now().Add(time.Millisecond)) {
				return res
			}
		}
	}
	if in.ResetAt > 0 {
		c.reset()
		if err := stillServing(c.addr, timeout); err != nil {
			return result{kind: KindResetKills, detail: fmt.Sprintf("after a connection was reset at byte %d of %d, a fresh connection got no answer to GET /: %v", end, len(in.Send), err)}
		}
		return result{responses: 1}
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
			if a.valid() || kind == KindIllFramed || kind == KindEchoMismatch {
				res.kind, res.detail = kind, detail
			}
			return res
		}
		if r.Tunnel {
			return res
		}
		if q := a.reqs[got-1]; q.close || hasClose(r) {
			// RFC 9112 §9.3, §9.6: the connection ends after this response. When nothing was
			// sent after the request, the target must close it.
			if got == len(a.reqs) && a.tail == tailNone && !in.HalfClose {
				why := fmt.Sprintf("request %d of %d (%s %s)", got, len(a.reqs), q.method, q.version)
				if hasClose(r) && !q.close {
					why += fmt.Sprintf(", which said it would close (%d %s)", r.StatusCode, r.Reason)
				}
				res.class = "after-last"
				res.kind, res.detail = c.closed(why, res.class, timeout)
			}
			return res // nothing after this is judged
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
		case a.tail == tailInvalid && a.rule == wire.RuleTECL && !in.HalfClose:
			// RFC 9112 §6.1: whatever it answers to Content-Length with Transfer-Encoding,
			// the server MUST close the connection after responding.
			res.class = "te-cl"
			res.kind, res.detail = c.closed(fmt.Sprintf("a request with both Transfer-Encoding and Content-Length (%d %s)", r.StatusCode, r.Reason), res.class, timeout)
		}
	}
	return res
}

// clip shortens b for a finding's detail.
func clip(b []byte) []byte {
	if len(b) > 64 {
		return append(b[:64:64], "..."...)
	}
	return b
}

// closed waits for the end of the connection after a response that calls for it; it returns
// a finding (kind "" when the target closed, or reset, in time). Bytes instead of the end
// mean the response was longer than it said (a body to HEAD, a wrong Content-Length).
func (c *conn) closed(why, class string, timeout time.Duration) (kind, detail string) {
	if c.found != nil && c.found(KindNoClose+"/"+class) {
		return "", ""
	}
	c.c.SetReadDeadline(time.Now().Add(timeout))
	_, err := c.br.Peek(1)
	switch {
	case err == nil:
		extra, _ := c.br.Peek(c.br.Buffered())
		return KindIllFramed, fmt.Sprintf("%d bytes %q after the response to %s, where the connection should end", len(extra), clip(extra), why)
	case isTimeout(err):
		return KindNoClose, fmt.Sprintf("the connection stayed open for %s after the response to %s; want close", timeout, why)
	}
	return "", ""
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
