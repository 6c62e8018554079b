package spec

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/forkproof/forkproof/spec/wire"
)

// Catalogue returns every conformance case, one group per RFC section, in a stable order.
// It builds fresh values on each call: a few checks keep state between the responses of one
// run (HEAD's Content-Length against GET's), so a caller running the same cases twice at once
// should call Catalogue once per run.
func Catalogue() []Case {
	var all []Case
	for _, g := range [][]Case{
		rfc9112Message(),
		rfc9112RequestLine(),
		rfc9112Host(),
		rfc9112Fields(),
		rfc9112Body(),
		rfc9112Chunked(),
		rfc9112Connection(),
		rfc9110Limits(),
		rfc9110Date(),
		rfc9110ContentLength(),
		rfc9110Methods(),
		rfc9110Expect(),
		rfc9110Status(),
		rfc9110TargetsUpgrade(),
	} {
		all = append(all, g...)
	}
	return all
}

// group stamps a section's cases with their IDs ("rfc9112/6.1/3": RFC, section, position),
// section, category and outcome names. rfc is "9112" or "9110".
func group(rfc, section string, cases ...Case) []Case {
	for i := range cases {
		c := &cases[i]
		c.ID = fmt.Sprintf("rfc%s/%s/%d", rfc, section, i+1)
		c.Category = Conformance
		c.Section = fmt.Sprintf("RFC %s §%s", rfc, section)
		c.Outcomes = c.OutcomeNames()
	}
	return cases
}

// rule builds a case resting on RFC sentences, the deciding one first: its keyword is the
// case's level (MUST → fail on a miss, SHOULD → warn, MAY → info).
func rule(s Sentence, title, requirement string, steps ...Step) Case {
	return Case{Meta: Meta{Level: s.Keyword, Title: title, Requirement: requirement,
		Sentences: []Sentence{s}}, Steps: steps}
}

// citing adds sentences that bear on the case without deciding its grade (the general rule a
// more specific deciding sentence overrides, a MAY that makes an outcome legal).
func (c Case) citing(more ...Sentence) Case {
	c.Sentences = append(c.Sentences, more...)
	return c
}

// needing marks what the case needs of the target.
func (c Case) needing(n ...Need) Case {
	c.Needs = append(c.Needs, n...)
	return c
}

// ---- steps ----

func send(s string) Step { return Step{Send: []byte(s)} }

// sendSplit writes s in pieces cut at the offsets, pausing between them.
func sendSplit(s string, pause time.Duration, at ...int) Step {
	return Step{Send: []byte(s), SplitAt: at, Pause: pause}
}

// sendEvery writes s in pieces of k bytes.
func sendEvery(s string, k int, pause time.Duration) Step {
	var at []int
	for i := k; i < len(s); i += k {
		at = append(at, i)
	}
	return Step{Send: []byte(s), SplitAt: at, Pause: pause}
}

// sendShut writes s and then half-closes (shutdown SHUT_WR).
func sendShut(s string) Step { return Step{Send: []byte(s), HalfClose: true} }

func reconnect() Step { return Step{Reconnect: true} }

func expect(o ...Outcome) Step { return Step{Expect: &Expect{Any: o}} }

// expectM is expect with the request methods of the responses (HEAD changes framing).
func expectM(methods []string, o ...Outcome) Step {
	return Step{Expect: &Expect{Methods: methods, Any: o}}
}

// ---- wants ----

// check is a named test of a response.
type check struct {
	desc string
	fn   func(r *wire.Response) error
}

// want is a response with status in s that passes every check.
func want(s StatusSet, checks ...check) Want {
	w := Want{Status: s}
	if len(checks) == 0 {
		return w
	}
	var descs []string
	for _, c := range checks {
		descs = append(descs, c.desc)
	}
	w.Describe = strings.Join(descs, ", ")
	w.Check = func(r *wire.Response) error {
		for _, c := range checks {
			if err := c.fn(r); err != nil {
				return err
			}
		}
		return nil
	}
	return w
}

var ok2xx = Class(2)

func ok(checks ...check) Want { return want(ok2xx, checks...) }

// oks is n successful responses.
func oks(n int, checks ...check) []Want {
	ws := make([]Want, n)
	for i := range ws {
		ws[i] = ok(checks...)
	}
	return ws
}

// ---- outcomes ----

func closed(ws ...Want) Outcome { return Outcome{Responses: ws, Then: EndClosed} }
func open(ws ...Want) Outcome   { return Outcome{Responses: ws, Then: EndOpen} }
func anyEnd(ws ...Want) Outcome { return Outcome{Responses: ws, Then: EndAny} }

func warned(o Outcome, name string) Outcome {
	o.Verdict = Warn
	o.Name = name
	return o
}

func noted(o Outcome, name string) Outcome {
	o.Verdict = Info
	o.Name = name
	return o
}

// waits: the server sends nothing and keeps the connection open (the request is incomplete).
func waits() []Outcome { return []Outcome{open()} }

