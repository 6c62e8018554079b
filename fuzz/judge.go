package fuzz

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/forkproof/forkproof/clients"
	"github.com/forkproof/forkproof/spec/wire"
)

// judge says what the observation o of delivering in (whose bytes were analysed as a)
// shows: a finding's kind and detail, or none. It is pure (no I/O, no clock), so it can be
// called on an observation still being made: deliver does, to stop at the first finding.
// The reads are judged in order, up to the first that ends the exchange.
func judge(in *Input, a analysis, o *observation) result {
	var res result
	got := 0 // requests answered
	res.stale = stale(o)
	for _, rd := range o.reads {
		if rd.req >= len(a.reqs) {
			judgeTail(&res, in, a, rd, o)
			return res
		}
		if o.writeErr != nil && a.reqs[rd.req].end > o.sent {
			// The answer to a request the target stopped reading: any answer ends it
			// (judged below when there is none).
			if rd.err == nil {
				res.responses++
				return res
			}
			break
		}
		answered, over := judgeRead(&res, in, a, rd, o)
		if over {
			return res // nothing after this is judged
		}
		if answered {
			got++
		}
	}
	// The server may close after rejecting the start of an invalid input, after answering
	// a request that asked it to close (HTTP/1.0, Connection: close), or after answering a
	// request before it arrived whole (it owes nothing for the rest).
	if o.writeErr != nil && a.valid() && in.ResetAt <= 0 && res.early == nil && !(a.closeEnd() >= 0 && o.sent >= a.closeEnd()) {
		var answered []*wire.Response
		for _, rd := range o.reads {
			if rd.err == nil {
				answered = append(answered, rd.resp)
			}
		}
		answers := "no response before"
		if len(answered) > 0 {
			answers = fmt.Sprintf("after %d responses (%s), none announcing a close", len(answered), statuses(answered))
		}
		res.kind, res.detail, res.cause = KindNoResponse, fmt.Sprintf("write failed at byte %d of a valid input, %s: %v", o.sent, answers, o.writeErr), "write"
		res.req = got
		return res
	}
	if res.early != nil {
		if got == len(a.reqs) {
			judgeRest(&res, in, a, o)
		}
		return res // the connection's state is not known: never reused
	}
	if o.reset {
		if o.serveErr != nil {
			return result{kind: KindResetKills, req: -1, detail: fmt.Sprintf("after a connection was reset at byte %d of %d, a fresh connection got no answer to GET /: %v", min(in.ResetAt, len(in.Send)), len(in.Send), o.serveErr)}
		}
		return result{responses: 1} // the serving check's
	}
	if got == len(a.reqs) && a.tail == tailNone {
		res.reusable = !in.HalfClose
	}
	return res
}

// stale reports whether the connection was closed or reset before any response came: on a
// connection that served earlier inputs, the target may have closed it as idle (RFC 9112
// §9.6) just before this input, which a client sends again on a fresh connection.
func stale(o *observation) bool {
	for _, rd := range o.reads {
		if rd.err == nil {
			return false
		}
	}
	if o.writeErr != nil {
		return true
	}
	if len(o.reads) == 0 {
		return false
	}
	e := clients.Classify(o.reads[0].err)
	return e == clients.Closed || e == clients.Reset
}

// judgeRead judges the read rd of the response to a request (not the tail): whether it
// answered the request, and whether the exchange is over after it.
func judgeRead(res *result, in *Input, a analysis, rd read, o *observation) (answered, over bool) {
	if rd.window && rd.sent < a.reqs[rd.req].end {
		// An answer to a request the target has not seen whole. A refusal (4xx, 5xx) may
		// come as soon as the target sees enough to refuse. Anything else is legal too: a
		// server may answer before it reads a body its response does not need (RFC 9112
		// §9.3 only asks it to read or discard the rest); what the target then does with
		// the rest of the bytes is judged by judgeRest.
		if rd.err != nil {
			return false, false // read again, and judged, after the input was sent
		}
		res.responses++
		if rd.resp.StatusCode < 400 && res.early == nil {
			res.early = &rd
		}
	} else {
		if rd.err == nil {
			res.responses++
		}
		res.kind, res.detail, res.cause = judgeResponse(in, a, rd)
		res.req = rd.req
		if res.early != nil && rd.err != nil && res.kind != KindIllFramed {
			// After answering a request early, the target may close instead of reading
			// the rest: what was unanswered after it is owed nothing.
			res.kind, res.detail = "", ""
		}
		if rd.err != nil || res.kind != "" || !rd.window && rd.resp.Tunnel {
			return true, true
		}
	}
	if q := a.reqs[rd.req]; q.close || hasClose(rd.resp) {
		res.class, res.kind, res.detail = judgeEnd(in, a, rd, o)
		res.req, res.cause = rd.req, "extra-bytes"
		return true, true
	}
	return true, false
}

