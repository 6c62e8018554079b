package conformance

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/forkproof/forkproof/clients"
	"github.com/forkproof/forkproof/hygiene"
	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/spec/wire"
	"github.com/forkproof/forkproof/targets"
)

// Robustness scenarios (robust_*.go) do to a server what real networks and hostile clients
// do, and judge what comes back; hygiene checks (hygiene_*.go) look at the server's processes
// after the scenarios that stress them. They are ordinary Cases, registered in init.

// robustPar bounds the connections a scenario keeps busy at once: enough to finish hundreds
// of connections quickly, few enough not to starve a prefork pool serving other cases.
const robustPar = 8

// The RFC sentences robustness scenarios rest on: the catalogue's (package spec), so a quote is
// fixed in one place. A scenario's level is its deciding sentence's keyword; a scenario with no
// sentence behind it states the policy it applies and grades at most warn.
var (
	s9112Pipeline     = spec.SentencePipelineOrder
	s9110TooLarge     = spec.SentenceFieldTooLarge
	s9112CloseNoMore  = spec.SentenceCloseNoMore
	s9112CloseAnyTime = spec.SentenceCloseAnyTime
	s9112Invalid400   = spec.SentenceInvalid400
)

// robustRule builds the Meta of a scenario resting on RFC sentences, the deciding one first:
// its keyword is the scenario's level.
func robustRule(id, title, requirement string, sentences []spec.Sentence, outcomes ...string) spec.Meta {
	return spec.Meta{ID: id, Category: spec.Robustness, Level: sentences[0].Keyword, Title: title,
		Requirement: requirement, Outcomes: outcomes, Sentences: sentences}
}

// robustPolicy builds the Meta of a scenario no RFC sentence decides: it applies policy, and
// a miss is at most a warning (a zombie or a leaked fd it finds afterwards still fails, as
// hygiene failures do).
func robustPolicy(id, title, requirement, policy string, outcomes ...string) spec.Meta {
	return spec.Meta{ID: id, Category: spec.Robustness, Level: spec.None, Title: title,
		Requirement: requirement, Outcomes: outcomes, Policy: policy}
}

// withPolicy adds to a scenario resting on a sentence the policy it applies to what the
// sentence leaves open (graded at most warn).
func withPolicy(m spec.Meta, policy string) spec.Meta {
	m.Policy = policy
	return m
}

// hygieneMeta builds the Meta of a hygiene check: no RFC sentence, a stated policy.
func hygieneMeta(id, title, requirement, policy string, outcomes ...string) spec.Meta {
	return spec.Meta{ID: id, Category: spec.Hygiene, Level: spec.None, Title: title,
		Requirement: requirement, Outcomes: outcomes, Policy: policy}
}

// scenario makes a Case whose results carry m whatever the run function filled in.
func scenario(m spec.Meta, needs []spec.Need, run func(ctx context.Context, env *Env) Result) Case {
	return Case{Meta: m, Needs: needs, Run: func(ctx context.Context, env *Env) Result {
		r := run(ctx, env)
		r.Meta = m
		return r
	}}
}

// scheduled is c with schedule s (see Schedule).
func scheduled(s Schedule, c Case) Case {
	c.Schedule = s
	return c
}

func judged(v spec.Verdict, format string, args ...any) Result {
	return Result{Verdict: v, Detail: fmt.Sprintf(format, args...)}
}

// exchangeFailed fails a case on exchange e: the detail, e's transcript, and Timed when e
// ended in a timeout, so the runner retries the case with longer waits.
func exchangeFailed(e *clients.Exchange, format string, args ...any) Result {
	r := withWire(judged(spec.Fail, format, args...), e)
	r.Timed = e != nil && e.End == clients.Silent
	return r
}

// withWire attaches the transcript of one exchange to r.
func withWire(r Result, e *clients.Exchange) Result {
	if e != nil && (e.Sent != "" || e.Received != "") {
		r.Wire = &Wire{Sent: capText(e.Sent), Received: capText(e.Received)}
	}
	return r
}

// capText keeps a transcript of a megabyte request readable in a report.
func capText(s string) string {
	const max = 8 << 10
	if len(s) <= max {
		return s
	}
	return s[:max] + fmt.Sprintf("…⟨%d more bytes⟩", len(s)-max)
}

