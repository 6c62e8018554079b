// Package spec holds forkproof's requirement catalogue as data: every case names its RFC
// section, level and requirement, the bytes to send and every outcome a correct server may
// show. The conformance runner interprets it; spec itself never touches the network.
package spec

import (
	"fmt"
	"strings"
	"time"

	"github.com/forkproof/forkproof/spec/wire"
)

// Category groups cases by what they judge.
type Category string

const (
	Conformance Category = "conformance"
	Robustness  Category = "robustness"
	Hygiene     Category = "hygiene"
)

// Level is the strength of the requirement a case checks (RFC 2119 keywords).
type Level string

const (
	MUST   Level = "MUST"
	SHOULD Level = "SHOULD"
	MAY    Level = "MAY"
	None   Level = "none"
)

// Verdict is the judgement of one case.
type Verdict string

const (
	Pass Verdict = "pass"
	Fail Verdict = "fail"
	Warn Verdict = "warn"
	Info Verdict = "info"
	Skip Verdict = "skip"
)

// Meta describes a case independently of how it runs: what the catalogue prints.
type Meta struct {
	ID          string   `json:"id"`       // stable: "rfc9112/6.1/2", "robust/reset/1", "hygiene/zombies"
	Category    Category `json:"category"` // conformance | robustness | hygiene
	Section     string   `json:"section,omitempty"`
	Level       Level    `json:"level"`
	Title       string   `json:"title"`       // one line
	Requirement string   `json:"requirement"` // the requirement in our own words
	Outcomes    []string `json:"outcomes"`    // every acceptable outcome, in words
	// Sentences are the RFC sentences the case checks, the deciding one first: its keyword is
	// the case's Level. A case with no sentence states the Policy it applies instead, and then
	// grades at most warn (hygiene's zombies and fd leaks excepted: see PRODUCT.md).
	Sentences []Sentence `json:"sentences,omitempty"`
	Policy    string     `json:"policy,omitempty"`
}

// Sentence is one RFC sentence a case rests on, quoted (shortened with … where the rest does
// not bear on the case).
type Sentence struct {
	Ref     string `json:"ref"`     // "RFC 9112 §2.2"
	Keyword Level  `json:"keyword"` // MUST (also MUST NOT), SHOULD (also SHOULD NOT), MAY
	Text    string `json:"text"`
}

func (s Sentence) String() string { return s.Ref + ": \u201c" + s.Text + "\u201d" }

// MissVerdict is the verdict when no acceptable outcome matched: a broken MUST fails, a
// broken SHOULD or a missed policy warns, a MAY is recorded as info.
func (m Meta) MissVerdict() Verdict {
	switch m.Level {
	case MUST:
		return Fail
	case SHOULD, None:
		return Warn
	default:
		return Info
	}
}

// Need is something a case requires of the target; a target without it skips the case.
type Need string

const (
	NeedEcho    Need = "echo"    // POST|PUT /echo returns the request body
	NeedReflect Need = "reflect" // ANY /reflect returns the parsed request as JSON
	NeedPID     Need = "pid"     // the target's root PID is known
	NeedStatus  Need = "status"  // GET /status/N answers with status N
	NeedBytes   Need = "bytes"   // GET /bytes/N answers with N body bytes
	NeedSleep   Need = "sleep"   // GET /sleep/MS answers after MS milliseconds
	// NeedPersist: the server keeps an HTTP/1.1 connection open after answering a request
	// without "Connection: close" (it serves a second request on it).
	NeedPersist Need = "persist"
	// NeedHTTP11: the server answers an HTTP/1.1 request with HTTP/1.1 (not an HTTP/1.0 server).
	NeedHTTP11 Need = "http11"
	// NeedPostRoot: POST / with a small body gets a response whose framing is known (any
	// status), so POST can carry body-framing cases without an echo endpoint.
	NeedPostRoot Need = "post-root"
)

// Case is one executable requirement: a conversation on one or more connections.
type Case struct {
	Meta
	Needs []Need
	Steps []Step
}

