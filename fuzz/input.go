package fuzz

import (
	"bytes"
	"time"

	"github.com/forkproof/forkproof/spec/wire"
)

// campaignMethods are the methods the campaign sends: no CONNECT (a 2xx would turn the
// connection into a tunnel), plus random tokens via the empty entry.
var campaignMethods = []string{"GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"}

// byteMutations are the black-box campaign's byte-level mutations.
var byteMutations = []struct {
	name  string
	apply func(s Source, b []byte) []byte
}{
	{"insert-cr", func(s Source, b []byte) []byte { return insertByte(s, b, "\r") }},
	{"insert-lf", func(s Source, b []byte) []byte { return insertByte(s, b, "\n") }},
	{"insert-nul", func(s Source, b []byte) []byte { return insertByte(s, b, "\x00") }},
	{"insert-colon", func(s Source, b []byte) []byte { return insertByte(s, b, ":") }},
	{"insert-tab", func(s Source, b []byte) []byte { return insertByte(s, b, "\t") }},
	{"insert-space", func(s Source, b []byte) []byte { return insertByte(s, b, " ") }},
	{"insert-high", func(s Source, b []byte) []byte { return insertByte(s, b, "\x80") }},
	{"delete-byte", func(s Source, b []byte) []byte {
		i := s.Int(0, len(b)-1, "delete-at")
		return append(append([]byte{}, b[:i]...), b[i+1:]...)
	}},
	{"duplicate-range", func(s Source, b []byte) []byte {
		i := s.Int(0, len(b)-1, "dup-from")
		j := s.Int(i+1, min(len(b), i+64), "dup-to")
		out := append([]byte{}, b[:j]...)
		out = append(out, b[i:j]...)
		return append(out, b[j:]...)
	}},
	{"truncate", func(s Source, b []byte) []byte { return append([]byte{}, b[:s.Int(1, len(b)-1, "truncate-at")]...) }},
	{"shift-boundary", func(s Source, b []byte) []byte {
		// Move the end of the header section: drop one CRLF of the empty line and put it
		// back later, so a body byte becomes part of the head or the head leaks into the body.
		i := bytes.Index(b, []byte("\r\n\r\n"))
		if i < 0 {
			return b
		}
		out := append(append([]byte{}, b[:i+2]...), b[i+4:]...)
		j := s.Int(i+2, len(out), "shift-to")
		return append(append(append([]byte{}, out[:j]...), "\r\n"...), out[j:]...)
	}},
}

// insertByte inserts c at a random offset of a copy of b. (The byte mutations above call it
// from closures that capture nothing, which need no allocation at init.)
func insertByte(s Source, b []byte, c string) []byte {
	i := s.Int(0, len(b), "insert-at")
	return append(append(append([]byte{}, b[:i]...), c...), b[i:]...)
}

// Shares of campaign inputs, in percent, for the delivery checks not drawn for every input.
const (
	echoPercent  = 20 // of inputs, when the target has /echo: bodies to /echo, checked byte for byte
	resetPercent = 3  // of inputs: reset (RST) mid-request, then check the target still serves
	holdPercent  = 15 // of valid inputs: withhold the last byte and watch for an early response
	// HoldWindow is how long the last byte is withheld: a target that answers a request
	// before it is complete does so within a loopback round trip and its own processing time.
	HoldWindow = time.Millisecond
)

// InputOptions says what the target offers beyond the basics.
type InputOptions struct {
	Echo bool // POST and PUT /echo return the request body, so some inputs check that
}

// genInput draws one campaign input: a few pipelined valid requests, maybe made invalid by
// a targeted or a byte-level mutation, with a delivery plan (splits, pauses, a withheld last
// byte, half-close or reset). It returns what the judge makes of the input's bytes with it.
func genInput(s Source, opt InputOptions) (*Input, analysis) {
	in := &Input{}
	depth := 1
	if chance(s, "pipeline", 30) {
		depth = s.Int(2, 6, "depth")
	}
	o := ReqOptions{Methods: campaignMethods, MaxBody: 32, Close: true}
	switch {
	case opt.Echo && chance(s, "echo", echoPercent):
		// POST only: the /echo probe asks POST, and a PUT /echo may be another handler.
		o = ReqOptions{Methods: []string{"POST"}, Path: "/echo", MaxBody: 64, Close: true}
		in.Echo = true
	case chance(s, "root-path", 60):
		o.Path = "/"
	}
	for i := range depth {
		if i == depth-1 && chance(s, "targeted", 30) {
			inv := GenInvalid(s, o)
			in.Send = append(in.Send, inv.Bytes...)
			in.Mutation, in.Must = inv.Mutation.Name, inv.Mutation.Must
			break
		}
		r := GenRequest(s, o)
		in.Send = append(in.Send, r.Bytes()...)
		if r.closes() {
			// The target may close after answering it: bytes sent after it would meet a
			// closed socket, and the RST they cause can destroy the answer in flight.
			break
		}
	}
	byteMutated := false
	if in.Mutation == "" && chance(s, "byte-mutation", 25) {
		m := byteMutations[s.Int(0, len(byteMutations)-1, "byte-mutation-kind")]
		in.Send = m.apply(s, in.Send)
		in.Mutation = m.name
		byteMutated = true
	}
	a := analyze(in.Send)
	if byteMutated && a.tail == tailInvalid {
		in.Must = mustReject(a.rule)
	}
	if chance(s, "split", 25) {
		in.SplitAt = Splits(s, len(in.Send), 3)
		if chance(s, "pause", 10) {
			in.Pause = time.Duration(s.Int(1, 3, "pause-ms")) * time.Millisecond
		}
	}
	switch {
	case len(in.Send) > 1 && chance(s, "reset", resetPercent):
		in.ResetAt = s.Int(1, len(in.Send)-1, "reset-at")
	case a.valid() && len(in.Send) > 1 && chance(s, "hold", holdPercent):
		in.Hold = HoldWindow
	}
	// Invalid and incomplete inputs are half-closed, so the target sees the end at once
	// instead of waiting for bytes that never come; but not Content-Length with
	// Transfer-Encoding, after which the target must close by itself (RFC 9112 §6.1).
	in.HalfClose = in.ResetAt == 0 && (!a.valid() && a.rule != wire.RuleTECL || chance(s, "half-close", 5))
	return in, a
}