// judgeResponse judges the read of the response to a complete request.
func judgeResponse(in *Input, a analysis, rd read) (kind, detail, cause string) {
	q := a.reqs[rd.req]
	if rd.err != nil {
		kind, what, cause := describeErr(rd.err)
		if !a.valid() && kind != KindIllFramed {
			return "", "", "" // the invalid rest may have made the target give up
		}
		return kind, fmt.Sprintf("%s after request %d of %d (%s)", what, rd.req+1, len(a.reqs), q.method), cause
	}
	if r := rd.resp; in.Echo && q.echo && r.StatusCode/100 == 2 && !r.Tunnel && !bytes.Equal(r.Body, q.body) {
		return KindEchoMismatch, fmt.Sprintf("%d %s from %s /echo (request %d of %d) carries %d bytes %q; the request body was %d bytes %q",
			r.StatusCode, r.Reason, q.method, rd.req+1, len(a.reqs), len(r.Body), clip(r.Body), len(q.body), clip(q.body)), "body"
	}
	return "", "", ""
}

// judgeTail judges the read of the response to the invalid or incomplete tail.
func judgeTail(res *result, in *Input, a analysis, rd read, o *observation) {
	res.req = len(a.reqs)
	if rd.err != nil {
		// RFC 9110 §6.2: a server that implements HTTP/0.9 answers a request line with no
		// version (or major version 0) in HTTP/0.9, a bare body (as the catalogue's
		// rfc9112/3 cases accept).
		if wire.HTTP09Answer(rd.err) && simpleRequest(in.Send[lastEnd(a):]) {
			return
		}
		if kind, what, cause := describeErr(rd.err); kind == KindIllFramed {
			res.kind, res.detail, res.cause = kind, what+" after an invalid request", cause
		}
		return
	}
	res.responses++
	r := rd.resp
	switch {
	case a.tail == tailInvalid && mustRefuse(in, a, o.facts) && r.StatusCode/100 == 2:
		res.kind = KindAcceptInvalid
		res.detail = fmt.Sprintf("%d %s to a request the judge rejects (%s, rule %s); every server must reject it", r.StatusCode, r.Reason, in.Mutation, a.rule)
	case a.tail == tailIncomplete && !a.headDone && r.StatusCode/100 == 2:
		res.kind = KindServedIncomplete
		res.detail = fmt.Sprintf("%d %s to a request whose head never completed (the client half-closed after %d bytes)", r.StatusCode, r.Reason, o.sent)
	default:
		res.class, res.kind, res.detail = judgeEnd(in, a, rd, o)
		res.cause = "extra-bytes"
	}
}

// mustRefuse says whether a 2xx to the invalid tail shows the target accepted what every
// server must refuse: the input's mutation is one (in.Must), and the sentence applies to
// this request and this target.
//   - Not after the head: a server may answer a request before it reads the body (a
//     static resource does not need it), so a 2xx says nothing of a broken body or trailer.
//   - Not a Host value or a second Host with an absolute-form target: RFC 9112 §3.2.2 tells
//     an origin server to ignore the Host field then, which the more specific sentence
//     decides over §3.2's 400 (a missing Host is still refused: the catalogue's
//     "absolute-form without Host").
//   - Not the Host rules or whitespace before a colon from a target that speaks HTTP/1.0:
//     they are HTTP/1.1's (the catalogue's cases need an HTTP/1.1 server).
//   - Not Content-Length fields of one valid number, repeated or too large for the judge:
//     §6.3 processes them as it, and RFC 9110 §8.6 lets a server read a huge one.
//   - Not a Transfer-Encoding without chunked: §6.1's SHOULD 501 decides it.
//   - Not a framing rule (Content-Length, Transfer-Encoding) on GET, HEAD, DELETE, CONNECT
//     or TRACE, whose content has no defined semantics (RFC 9110 §9.3): a server may answer
//     them without looking at the framing, and the catalogue frames bodies on POST only.
func mustRefuse(in *Input, a analysis, f facts) bool {
	switch {
	case !in.Must || a.inBody:
		return false
	case a.rule == wire.RuleHost && a.absoluteHost:
		return false
	case f.http10 && (a.rule == wire.RuleHost || a.rule == wire.RuleSpaceColon):
		return false
	case a.rule == wire.RuleContentLength && a.sameLengths:
		// "5, 5" or two lines of 5: RFC 9112 §6.3 processes it as 5 (RFC 9110 §8.6 lets a
		// recipient reject it, which is why the judge does); a number too large for the
		// judge is valid, and a server may read it or refuse it (RFC 9110 §8.6).
		return false
	case a.rule == wire.RuleTENotChunked && !a.teChunked:
		// No chunked at all ("gzip"): a coding the server does not know, RFC 9112 §6.1's
		// SHOULD 501, as the catalogue grades it.
		return false
	case a.rule == wire.RuleContentLength || a.rule == wire.RuleTENotChunked:
		switch a.tailMethod {
		case "GET", "HEAD", "DELETE", "CONNECT", "TRACE":
			return false
		}
	}
	return true
}