// Step is one action of a conversation. Exactly one of Send, Expect, Reconnect is set per step
// (Send may be combined with HalfClose).
type Step struct {
	// Send writes these bytes. SplitAt lists offsets where the write is cut into pieces, with
	// Pause between pieces (a zero Pause still issues separate writes).
	Send    []byte
	SplitAt []int
	Pause   time.Duration
	// HalfClose calls shutdown(SHUT_WR) after sending.
	HalfClose bool
	// Reconnect closes the current connection and opens a new one (e.g. "the server is still
	// alive after a rejected request").
	Reconnect bool
	// Expect reads the server's reaction and judges it against the acceptable outcomes.
	Expect *Expect
}

// Expect judges what the server does after the preceding sends.
type Expect struct {
	// Methods gives, per response to read, the request method it answers (framing depends on
	// it: a response to HEAD has no body). Empty means "GET" for every response.
	Methods []string
	// Any lists the acceptable outcomes; the first that matches decides. When none matches,
	// the verdict is Meta.MissVerdict().
	Any []Outcome
}

// End is what the connection does after the expected responses.
type End int

const (
	EndAny    End = iota // not judged
	EndClosed            // the server closes (FIN or RST) within the window
	EndOpen              // the connection stays open and silent for the window (the server waits)
)

func (e End) String() string {
	switch e {
	case EndClosed:
		return "close"
	case EndOpen:
		return "stays open"
	default:
		return "any"
	}
}

// Outcome is one acceptable reaction: these responses in order, then the connection End.
type Outcome struct {
	Name      string // e.g. "400 then close"; generated from the fields when empty
	Responses []Want
	Then      End
	// Verdict is the verdict when this outcome matches; empty means Pass. Use Warn for
	// behaviour that is legal but unsafe, Info for implementation-defined behaviour.
	Verdict Verdict
	// HTTP09 makes the outcome an HTTP/0.9 answer: no status line, the bytes that come back
	// are a bare body (Responses stays empty).
	HTTP09 bool
}

// Want is one expected response.
type Want struct {
	Status StatusSet
	// Check, when set, inspects the response further (headers, body) and says what is wrong.
	Check func(r *wire.Response) error
	// Describe says in words what Check checks (for the outcome's name).
	Describe string
}

// StatusSet is an inclusive range of status codes.
type StatusSet struct{ Lo, Hi int }

// Status matches exactly one code.
func Status(code int) StatusSet { return StatusSet{code, code} }

// Class matches a whole class: Class(2) is 200-299.
func Class(c int) StatusSet { return StatusSet{c * 100, c*100 + 99} }

// Range matches lo through hi.
func Range(lo, hi int) StatusSet { return StatusSet{lo, hi} }

// Has reports whether code is in the set.
func (s StatusSet) Has(code int) bool { return code >= s.Lo && code <= s.Hi }

func (s StatusSet) String() string {
	switch {
	case s.Lo == s.Hi:
		return fmt.Sprint(s.Lo)
	case s.Lo%100 == 0 && s.Hi == s.Lo+99:
		return fmt.Sprintf("%dxx", s.Lo/100)
	default:
		return fmt.Sprintf("%d-%d", s.Lo, s.Hi)
	}
}

// String names the outcome: its Name, or one made from its parts ("400 then close").
func (o Outcome) String() string {
	if o.Name != "" {
		return o.Name
	}
	var parts []string
	for _, w := range o.Responses {
		p := w.Status.String()
		if w.Describe != "" {
			p += " (" + w.Describe + ")"
		}
		parts = append(parts, p)
	}
	s := strings.Join(parts, ", ")
	if o.HTTP09 {
		return "an HTTP/0.9 answer (a bare body, no status line)"
	}
	switch {
	case s == "" && o.Then == EndClosed:
		return "close without a response"
	case s == "" && o.Then == EndOpen:
		return "no response; connection stays open"
	case o.Then == EndClosed:
		return s + " then close"
	case o.Then == EndOpen:
		return s + " then connection stays open"
	}
	return s
}

// OutcomeNames lists the outcomes of every Expect step of c, for Meta.Outcomes.
func (c *Case) OutcomeNames() []string {
	var names []string
	for _, s := range c.Steps {
		if s.Expect == nil {
			continue
		}
		for _, o := range s.Expect.Any {
			names = append(names, o.String())
		}
	}
	return names
}
