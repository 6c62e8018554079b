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
	// Index is the input's index in its campaign (see InputSeed).
	Index int64
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
	// inBody says the invalid tail breaks the rule after its head ended: in a body or a
	// trailer section, which a server may answer before it reads.
	inBody bool
	// absoluteHost says the invalid tail has an absolute-form target and a Host field,
	// which RFC 9112 §3.2.2 tells an origin server to ignore.
	absoluteHost bool
	// tailMethod is the first word of the tail ("" when there is none).
	tailMethod string
	// sameLengths says the tail's Content-Length fields, split at commas, are all valid
	// numbers (1*DIGIT) of one value: RFC 9112 §6.3 processes a repeated one as the single
	// value, and a number too large for the judge is still valid (RFC 9110 §8.6).
	sameLengths bool
	// teChunked says the tail's Transfer-Encoding names chunked (not last, for the rule
	// te-not-chunked); without it, the coding is one the server does not know (§6.1 SHOULD).
	teChunked bool
}

type parsedReq struct {
	method string
	end    int  // offset just past the request
	close  bool // the connection may close after its response (HTTP/1.0, Connection: close)
	// closeOption says it sent the "close" option (RFC 9112 §9.6 MUST close after it), not
	// only HTTP/1.0 without keep-alive (§9.3, which has no keyword).
	closeOption bool
	version     string // as sent, for findings
	echo        bool   // a POST to /echo: its 2xx response must carry body
	body        []byte // the decoded body
	framing     string // how its body is framed: "none", "length" or "chunked"
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
			// The tail after the empty lines a request may start with, and its head.
			rest := bytes.TrimLeft(b[off:], "\r\n")
			head, _, headDone := bytes.Cut(rest, []byte("\r\n\r\n"))
			line, fields, _ := bytes.Cut(head, []byte("\r\n"))
			method, after, _ := strings.Cut(string(line[:min(len(line), 512)]), " ")
			target, _, _ := strings.Cut(after, " ")
			a.tailMethod = method
			switch {
			case errors.As(err, &we):
				a.tail, a.rule = tailInvalid, we.Rule
				// (A missing Host is reported where the head ends.)
				a.inBody = headDone && we.Offset >= len(b[off:])-len(rest)+len(head)+4 && we.Rule != wire.RuleHost
				// An absolute-form target: a scheme, then "://".
				i := strings.Index(target, "://")
				a.absoluteHost = i > 0 && !strings.ContainsAny(target[:i], "/?#") && len(fieldValues(fields, "Host")) > 0
				a.sameLengths = sameLengths(fields)
				a.teChunked = fieldHas(fields, "Transfer-Encoding", "chunked")
			default:
				a.tail, a.headDone = tailIncomplete, headDone
			}
			return a
		}
		off += n
		p := parsedReq{method: req.Method, version: req.Version, end: off, close: req.Version == "HTTP/1.0", body: req.Body,
			echo: req.Method == "POST" && targetPath(req.Target) == "/echo", framing: "none"}
		if req.Chunked {
			p.framing = "chunked"
		}
		for _, f := range req.Header {
			if strings.EqualFold(f[0], "Content-Length") && !req.Chunked {
				p.framing = "length"
			}
			if strings.EqualFold(f[0], "Connection") {
				p.close = p.close && !hasOption(f[1], "keep-alive") || hasOption(f[1], "close")
				p.closeOption = p.closeOption || hasOption(f[1], "close")
			}
		}
		a.reqs = append(a.reqs, p)
	}
	return a
}

// fieldValues returns the values of the fields named name in the field lines of a head (after
// its request line), split at commas and trimmed of whitespace.
func fieldValues(fields []byte, name string) []string {
	var vals []string
	for _, line := range strings.Split(string(fields), "\r\n") {
		n, v, ok := strings.Cut(line, ":")
		if !ok || !strings.EqualFold(n, name) {
			continue
		}
		for _, e := range strings.Split(v, ",") {
			vals = append(vals, strings.Trim(e, " \t"))
		}
	}
	return vals
}

// fieldHas reports whether a field named name in the field lines fields lists token.
func fieldHas(fields []byte, name, token string) bool {
	for _, v := range fieldValues(fields, name) {
		if strings.EqualFold(v, token) {
			return true
		}
	}
	return false
}

// sameLengths reports whether the Content-Length fields in the field lines fields, split at
// commas, are valid numbers (1*DIGIT) all of one value, however large.
func sameLengths(fields []byte) bool {
	vals := fieldValues(fields, "Content-Length")
	if len(vals) == 0 {
		return false
	}
	first := strings.TrimLeft(vals[0], "0")
	for _, v := range vals {
		if v == "" || strings.Trim(v, "0123456789") != "" || strings.TrimLeft(v, "0") != first {
			return false
		}
	}
	return true
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
	// stale says the connection was closed or reset before any response (see stale).
	stale bool
	// req is the request a finding is about (an index into analysis.reqs, len(reqs) for the
	// tail, -1 for none); cause what went wrong with it, in a word: both make its signature.
	req   int
	cause string
}

// exchange sends in on c and judges what came back.
func (t *target) exchange(c *clients.Conn, in *Input, a analysis) result {
	return judge(in, a, t.deliver(c, in, a))
}

// exchangeOnce sends in on c and judges what came back, as exchange; when c served earlier
// inputs (reused) and turns out closed before any response, the target may have closed it
// as idle (RFC 9112 §9.6), so in is sent again on a fresh connection, as a client would. It
// returns the connection to go on with (nil when the fresh one could not be opened) and
// whether the exchange judged was the first on its connection.
func (t *target) exchangeOnce(c *clients.Conn, reused bool, in *Input, a analysis) (result, *clients.Conn, bool) {
	res := t.exchange(c, in, a)
	if !res.stale || !reused {
		return res, c, !reused
	}
	c.Close()
	c, err := t.dial()
	if err != nil {
		return result{}, nil, false
	}
	return t.exchange(c, in, a), c, true
}

// clip shortens b for a finding's detail.
func clip(b []byte) []byte {
	if len(b) > 64 {
		return append(b[:64:64], "..."...)
	}
	return b
}

// hasClose reports whether r ends its connection: a "close" option, HTTP/1.0 without
// "keep-alive" (RFC 9112 §9.3), or a body delimited by the close.
func hasClose(r *wire.Response) bool {
	return closeOption(r) || r.CloseDelimited || r.Version == "HTTP/1.0" && !keepAlive(r)
}

// closeOption reports whether r's Connection field holds the "close" option.
func closeOption(r *wire.Response) bool {
	for _, v := range r.Get("Connection") {
		if hasOption(v, "close") {
			return true
		}
	}
	return false
}

func keepAlive(r *wire.Response) bool {
	for _, v := range r.Get("Connection") {
		if hasOption(v, "keep-alive") {
			return true
		}
	}
	return false
}

// hasOption reports whether the Connection field value v lists the option opt: one of its
// comma-separated elements, trimmed of whitespace, is opt, case-insensitively (RFC 9110
// §7.6.1). "cn: close" lists no "close".
func hasOption(v, opt string) bool {
	for _, e := range strings.Split(v, ",") {
		if strings.EqualFold(strings.Trim(e, " \t"), opt) {
			return true
		}
	}
	return false
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