// closeWanted says whether the connection must end after the response read by rd, as the
// last thing on it: class names the rule for the finding's key ("" when it need not end),
// why the response, for the finding's detail.
func closeWanted(in *Input, a analysis, rd read) (class, why string) {
	switch {
	case rd.err != nil || rd.window || in.HalfClose:
		return "", ""
	case rd.req >= len(a.reqs):
		return closeAfterTail(in, a, rd.resp)
	}
	return closeAfterLast(a, rd.req, rd.resp)
}

// closeAfterTail: RFC 9112 §6.1: whatever it answers to Content-Length with
// Transfer-Encoding, the server MUST close the connection after responding. (A 2xx to it,
// when every server must reject it, is judged first.)
func closeAfterTail(in *Input, a analysis, r *wire.Response) (class, why string) {
	if a.tail != tailInvalid || a.rule != wire.RuleTECL || in.Must && r.StatusCode/100 == 2 {
		return "", ""
	}
	return "te-cl", fmt.Sprintf("a request with both Transfer-Encoding and Content-Length (%d %s)", r.StatusCode, r.Reason)
}

// closeAfterLast: RFC 9112 §9.3, §9.6: the connection ends after a response to a request
// that asked for it (HTTP/1.0, Connection: close) or that said so. When nothing was sent
// after the request (request i is the last), the target must close it. The class says which
// sentence decides: "after-last" a "close" option sent either way (§9.6 MUST), "after-last-
// http10" HTTP/1.0 without keep-alive only (§9.3, no keyword).
func closeAfterLast(a analysis, i int, r *wire.Response) (class, why string) {
	q := a.reqs[i]
	if r.Tunnel || !q.close && !hasClose(r) || i != len(a.reqs)-1 || a.tail != tailNone {
		return "", ""
	}
	why = fmt.Sprintf("request %d of %d (%s %s)", i+1, len(a.reqs), q.method, q.version)
	if hasClose(r) && !q.close {
		why += fmt.Sprintf(", which said it would close (%d %s)", r.StatusCode, r.Reason)
	}
	if q.closeOption || closeOption(r) {
		return "after-last", why
	}
	return "after-last-http10", why
}

// judgeEnd judges how the connection ended after the response read by rd, when it had to
// end (see closeWanted): bytes instead of the end mean the response was longer than it said
// (a body to HEAD, a wrong Content-Length). Not watched (the campaign knew the bug) is no
// finding, like a close or a reset.
func judgeEnd(in *Input, a analysis, rd read, o *observation) (class, kind, detail string) {
	class, why := closeWanted(in, a, rd)
	if class == "" {
		return "", "", ""
	}
	switch o.end.End {
	case clients.Data:
		if refusalBody(in, a, rd, o.end.Extra) {
			return class, "", ""
		}
		return class, KindIllFramed, fmt.Sprintf("%d bytes %q after the response to %s, where the connection should end", len(o.end.Extra), clip(o.end.Extra), why)
	case clients.Silent:
		return class, KindNoClose, fmt.Sprintf("the connection stayed open for %s after the response to %s; want close", o.end.Silence, why)
	}
	return class, "", ""
}

