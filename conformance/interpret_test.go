package conformance

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/spec/wire"
)

// interpretRoutes are the fake's fakeReply behaviours used by the interpreter tests.
var interpretRoutes = map[string]fakeReply{
	"/close":        {reply: ok200},
	"/announce":     {reply: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"},
	"/http10":       {reply: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"},
	"/silent-close": {reply: ""},
	"/bad-status":   {reply: "UNKNOWN 400 Bad Request\r\nContent-Length: 0\r\n\r\n"},
	"/bare":         {reply: "<html>hello</html>\n"},
	"/open":         {reply: ok200, end: "open"},
	"/reset":        {reply: ok200, end: "reset"},
	"/bad":          {reply: "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"},
	"/silent":       {end: "hang"},
	"/hangup":       {},             // closes without a response
	"/rude":         {end: "reset"}, // resets without a response
	"/twice":        {reply: ok200 + "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"},
	"/garbage":      {reply: "HTTP/1.1 200 OK\r\nContent-Length: zz\r\n\r\n"},
}

func bodyIs(want string) spec.Want {
	return spec.Want{
		Status:   spec.Status(200),
		Describe: "body " + want,
		Check: func(r *wire.Response) error {
			if string(r.Body) != want {
				return errors.New("body is " + string(r.Body))
			}
			return nil
		},
	}
}

func TestOutcomeMatching(t *testing.T) {
	f := startFake(t, interpretRoutes)
	closedAny := spec.Outcome{Then: spec.EndClosed}
	openAny := spec.Outcome{Then: spec.EndOpen}
	for _, tt := range []struct {
		path     string
		outcomes []spec.Outcome
		verdict  spec.Verdict
		detail   string // substring; "" wants an empty detail
	}{
		// End judged: close (FIN or RST) versus stays open.
		{"/close", []spec.Outcome{outcome(200, spec.EndClosed)}, spec.Pass, ""},
		{"/reset", []spec.Outcome{outcome(200, spec.EndClosed)}, spec.Pass, ""},
		{"/open", []spec.Outcome{outcome(200, spec.EndOpen)}, spec.Pass, ""},
		{"/open", []spec.Outcome{outcome(200, spec.EndClosed)}, spec.Fail,
			"got: 200 then connection stays open (silent for 100ms); want one of: [200 then close]"},
		{"/close", []spec.Outcome{outcome(200, spec.EndOpen)}, spec.Fail,
			"got: 200 then close; want one of: [200 then connection stays open]"},
		{"/reset", []spec.Outcome{outcome(200, spec.EndOpen)}, spec.Fail, "got: 200 then reset;"},
		{"/open", []spec.Outcome{outcome(200, spec.EndAny)}, spec.Pass, ""},
		// No response at all.
		{"/hangup", []spec.Outcome{outcome(400, spec.EndClosed), closedAny}, spec.Pass, ""},
		{"/rude", []spec.Outcome{closedAny}, spec.Pass, ""},
		{"/silent", []spec.Outcome{outcome(400, spec.EndClosed), openAny}, spec.Pass, ""},
		{"/silent", []spec.Outcome{closedAny}, spec.Fail,
			"got: no response; connection stays open (silent for 100ms); want one of: [close without a response]"},
		{"/hangup", []spec.Outcome{outcome(400, spec.EndClosed)}, spec.Fail,
			"got: close without a response; want one of: [400 then close]"},
		// Status sets and order: the first matching outcome decides.
		{"/bad", []spec.Outcome{{Responses: []spec.Want{{Status: spec.Class(4)}}, Then: spec.EndClosed}}, spec.Pass, ""},
		{"/bad", []spec.Outcome{
			{Responses: []spec.Want{{Status: spec.Status(400)}}, Then: spec.EndClosed, Verdict: spec.Warn},
			outcome(400, spec.EndClosed),
		}, spec.Warn, `acceptable outcome "400 then close", judged warn`},
		{"/bad", []spec.Outcome{
			outcome(400, spec.EndClosed),
			{Responses: []spec.Want{{Status: spec.Status(400)}}, Then: spec.EndClosed, Verdict: spec.Warn},
		}, spec.Pass, ""},
		// Checks.
		{"/close", []spec.Outcome{{Responses: []spec.Want{bodyIs("hello")}, Then: spec.EndClosed}}, spec.Pass, ""},
		{"/close", []spec.Outcome{{Responses: []spec.Want{bodyIs("bye")}, Then: spec.EndClosed}}, spec.Fail,
			"want one of: [200 (body bye) then close]; 200 (body bye) then close: response 1 (200): body is hello"},
		{"/close", []spec.Outcome{{Responses: []spec.Want{bodyIs("bye")}}, outcome(200, spec.EndClosed)}, spec.Pass, ""},
		{"/close", []spec.Outcome{{Responses: []spec.Want{{Status: spec.Status(200),
			Check: func(*wire.Response) error { panic("catalogue bug") }}}}}, spec.Fail, "check panicked: catalogue bug"},
		// Data after the expected responses: fine when the end is not judged, wrong otherwise.
		{"/twice", []spec.Outcome{outcome(200, spec.EndAny)}, spec.Pass, ""},
		{"/twice", []spec.Outcome{outcome(200, spec.EndClosed)}, spec.Fail,
			`got: 200 then unexpected data "HTTP/1.1 400 Bad Request"…; want one of: [200 then close]`},
		// A response the strict reader rejects.
		{"/garbage", []spec.Outcome{outcome(200, spec.EndAny)}, spec.Fail, "got: ill-framed response (rule content-length "},
	} {
		c := exchangeCase("t/match", spec.MUST, tt.path, tt.outcomes...)
		// A row that wants a pass may have to wait out a busy machine: its timing misses
		// are re-run with longer windows, as the runner does by default. A row that wants a
		// miss keeps one short window, whose length its detail names.
		opt := quickOpts
		if tt.verdict == spec.Pass {
			opt.Retries = 2
		}
		res := runCase(t, f.target(), c, opt)
		if res.Verdict != tt.verdict {
			t.Errorf("For %s %v: verdict = %s; want %s (detail %q)", tt.path, c.OutcomeNames(), res.Verdict, tt.verdict, res.Detail)
		}
		if tt.detail == "" && res.Detail != "" || !strings.Contains(res.Detail, tt.detail) {
			t.Errorf("For %s %v: detail = %q; want %q", tt.path, c.OutcomeNames(), res.Detail, tt.detail)
		}
	}
}

func TestMultiStepCase(t *testing.T) {
	f := startFake(t, interpretRoutes)
	c := spec.Case{
		Meta: spec.Meta{ID: "t/multi", Level: spec.MUST},
		Steps: []spec.Step{
			// Keep-alive then a pipelined pair, split mid-request.
			{Send: requestFor("/open")},
			{Expect: &spec.Expect{Any: []spec.Outcome{outcome(200, spec.EndAny)}}},
			{Send: append(requestFor("/open"), requestFor("/close")...), SplitAt: []int{5, 40}},
			{Expect: &spec.Expect{Any: []spec.Outcome{{
				Responses: []spec.Want{{Status: spec.Status(200)}, {Status: spec.Status(200)}},
				Then:      spec.EndClosed,
			}}}},
			// The server is still there on a new connection.
			{Reconnect: true},
			{Send: []byte("HEAD /bad HTTP/1.1\r\nHost: fake\r\n\r\n"), HalfClose: true},
			{Expect: &spec.Expect{Methods: []string{"HEAD"}, Any: []spec.Outcome{
				{Responses: []spec.Want{{Status: spec.Status(400)}}, Then: spec.EndClosed, Verdict: spec.Info},
			}}},
		},
	}
	res := runCase(t, f.target(), c, quickOpts)
	if res.Verdict != spec.Info {
		t.Errorf("verdict = %s; want info from the last step's outcome (detail %q)", res.Verdict, res.Detail)
	}
	if !strings.HasPrefix(res.Detail, "step 7: got: 400 then close") {
		t.Errorf("detail = %q; want it to name step 7 and what it got", res.Detail)
	}
	if res.Wire == nil || strings.Count(res.Wire.Sent, "⟨reconnect⟩") != 1 || strings.Count(res.Wire.Received, "⟨reconnect⟩") != 1 {
		t.Fatalf("wire = %+v; want both sides joined by one ⟨reconnect⟩", res.Wire)
	}
	if !strings.Contains(res.Wire.Sent, "HEAD /bad") || !strings.Contains(res.Wire.Received, "400 Bad Request") {
		t.Errorf("wire = %+v; want the second connection's bytes", res.Wire)
	}

	// The same case against a server that closes after the first response, without announcing
	// it: RFC 9112 §9.5 lets a server close at any time, so steps 3-4 cannot be judged (the
	// close is graded once, by rfc9112/9.3), and the case is skipped, saying so.
	c.Steps[0].Send = requestFor("/close")
	res = runCase(t, f.target(), c, quickOpts)
	if res.Verdict != spec.Skip || !strings.HasPrefix(res.Detail, "step 4: not judged: got ") ||
		!strings.Contains(res.Detail, "without announcing close") {
		t.Errorf("got %s %q; want skip at step 4 naming the unannounced close", res.Verdict, res.Detail)
	}

	// Announced: "Connection: close" on the first response.
	c.Steps[0].Send = requestFor("/announce")
	res = runCase(t, f.target(), c, quickOpts)
	if res.Verdict != spec.Skip || !strings.Contains(res.Detail, "announced close (Connection: close)") {
		t.Errorf("got %s %q; want skip at step 4 naming the announced close", res.Verdict, res.Detail)
	}
}

// TestClosedEarly: after an announced close nothing more is owed, but a response that is
// already wrong is still judged, and so is a close with no response at all.
func TestClosedEarly(t *testing.T) {
	f := startFake(t, interpretRoutes)
	two := spec.Outcome{Responses: []spec.Want{{Status: spec.Status(200)}, {Status: spec.Status(200)}}, Then: spec.EndAny}
	pair := func(first string) []byte { return append(requestFor(first), requestFor("/open")...) }
	for _, tt := range []struct {
		name string
		send []byte
		want spec.Verdict
	}{
		{"announced close after the first of two", pair("/announce"), spec.Skip},
		{"HTTP/1.0 response without keep-alive", pair("/http10"), spec.Skip},
		{"unannounced close after the first of two", pair("/close"), spec.Skip},
		{"wrong first response, then close", pair("/bad"), spec.Fail},
		{"close without any response", requestFor("/silent-close"), spec.Fail},
	} {
		c := spec.Case{Meta: spec.Meta{ID: "t/closed-early", Level: spec.MUST},
			Steps: []spec.Step{{Send: tt.send}, {Expect: &spec.Expect{Any: []spec.Outcome{two}}}}}
		opt := quickOpts
		opt.Retries = 2 // a close seen late on a busy machine is re-run, not a wrong verdict
		if res := runCase(t, f.target(), c, opt); res.Verdict != tt.want {
			t.Errorf("%s: verdict = %s (%q); want %s", tt.name, res.Verdict, res.Detail, tt.want)
		}
	}
}

func TestCompileFillsOutcomes(t *testing.T) {
	c := exchangeCase("t/compile", spec.SHOULD, "/", outcome(400, spec.EndClosed), spec.Outcome{Then: spec.EndClosed})
	c.Needs = []spec.Need{spec.NeedEcho}
	got := Compile(c)
	want := []string{"400 then close", "close without a response"}
	if !reflect.DeepEqual(got.Outcomes, want) {
		t.Errorf("Outcomes = %q; want %q", got.Outcomes, want)
	}
	if got.ID != c.ID || got.Level != spec.SHOULD || !reflect.DeepEqual(got.Needs, c.Needs) || got.Run == nil {
		t.Errorf("Compile lost the case's identity: %+v", got)
	}
	c.Outcomes = []string{"written by hand"}
	if got := Compile(c); !reflect.DeepEqual(got.Outcomes, c.Outcomes) {
		t.Errorf("Outcomes = %q; want the catalogue's own %q", got.Outcomes, c.Outcomes)
	}
}

func TestRetarget(t *testing.T) {
	for _, tt := range []struct {
		in    string
		at    []int
		out   string
		outAt []int
	}{
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", []int{7, 16}, "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n", []int{17, 26}},
		{"GET / HT", nil, "GET /index.html HT", nil},
		{"GET /", []int{3}, "GET /index.html", []int{3}},
		// pipelined: both lines, offsets after each moved by what came before
		{"GET / HTTP/1.1\r\n\r\nHEAD / HTTP/1.1\r\n\r\n", []int{5, 20, 30}, "GET /index.html HTTP/1.1\r\n\r\nHEAD /index.html HTTP/1.1\r\n\r\n", []int{15, 30, 50}},
		// not a request-line target of exactly "/"
		{"GET /x HTTP/1.1\r\nX-A: / b\r\n\r\n", []int{4}, "GET /x HTTP/1.1\r\nX-A: / b\r\n\r\n", []int{4}},
		{"GET  / HTTP/1.1\r\n\r\n", nil, "GET  / HTTP/1.1\r\n\r\n", nil},
		{"POST /echo HTTP/1.1\r\n\r\n", nil, "POST /echo HTTP/1.1\r\n\r\n", nil},
	} {
		out, at := Retarget([]byte(tt.in), tt.at, "/index.html")
		if string(out) != tt.out || !slices.Equal(at, tt.outAt) {
			t.Errorf("For %q at %v, Retarget = %q at %v; want %q at %v", tt.in, tt.at, out, at, tt.out, tt.outAt)
		}
	}
}

// A status line with the shape of one but outside the grammar breaks RFC 9110 §2.2's MUST NOT
// whatever the case checks; a bare body is an HTTP/0.9 answer, which an outcome may accept.
func TestStatusLineShapes(t *testing.T) {
	f := startFake(t, interpretRoutes)
	want400 := outcome(400, spec.EndAny)
	for _, tt := range []struct {
		path     string
		outcomes []spec.Outcome
		want     spec.Verdict
		detail   string
	}{
		{"/bad-status", []spec.Outcome{want400}, spec.Fail, "does not match the grammar (RFC 9110 §2.2)"},
		{"/bare", []spec.Outcome{want400}, spec.Warn, "ill-framed"},
		{"/bare", []spec.Outcome{want400, {HTTP09: true, Verdict: spec.Info}}, spec.Info, "HTTP/0.9 answer"},
		{"/bad-status", []spec.Outcome{want400, {HTTP09: true}}, spec.Fail, "does not match the grammar"},
	} {
		res := runCase(t, f.target(), exchangeCase("t/status-line", spec.SHOULD, tt.path, tt.outcomes...), quickOpts)
		if res.Verdict != tt.want || !strings.Contains(res.Detail, tt.detail) {
			t.Errorf("For %s with %v, got %s %q; want %s with %q", tt.path, tt.outcomes, res.Verdict, res.Detail, tt.want, tt.detail)
		}
	}
}
