package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/forkproof/forkproof/clients"
	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/spec/wire"
	"github.com/forkproof/forkproof/targets"
)

// Compile turns a catalogue entry into a runnable Case: its Run interprets the Steps on real
// connections and judges each Expect against the acceptable outcomes. Meta.Outcomes is filled
// from the Expect steps when the entry leaves it empty.
func Compile(c spec.Case) Case {
	meta := c.Meta
	if len(meta.Outcomes) == 0 {
		meta.Outcomes = c.OutcomeNames()
	}
	return Case{
		Meta:  meta,
		Needs: c.Needs,
		Run: func(ctx context.Context, env *Env) Result {
			return interpret(ctx, env, &c, meta)
		},
	}
}

// session is the state of one interpreted case: the open connection and the transcripts of
// the connections already closed by a Reconnect step.
type session struct {
	ctx     context.Context
	env     *Env
	conn    *clients.Conn
	sent    []string
	recv    []string
	sendErr error // first failed write: the server may legitimately close before reading all
	// last is the last response read on the current connection (nil before the first): when
	// the server closes after it, what the case still wanted is no longer owed.
	last *wire.Response
}

func (s *session) dial() error {
	c, err := clients.Dial(s.ctx, s.env.Target.Addr)
	if err != nil {
		return err
	}
	s.conn = c
	return nil
}

// hangUp closes the current connection, keeping its transcript.
func (s *session) hangUp() {
	if s.conn == nil {
		return
	}
	sent, recv := s.conn.Transcript()
	s.sent = append(s.sent, sent)
	s.recv = append(s.recv, recv)
	s.conn.Close()
	s.conn = nil
}

func (s *session) wire() *Wire {
	return &Wire{
		Sent:     strings.Join(s.sent, "⟨reconnect⟩"),
		Received: strings.Join(s.recv, "⟨reconnect⟩"),
	}
}

func interpret(ctx context.Context, env *Env, c *spec.Case, meta spec.Meta) (res Result) {
	res = Result{Meta: meta, Verdict: spec.Pass}
	if env == nil || env.Target == nil {
		res.Verdict, res.Detail = spec.Fail, "no target"
		return res
	}
	s := &session{ctx: ctx, env: env}
	defer func() {
		s.hangUp()
		res.Wire = s.wire()
	}()
	if err := s.dial(); err != nil {
		res.Verdict = spec.Fail
		res.Detail = fmt.Sprintf("cannot connect to %s: %v", env.Target.Addr, err)
		return res
	}

	expects := 0
	for _, st := range c.Steps {
		if st.Expect != nil {
			expects++
		}
	}
	var notes []string
	for i, st := range c.Steps {
		if err := ctx.Err(); err != nil {
			res.Verdict, res.Detail = spec.Skip, "interrupted: "+err.Error()
			return res
		}
		where := ""
		if expects > 1 {
			where = fmt.Sprintf("step %d: ", i+1)
		}
		switch {
		case st.Reconnect:
			s.hangUp()
			s.sendErr, s.last = nil, nil
			if err := s.dial(); err != nil {
				res.Verdict = meta.MissVerdict()
				res.Detail = fmt.Sprintf("%scannot reconnect to %s: %v", where, env.Target.Addr, err)
				return res
			}
		case st.Expect != nil:
			obs := s.observe(st.Expect)
			m, why := judge(st.Expect, obs)
			if m < 0 && s.closedEarly(st.Expect, obs) {
				// What earlier steps found stands (a warning is still a finding); otherwise the
				// case's question went unanswered.
				if res.Verdict != spec.Warn && res.Verdict != spec.Fail {
					res.Verdict = spec.Skip
				}
				res.Detail = strings.Join(append(notes, where+closedEarlyDetail(s.last, obs)), "; ")
				return res
			}
			if len(obs.Responses) > 0 {
				s.last = obs.Responses[len(obs.Responses)-1]
			}
			if m < 0 {
				res.Verdict = meta.MissVerdict()
				res.Detail = where + missDetail(st.Expect, obs, why, s.sendErr)
				res.Timed = patienceMightHelp(st.Expect.Any, obs)
				res.Silence = obs.Silence
				if line := brokenStatusLine(obs); line != nil {
					// Whatever the case asked, the server answered with a status line outside
					// the grammar: that breaks a MUST of its own.
					res.Verdict = spec.Fail
					res.Detail += fmt.Sprintf("; the status line %q does not match the grammar (%s)", line, senderGrammar.Ref)
					res.Sentences = append(slices.Clone(res.Sentences), senderGrammar)
				}
				return res
			}
			o := &st.Expect.Any[m]
			if v := o.Verdict; v != "" && v != spec.Pass {
				res.Verdict = worse(res.Verdict, v)
				// An earlier outcome, which would have decided instead, might still show.
				if patienceMightHelp(st.Expect.Any[:m], obs) {
					res.Timed, res.Silence = true, obs.Silence
				}
				notes = append(notes, fmt.Sprintf("%sgot: %s (acceptable outcome %q, judged %s)", where, said(obs), o.String(), v))
			}
		default:
			s.send(st)
		}
	}
	res.Detail = strings.Join(notes, "; ")
	return res
}