// judgeRest judges, after every request was answered and one of them before it had arrived
// whole (res.early), what the target made of the rest of that request's bytes: reading them
// as a request of their own is a finding (RFC 9112 §6.3: the body's length is its framing's,
// whenever the server answers); reading and discarding them, or closing, is not. The reads
// in o.after are the answers to the rest probe (a GET /) sent after the input (or, when the
// input was half-closed, whatever came before the close).
func judgeRest(res *result, in *Input, a analysis, o *observation) {
	e := res.early
	res.req = e.req
	early := fmt.Sprintf("request %d answered (%d %s) after %d of %d bytes, before it had arrived whole", e.req+1, e.resp.StatusCode, e.resp.Reason, e.sent, len(in.Send))
	var got []*wire.Response
	for _, rd := range o.after {
		if rd.err != nil {
			// Bytes that do not parse where only the answer to the rest probe was due: the
			// rest was read as a request (and answered in a way no reader can frame), or the
			// early answer ran longer than it said. Either way the rest was not framed as
			// the request said, and it is judged as such, graded by that request's framing.
			if kind, what, _ := describeErr(rd.err); kind == KindIllFramed {
				res.kind, res.cause = KindEarlyResponse, "unparsed"
				res.detail = fmt.Sprintf("%s; then bytes that do not parse as the response due (%s): the rest of its bytes was read as a request, or the early answer ran longer than it said", early, what)
				return
			}
			break
		}
		got = append(got, rd.resp)
	}
	want := 0
	if o.probed {
		want = 1
	}
	switch {
	case len(got) > want:
		res.kind = KindEarlyResponse
		res.detail = fmt.Sprintf("%s; then %d more responses (%s) where %d was due: the rest of its bytes was read as a request", early, len(got), statuses(got), want)
	case o.probed && len(got) == 1 && o.rootStatus != 0 && got[0].StatusCode != o.rootStatus:
		res.kind = KindEarlyResponse
		res.detail = fmt.Sprintf("%s; then %d %s to a GET / sent after the input, which a fresh connection answers %d: the rest of its bytes was read as the start of a request", early, got[0].StatusCode, got[0].Reason, o.rootStatus)
	}
	res.responses += len(got)
}

func statuses(rs []*wire.Response) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("%d %s", r.StatusCode, r.Reason))
	}
	return strings.Join(parts, ", ")
}

// simpleRequest reports whether b starts (after empty lines) with an HTTP/0.9 request line:
// two words with no version, or a version whose major number is 0.
func simpleRequest(b []byte) bool {
	b = bytes.TrimLeft(b, "\r\n")
	line, _, _ := bytes.Cut(b, []byte("\n"))
	words := bytes.Fields(line)
	return len(words) == 2 || len(words) == 3 && bytes.HasPrefix(words[2], []byte("HTTP/0."))
}

// refusalBody reports whether extra, read after the response rd to a HEAD request where the
// connection should end, is that response's own body: a refusal of a request the target
// could not parse or will not serve at all (400, 414, 431, 501, 505) may come before the
// target knew the method was HEAD, so it carries the body its Content-Length announces.
func refusalBody(in *Input, a analysis, rd read, extra []byte) bool {
	method := a.tailMethod
	if rd.req < len(a.reqs) {
		method = a.reqs[rd.req].method
	}
	if method != "HEAD" || rd.resp == nil {
		return false
	}
	switch rd.resp.StatusCode {
	case 400, 414, 431, 501, 505:
	default:
		return false
	}
	cl := rd.resp.Get("Content-Length")
	if len(cl) == 0 && len(rd.resp.Get("Transfer-Encoding")) == 0 {
		return true // a body that ends at the close
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.Join(cl, "")))
	return len(cl) == 1 && err == nil && len(extra) <= n
}

// describeErr says how a read failed, in the words of a finding, and names the cause for the
// finding's signature: the rule the response broke, or how the connection ended.
func describeErr(err error) (kind, what, cause string) {
	var we *wire.Error
	switch clients.Classify(err) {
	case clients.IllFramed:
		errors.As(err, &we)
		cause = we.Rule
		if wire.HTTP09Answer(err) {
			cause = "no-status-line"
		}
		return KindIllFramed, we.Error(), cause
	case clients.Truncated:
		return KindIllFramed, "response truncated: " + err.Error(), "truncated"
	case clients.Silent:
		return KindHang, "no response", "silent"
	case clients.Closed:
		return KindNoResponse, "connection closed", "closed"
	}
	return KindNoResponse, "connection failed: " + err.Error(), "failed"
}
