package fuzz

import (
	"bytes"
	"errors"
	"strings"
	"time"

	"github.com/forkproof/forkproof/clients"
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
	KindNoResponse       = "no-response"       // closed or reset without a response to a complete request
	KindHang             = "hang"              // no response to a complete request within the timeout
	KindIllFramed        = "ill-framed"        // a response the strict reader rejects, or a truncated one
	KindEarlyResponse    = "early-response"    // a request answered before it arrived whole, the rest of it then read as a request
	KindServedIncomplete = "2xx-to-incomplete" // a 2xx to a request whose head never ended (the client half-closed)
	KindAcceptInvalid    = "2xx-to-invalid"    // a 2xx to a request every server must reject
	KindTargetDied       = "target-died"       // the target process died or stopped accepting
	KindResetKills       = "dead-after-reset"  // the target stopped serving after a client reset
	KindEchoMismatch     = "echo-mismatch"     // a 2xx from /echo whose body is not the request body
	KindNoClose          = "no-close"          // the connection stayed open after a response that must end it
	KindZombie           = "zombie"            // zombie children after the campaign
	KindFDLeak           = "fd-leak"           // open fds grew beyond tolerance after the campaign
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
	// early is the first answer (not a refusal) to a request that had not arrived whole.
	early *read
}

// exchange sends in on c and judges what came back.
func (t *target) exchange(c *clients.Conn, in *Input, a analysis) result {
	return judge(in, a, t.deliver(c, in, a))
}

// clip shortens b for a finding's detail.
func clip(b []byte) []byte {
	if len(b) > 64 {
		return append(b[:64:64], "..."...)
	}
	return b
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