func (s *session) send(st spec.Step) {
	if p := s.env.Target.Path; p != "" && p != "/" {
		st.Send, st.SplitAt = Retarget(st.Send, st.SplitAt, p)
	}
	var err error
	switch {
	case len(st.Send) > 0 && len(st.SplitAt) > 0:
		err = s.conn.SendSplit(st.Send, st.SplitAt, st.Pause)
	case len(st.Send) > 0:
		err = s.conn.Send(st.Send)
	}
	if err == nil && st.HalfClose {
		err = s.conn.CloseWrite()
	}
	if err != nil && s.sendErr == nil {
		s.sendErr = err
	}
}

// Retarget rewrites every request line of b whose target is exactly "/" (a method token at
// a line start, SP, "/", then SP or the end of b) to target path instead, moving the split
// offsets after each rewrite by the length it added.
func Retarget(b []byte, at []int, path string) ([]byte, []int) {
	var out []byte
	orig, at := at, slices.Clone(at)
	delta := 0
	for i := 0; i < len(b); {
		j := i
		for j < len(b) && isTchar(b[j]) {
			j++
		}
		if j > i && j+1 < len(b) && b[j] == ' ' && b[j+1] == '/' && (j+2 == len(b) || b[j+2] == ' ') {
			slash := j + 1
			out = append(out, b[i:slash]...)
			out = append(out, path...)
			for k, o := range orig {
				if o > slash {
					at[k] += len(path) - 1
				}
			}
			delta += len(path) - 1
			i = slash + 1
		}
		nl := bytes.IndexByte(b[i:], '\n')
		if nl < 0 {
			out = append(out, b[i:]...)
			break
		}
		out = append(out, b[i:i+nl+1]...)
		i += nl + 1
	}
	if delta == 0 {
		return b, orig
	}
	return out, at
}

// isTchar reports whether c may appear in a token (RFC 9110 §5.6.2): a method name.
func isTchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// senderGrammar is the sentence a malformed status line breaks, whatever the case checks.
var senderGrammar = spec.SentenceSenderGrammar

// brokenStatusLine returns the first line of a response whose status line has the shape of one
// but breaks its grammar ("HTTP/1.a 200 Ok", "UNKNOWN 400 Bad Request"), or nil. A first line
// of another shape is an HTTP/0.9 answer (a bare body), judged by the outcomes.
func brokenStatusLine(obs clients.Observation) []byte {
	var we *wire.Error
	if obs.End != clients.IllFramed || !errors.As(obs.Err, &we) || we.StatusLine == nil {
		return nil
	}
	if !wire.LooksLikeStatusLine(we.StatusLine) {
		return nil
	}
	return we.StatusLine
}

// http09Answer reports whether obs is an HTTP/0.9 answer: bytes whose first line is not a
// status line of any shape, before any response.
func http09Answer(obs clients.Observation) bool {
	return len(obs.Responses) == 0 && obs.End == clients.IllFramed && wire.HTTP09Answer(obs.Err)
}

// closedEarly reports whether a miss is only the server ending the connection after a
// response, before everything the case wanted was asked or answered: each response read in
// this step agrees with the start of some outcome that wanted more, and the connection then
// closed (or refused the rest of what was sent). RFC 9112 §9.6: a server that announced
// "close" "MUST NOT process any further requests received on that connection", and §9.5: a
// server "MAY close the transport connection at any time" — so the rest is not owed, and the
// case's question is unanswered rather than answered wrongly. Whether the server persists at
// all, and announces its closes on plain requests, is graded once, by rfc9112/9.3.
func (s *session) closedEarly(e *spec.Expect, obs clients.Observation) bool {
	if obs.End != clients.Closed && obs.End != clients.Reset {
		return false
	}
	k := len(obs.Responses)
	if k == 0 && s.last == nil {
		return false // no response at all on this connection: nothing excuses the close
	}
	if k > 0 {
		s.last = obs.Responses[k-1]
	}
	for i := range e.Any {
		o := &e.Any[i]
		if len(o.Responses) <= k {
			continue
		}
		agrees := true
		for j := 0; j < k && agrees; j++ {
			w, r := o.Responses[j], obs.Responses[j]
			agrees = w.Status.Has(r.StatusCode) && (w.Check == nil || runCheck(w.Check, r) == nil)
		}
		if agrees {
			return true
		}
	}
	return false
}