// served: a 2xx response; how the connection ends is not judged.
func served(checks ...check) []Outcome { return []Outcome{anyEnd(ok(checks...))} }

// servedThenClose: a 2xx response, then the server closes.
func servedThenClose(checks ...check) []Outcome { return []Outcome{closed(ok(checks...))} }

// rejected lists the outcomes of a malformed request the server should refuse: one of the
// codes then close (pass), close without a response (pass), or the code with the connection
// left open (warn: RFC 9112 §2.2 asks for a close after a syntax error, since the framing of
// what follows is unknown). codes defaults to 400.
func rejected(codes ...int) []Outcome {
	if len(codes) == 0 {
		codes = []int{400}
	}
	var os []Outcome
	for _, c := range codes {
		os = append(os, closed(want(Status(c))))
	}
	os = append(os, closed())
	for _, c := range codes {
		os = append(os, warned(open(want(Status(c))), fmt.Sprintf("%d but the connection stays open after a syntax error", c)))
	}
	return os
}

// badFraming: the message framing is broken; the RFC requires 400 and then a close.
// A close without the 400 is safe but skips a MUST (warn).
func badFraming(codes ...int) []Outcome {
	if len(codes) == 0 {
		codes = []int{400}
	}
	var os []Outcome
	for _, c := range codes {
		os = append(os, closed(want(Status(c))))
	}
	return append(os, warned(closed(), "close without the required error response"))
}

// must400: the RFC requires a 400 (the connection may stay open: framing is known).
func must400(codes ...int) []Outcome {
	if len(codes) == 0 {
		codes = []int{400}
	}
	var os []Outcome
	for _, c := range codes {
		os = append(os, anyEnd(want(Status(c))))
	}
	return append(os, warned(closed(), "close without the required error response"))
}

// ---- checks ----

func bodyIs(s string) check {
	return check{fmt.Sprintf("body %q", trunc(s)), func(r *wire.Response) error {
		if string(r.Body) != s {
			return fmt.Errorf("body = %q; want %q", trunc(string(r.Body)), trunc(s))
		}
		return nil
	}}
}

func bodyLen(n int) check {
	return check{fmt.Sprintf("body of %d bytes", n), func(r *wire.Response) error {
		if len(r.Body) != n {
			return fmt.Errorf("body has %d bytes; want %d", len(r.Body), n)
		}
		return nil
	}}
}

func noBody() check {
	return check{"no body", func(r *wire.Response) error {
		if len(r.Body) != 0 {
			return fmt.Errorf("body has %d bytes; want none", len(r.Body))
		}
		return nil
	}}
}

func hasHeader(name string) check {
	return check{"with " + name, func(r *wire.Response) error {
		if len(r.Get(name)) == 0 {
			return fmt.Errorf("no %s field", name)
		}
		return nil
	}}
}

func noHeader(name string) check {
	return check{"without " + name, func(r *wire.Response) error {
		if v := r.Get(name); len(v) > 0 {
			return fmt.Errorf("has %s: %q; want none", name, v)
		}
		return nil
	}}
}

// hasToken: a comma-separated list field carries the token (case-insensitive).
func hasToken(name, token string) check {
	return check{fmt.Sprintf("%s lists %s", name, token), func(r *wire.Response) error {
		for _, v := range r.Get(name) {
			for _, t := range strings.Split(v, ",") {
				if strings.EqualFold(strings.TrimSpace(t), token) {
					return nil
				}
			}
		}
		return fmt.Errorf("%s = %q; want it to list %s", name, r.Get(name), token)
	}}
}

func version11() check {
	return check{"HTTP/1.1", func(r *wire.Response) error {
		if r.Version != "HTTP/1.1" {
			return fmt.Errorf("version %q; want HTTP/1.1", r.Version)
		}
		return nil
	}}
}

func version1x() check {
	return check{"HTTP/1.x", func(r *wire.Response) error {
		if r.Version != "HTTP/1.1" && r.Version != "HTTP/1.0" {
			return fmt.Errorf("version %q; want HTTP/1.0 or HTTP/1.1", r.Version)
		}
		return nil
	}}
}

func notChunked() check {
	return check{"not chunked", func(r *wire.Response) error {
		if r.Chunked || len(r.Get("Transfer-Encoding")) > 0 {
			return fmt.Errorf("Transfer-Encoding %q; want none", r.Get("Transfer-Encoding"))
		}
		return nil
	}}
}

// selfDelimited: the body length is known without waiting for a close.
func selfDelimited() check {
	return check{"Content-Length or chunked", func(r *wire.Response) error {
		if r.Chunked || len(r.Get("Content-Length")) > 0 {
			return nil
		}
		return fmt.Errorf("neither Content-Length nor chunked: the body ends only at close")
	}}
}

const imfFixdate = "Mon, 02 Jan 2006 15:04:05 GMT"