// get builds a GET-like request to path for the target, with extra header lines.
func reqGet(env *Env, method, path string, extra ...string) clients.Request {
	if path == "/" {
		path = env.Target.RootPath() // the user's -path: a 2xx resource
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, env.Target.Addr)
	for _, h := range extra {
		b.WriteString(h)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	return clients.Request{Method: method, Bytes: []byte(b.String())}
}

// post builds a POST with a Content-Length body.
func reqPost(env *Env, path string, body []byte, extra ...string) clients.Request {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n",
		path, env.Target.Addr, len(body))
	for _, h := range extra {
		b.WriteString(h)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	b.Write(body)
	return clients.Request{Method: "POST", Bytes: b.Bytes()}
}

// whole sends req in one write on a fresh connection and returns the response: what a split
// or pipelined copy of req must also get.
func sendWhole(ctx context.Context, env *Env, req clients.Request) (*wire.Response, *clients.Exchange) {
	e := clients.PartialSend(ctx, env.Target.Addr, req, nil, 0, env.Timeout)
	if !e.OK() || len(e.Responses) != 1 {
		return nil, &e
	}
	return e.Responses[0], &e
}

// sameResponse says how got differs from want in what matters (status, body), or "".
func sameResponse(got, want *wire.Response) string {
	switch {
	case got == nil:
		return "no response"
	case got.StatusCode != want.StatusCode:
		return fmt.Sprintf("status %d; want %d", got.StatusCode, want.StatusCode)
	case !bytes.Equal(got.Body, want.Body):
		return fmt.Sprintf("body of %d bytes %s; want %d bytes %s", len(got.Body), bytesPreview(got.Body), len(want.Body), bytesPreview(want.Body))
	}
	return ""
}

func bytesPreview(b []byte) string {
	if len(b) > 24 {
		return clients.Escape(b[:24]) + "…"
	}
	return `"` + clients.Escape(b) + `"`
}

// exchangeSays says in words what an exchange that did not complete saw.
func exchangeSays(e *clients.Exchange) string {
	switch {
	case e.DialErr != nil:
		return "cannot connect: " + e.DialErr.Error()
	case e.Premature != clients.NoEnding:
		what := "answered" // clients.Data
		switch e.Premature {
		case clients.Closed:
			what = "closed"
		case clients.Reset:
			what = "reset"
		}
		s := fmt.Sprintf("the server %s after only %d bytes of the request", what, e.PrematureAt)
		if len(e.PrematureData) > 0 {
			s += ": " + bytesPreview(e.PrematureData)
		}
		return s
	case e.SendErr != nil:
		return "sending failed: " + e.SendErr.Error()
	case e.Err != nil:
		return fmt.Sprintf("after %d response(s): %s (%v)", len(e.Responses), e.End.WhyStopped(), e.Err)
	}
	return fmt.Sprintf("%d response(s)", len(e.Responses))
}

// probeServed checks that the server still answers GET / promptly on a fresh connection.
func probeServed(ctx context.Context, env *Env) (string, *clients.Exchange) {
	e := clients.PartialSend(ctx, env.Target.Addr, reqGet(env, "GET", "/", "Connection: close"), nil, 0, env.Timeout)
	if !e.OK() {
		return exchangeSays(&e), &e
	}
	if s := e.Responses[0].StatusCode; s/100 != 2 {
		return fmt.Sprintf("status %d; want 2xx", s), &e
	}
	return "", &e
}

// since formats a duration for details, rounded for reading.
func roundedSince(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }

// owed says how many of the want responses e was owed, and why when fewer than want: after a
// response that announces close, nothing more is owed (RFC 9112 §9.6: the server "MUST NOT
// process any further requests received on that connection"), and whatever follows it is not
// judged here; after a close that follows a complete response without announcing it, the rest
// cannot be judged either (a server MAY close at any time, RFC 9112 §9.5; not announcing it is
// graded as the SHOULD it is by rfc9112/9.3 on plain requests). A connection that stays open
// without the rest, or ends inside a response, owes everything.
func owed(e *clients.Exchange, want int) (n int, why string) {
	for i, r := range e.Responses {
		if i+1 < want && targets.AnnouncesClose(r) {
			return i + 1, fmt.Sprintf("response %d of %d announced close (%s), so the rest were not owed (RFC 9112 §9.6)",
				i+1, want, targets.CloseAnnouncement(r))
		}
	}
	got := len(e.Responses)
	if got > 0 && got < want && e.DialErr == nil && (e.End == clients.Closed || e.End == clients.Reset || e.SendErr != nil) {
		how := e.End.WhyStopped()
		if e.SendErr != nil {
			how = "sending the next request failed: " + e.SendErr.Error()
		}
		return got, fmt.Sprintf("the server closed (%s) after response %d of %d without announcing it; the rest cannot be judged (RFC 9112 §9.5 allows a close at any time; announcing it is §9.6's SHOULD, graded by rfc9112/9.3 on plain requests)",
			how, got, want)
	}
	return want, ""
}

// probeAfterStress ends a stress scenario: a probe GET / must be served (a policy: warn when
// it is not), and the processes must not leak (a failure, which also explains a probe that
// went unanswered). what starts the details ("after 64 resets before the request,"). failed
// says r is the verdict; otherwise r.Detail holds the hygiene numbers for the caller's pass.
func probeAfterStress(ctx context.Context, env *Env, base *hygiene.Snapshot, more hygiene.MoreConns, what string) (r Result, failed bool) {
	if why, e := probeServed(ctx, env); why != "" {
		r := exchangeFailed(e, "%s a probe GET / was not served: %s", what, why)
		r.Verdict = spec.Warn // a policy, unless the server's processes say why
		if wrong, _ := afterStress(ctx, env, base, more); wrong != "" {
			r.Verdict, r.Detail = spec.Fail, r.Detail+"; "+wrong
		}
		return r, true
	}
	wrong, numbers := afterStress(ctx, env, base, more)
	if wrong != "" {
		return judged(spec.Fail, "%s %s", what, wrong), true
	}
	return Result{Detail: numbers}, false
}