// closedEarlyDetail says why a case was skipped by closedEarly.
func closedEarlyDetail(last *wire.Response, obs clients.Observation) string {
	how := "closed the connection"
	if obs.End == clients.Reset {
		how = "reset the connection"
	}
	if targets.AnnouncesClose(last) {
		return fmt.Sprintf("not judged: got %s; the server announced close (%s) and %s, so it owes no further response (RFC 9112 §9.6); the rest of this case cannot be judged on this server",
			said(obs), targets.CloseAnnouncement(last), how)
	}
	return fmt.Sprintf("not judged: got %s; the server %s after a response without announcing close (RFC 9112 §9.5 allows a close at any time; §9.6 asks a server that means to close to say so, which rfc9112/9.3 grades on plain requests), so the rest of this case cannot be judged on this server",
		said(obs), how)
}

// observe reads as many responses as the longest outcome needs (stopping early on close or
// error), then watches the connection end when some outcome judges it.
func (s *session) observe(e *spec.Expect) clients.Observation {
	var obs clients.Observation
	maxN, judgeEnd := 0, false
	for _, o := range e.Any {
		maxN = max(maxN, len(o.Responses))
		judgeEnd = judgeEnd || o.Then != spec.EndAny
	}
	for i := range maxN {
		wait := s.env.Timeout
		if silenceAcceptedAt(e, i) {
			// Silence here is itself an answer ("the server waits for the rest"): observe it
			// for the window, not the long response timeout.
			wait = s.env.Window
		}
		r, err := s.conn.ReadResponse(methodOf(e, i), wait)
		if err == nil && r != nil {
			obs.Responses = append(obs.Responses, r)
			continue
		}
		if err == nil {
			err = errors.New("no response and no error from the reader")
		}
		obs.Stop(err, wait)
		return obs
	}
	if judgeEnd {
		obs.Watch(s.conn, s.env.Window)
	}
	return obs
}

// silenceAcceptedAt reports whether some outcome accepts "no more responses, connection stays
// open" after exactly i responses.
func silenceAcceptedAt(e *spec.Expect, i int) bool {
	for _, o := range e.Any {
		if o.Then == spec.EndOpen && len(o.Responses) == i {
			return true
		}
	}
	return false
}

// methodOf is the request method the i-th response answers (framing depends on it).
func methodOf(e *spec.Expect, i int) string {
	if i < len(e.Methods) && e.Methods[i] != "" {
		return e.Methods[i]
	}
	return "GET"
}

// judge returns the index of the first outcome of e that obs matches, or -1 and the reasons
// why outcomes whose statuses matched were still rejected by their checks.
func judge(e *spec.Expect, obs clients.Observation) (int, []string) {
	var why []string
	for i := range e.Any {
		o := &e.Any[i]
		ok, reason := matches(o, obs)
		if ok {
			return i, nil
		}
		if reason != "" {
			why = append(why, fmt.Sprintf("%s: %s", o, reason))
		}
	}
	return -1, why
}

// patienceMightHelp reports whether one of outcomes could still have been seen had the
// runner waited longer: the server was silent and open when the wait ended, everything it
// had sent so far agrees with the outcome, and the outcome wants more responses or a close.
// Only such observations are worth re-running with longer waits; a wrong status is wrong
// however long one waits.
func patienceMightHelp(outcomes []spec.Outcome, obs clients.Observation) bool {
	if obs.End != clients.Silent {
		return false
	}
	k := len(obs.Responses)
	for i := range outcomes {
		o := &outcomes[i]
		n := len(o.Responses)
		agrees := true
		for j := 0; j < min(k, n) && agrees; j++ {
			w, r := o.Responses[j], obs.Responses[j]
			agrees = w.Status.Has(r.StatusCode) && (w.Check == nil || runCheck(w.Check, r) == nil)
		}
		if agrees && (k < n || k == n && o.Then == spec.EndClosed) {
			return true
		}
	}
	return false
}