// dateOK: exactly one Date field, in IMF-fixdate, within an hour of our clock (same host).
func dateOK() check {
	return check{"one IMF-fixdate Date", func(r *wire.Response) error {
		v := r.Get("Date")
		if len(v) != 1 {
			return fmt.Errorf("%d Date fields %q; want exactly one", len(v), v)
		}
		t, err := time.Parse(imfFixdate, v[0])
		if err != nil || t.Format(imfFixdate) != v[0] {
			return fmt.Errorf("the Date %q is not IMF-fixdate (%s)", v[0], imfFixdate)
		}
		if d := time.Since(t); d > time.Hour || d < -time.Hour {
			return fmt.Errorf("the Date %q is %s away from now", v[0], d.Round(time.Second))
		}
		return nil
	}}
}

// sameLength remembers the framing of a GET response and compares a HEAD response with it.
// The two checks share state, so a case built with it must not run twice at once.
type sameLength struct {
	mu sync.Mutex
	cl []string
}

func (s *sameLength) record() check {
	return check{"Content-Length recorded", func(r *wire.Response) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.cl = r.Get("Content-Length")
		if len(s.cl) == 0 && !r.Chunked {
			return fmt.Errorf("GET response without Content-Length or chunked")
		}
		if len(s.cl) == 0 {
			s.cl = []string{strconv.Itoa(len(r.Body))}
		}
		return nil
	}}
}

func (s *sameLength) compare() check {
	return check{"Content-Length as for GET", func(r *wire.Response) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		v := r.Get("Content-Length")
		if len(v) == 0 {
			return nil // a HEAD response may leave Content-Length out
		}
		if len(v) != 1 || len(s.cl) != 1 || v[0] != s.cl[0] {
			return fmt.Errorf("HEAD Content-Length %q; GET's was %q", v, s.cl)
		}
		return nil
	}}
}

// reflected is the JSON the reference server's /reflect endpoint returns.
type reflected struct {
	Method   string      `json:"method"`
	Target   string      `json:"target"`
	Version  string      `json:"version"`
	Headers  [][2]string `json:"headers"`
	Body     []byte      `json:"body"`
	Trailers [][2]string `json:"trailers"`
}

func (x *reflected) get(name string) []string {
	var v []string
	for _, f := range x.Headers {
		if strings.EqualFold(f[0], name) {
			v = append(v, f[1])
		}
	}
	return v
}

// reflects decodes a /reflect body and applies fn to it.
func reflects(desc string, fn func(x *reflected) error) check {
	return check{desc, func(r *wire.Response) error {
		var x reflected
		if err := json.Unmarshal(r.Body, &x); err != nil {
			return fmt.Errorf("reflect body is not the expected JSON: %v", err)
		}
		return fn(&x)
	}}
}

// reflectsField: the server understood the field name with exactly these values.
func reflectsField(name string, values ...string) check {
	return reflects(fmt.Sprintf("server saw %s: %q", name, values), func(x *reflected) error {
		got := x.get(name)
		if strings.Join(got, "\x00") != strings.Join(values, "\x00") || len(got) != len(values) {
			return fmt.Errorf("server saw %s = %q; want %q", name, got, values)
		}
		return nil
	})
}

func reflectsBody(s string) check {
	return reflects(fmt.Sprintf("server saw body %q", trunc(s)), func(x *reflected) error {
		if string(x.Body) != s {
			return fmt.Errorf("server saw body %q; want %q", trunc(string(x.Body)), trunc(s))
		}
		return nil
	})
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// ---- request builders ----

const host = "Host: forkproof.test\r\n"

// get is "GET target HTTP/1.1" with a Host and extra field lines (each without CRLF).
func get(target string, fields ...string) string { return req("GET", target, fields...) }

func req(method, target string, fields ...string) string {
	var b strings.Builder
	b.WriteString(method + " " + target + " HTTP/1.1\r\n" + host)
	for _, f := range fields {
		b.WriteString(f + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// raw joins field lines with CRLF after a request line and ends the header section: the
// caller controls every byte, including Host.
func raw(line string, fields ...string) string {
	var b strings.Builder
	b.WriteString(line + "\r\n")
	for _, f := range fields {
		b.WriteString(f + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// post is a request with a Content-Length body.
func post(target, body string, fields ...string) string {
	fields = append([]string{"Content-Length: " + strconv.Itoa(len(body))}, fields...)
	return req("POST", target, fields...) + body
}

// postChunked is a POST with Transfer-Encoding: chunked and the given (raw) chunked body.
func postChunked(target, chunks string, fields ...string) string {
	fields = append([]string{"Transfer-Encoding: chunked"}, fields...)
	return req("POST", target, fields...) + chunks
}

func repeat(s string, n int) string { return strings.Repeat(s, n) }

// printable shows a byte for titles.
func printable(c byte) string {
	if c >= 0x21 && c < 0x7f {
		return fmt.Sprintf("%q", string(c))
	}
	return fmt.Sprintf("0x%02X", c)
}

// refused: one of the codes (the connection may stay open: the framing is known), or a close
// without a response.
func refused(codes ...int) []Outcome {
	var os []Outcome
	for _, c := range codes {
		os = append(os, anyEnd(want(Status(c))))
	}
	return append(os, closed())
}