// matches reports whether obs is outcome o. An outcome that does not judge the end only needs
// its responses first (others may have made the runner read further); one that judges the end
// needs exactly its responses and then that end.
func matches(o *spec.Outcome, obs clients.Observation) (bool, string) {
	if o.HTTP09 {
		return http09Answer(obs), ""
	}
	n, k := len(o.Responses), len(obs.Responses)
	if k < n {
		return false, ""
	}
	for j, w := range o.Responses {
		r := obs.Responses[j]
		if !w.Status.Has(r.StatusCode) {
			return false, ""
		}
		if w.Check == nil {
			continue
		}
		if err := runCheck(w.Check, r); err != nil {
			return false, fmt.Sprintf("response %d (%d): %v", j+1, r.StatusCode, err)
		}
	}
	switch o.Then {
	case spec.EndAny:
		return true, ""
	case spec.EndClosed:
		return k == n && (obs.End == clients.Closed || obs.End == clients.Reset), ""
	case spec.EndOpen:
		return k == n && obs.End == clients.Silent, ""
	}
	return false, ""
}

// runCheck runs a catalogue check, turning a panic (a catalogue bug) into an error.
func runCheck(check func(*wire.Response) error, r *wire.Response) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("check panicked: %v", p)
		}
	}()
	return check(r)
}

// missDetail says, h2spec style, what happened and every outcome that would have been right.
func missDetail(e *spec.Expect, obs clients.Observation, why []string, sendErr error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "got: %s; want one of: [", said(obs))
	for i, o := range e.Any {
		if i > 0 {
			b.WriteString(" | ")
		}
		b.WriteString(o.String())
	}
	b.WriteString("]")
	if len(e.Any) == 0 {
		b.WriteString(" (catalogue error: the step lists no outcome)")
	}
	for _, w := range why {
		b.WriteString("; ")
		b.WriteString(w)
	}
	if sendErr != nil {
		fmt.Fprintf(&b, "; sending failed: %v", sendErr)
	}
	return b.String()
}

// said describes an observation in the words outcomes are named with ("400 then close").
func said(obs clients.Observation) string {
	codes := make([]string, len(obs.Responses))
	for i, r := range obs.Responses {
		codes[i] = strconv.Itoa(r.StatusCode)
	}
	got := strings.Join(codes, ", ")
	var end string
	switch obs.End {
	case clients.Closed:
		if got == "" {
			return "close without a response"
		}
		end = "close"
	case clients.Reset:
		if got == "" {
			return "reset without a response"
		}
		end = "reset"
	case clients.Silent:
		if got == "" {
			return fmt.Sprintf("no response; connection stays open (silent for %s)", obs.Silence)
		}
		end = fmt.Sprintf("connection stays open (silent for %s)", obs.Silence)
	case clients.IllFramed, clients.Truncated, clients.Failed:
		end = describeReadError(obs)
	case clients.Data:
		end = "unexpected data " + firstLine(obs.Extra)
	default:
		if got == "" {
			return "nothing"
		}
		return got
	}
	if got == "" {
		return end
	}
	return got + " then " + end
}

// describeReadError names the grammar rule an ill-framed response broke.
func describeReadError(obs clients.Observation) string {
	err := obs.Err
	var we *wire.Error
	if errors.As(err, &we) {
		s := fmt.Sprintf("ill-framed response (rule %s at byte %d", we.Rule, we.Offset)
		if we.Msg != "" {
			s += ": " + we.Msg
		}
		return s + ")"
	}
	if obs.End == clients.Truncated {
		return fmt.Sprintf("truncated response (%v)", err)
	}
	return fmt.Sprintf("unreadable response (%v)", err)
}

// firstLine quotes the start of b, up to its first line end, shortened.
func firstLine(b []byte) string {
	const limit = 60
	line, _, cut := bytes.Cut(b, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	short := len(line) > limit
	if short {
		line = line[:limit]
	}
	s := strconv.Quote(string(line))
	if cut || short {
		s += "…"
	}
	return s
}

// worse returns the more serious of two verdicts.
func worse(a, b spec.Verdict) spec.Verdict {
	rank := func(v spec.Verdict) int {
		switch v {
		case spec.Fail:
			return 4
		case spec.Warn:
			return 3
		case spec.Info:
			return 2
		case spec.Skip:
			return 1
		}
		return 0
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}
