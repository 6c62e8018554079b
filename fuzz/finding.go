package fuzz

import (
	"strings"

	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/spec/wire"
)

// Grading: a finding's grade comes from the sentence it breaks, as a check case's does
// (../shared/GRADING.md): a MUST broken fails; a SHOULD, or a policy no sentence decides,
// warns. The fuzz command exits 1 only for a fail.

// grade says how bad a finding of kind is, and on what ground: the sentence (section and
// keyword) or the policy. res and a are the finding's result and its input's analysis.
func grade(kind string, res result, a analysis) (spec.Verdict, string) {
	switch kind {
	case KindAcceptInvalid:
		if ref, ok := mustRules[a.rule]; ok {
			return spec.Fail, ref
		}
		return spec.Fail, "RFC 9112 MUST (rule " + a.rule + ")"
	case KindEarlyResponse, KindEchoMismatch:
		framing := ""
		if res.req >= 0 && res.req < len(a.reqs) {
			framing = a.reqs[res.req].framing
		}
		switch framing {
		case "length":
			return spec.Fail, "RFC 9112 §6.3 MUST: a valid Content-Length defines the body's length; the bytes after it are the next request"
		case "chunked":
			return spec.Fail, "RFC 9112 §7.1 MUST: a recipient MUST be able to parse and decode the chunked transfer coding; the bytes after the last chunk are the next request"
		}
		return spec.Warn, "policy (RFC 9112 §6.3 gives a request without Content-Length or Transfer-Encoding a body of length zero, with no keyword)"
	case KindNoClose:
		switch res.class {
		case "te-cl":
			return spec.Fail, "RFC 9112 §6.1 MUST: close the connection after responding to Content-Length with Transfer-Encoding"
		case "after-last-http10":
			return spec.Warn, "RFC 9112 §9.3 (no keyword): HTTP/1.0 without keep-alive ends the connection after the response"
		}
		return spec.Fail, "RFC 9112 §9.6 MUST: close after the response to a request with the \"close\" option (or a response that sent it)"
	case KindIllFramed:
		switch {
		case res.cause == "extra-bytes":
			return spec.Fail, "RFC 9110 §9.3.2 / RFC 9112 §9.6 MUST: no content to HEAD, no bytes after the response that ends the connection"
		case res.req >= len(a.reqs):
			return spec.Warn, "RFC 9112 §2.2 SHOULD: an invalid request gets a 400 (an answer a client can read), then a close; an incomplete one MAY get an error response (§8)"
		case res.cause == "truncated":
			return spec.Warn, "policy (no RFC sentence binds the sender): a response ends where its framing says"
		}
		return spec.Fail, "RFC 9110 §2.2 MUST: a sender MUST NOT generate protocol elements that do not match the grammar"
	case KindZombie, KindFDLeak:
		return spec.Fail, "hygiene: zombies and leaked descriptors fail (as the check's hygiene cases)"
	case KindTargetDied:
		if res.cause == "died" {
			return spec.Fail, "hygiene: the server's root process died"
		}
		return spec.Warn, "policy (no RFC sentence): the server stopped accepting connections"
	case KindResetKills:
		return spec.Warn, "policy (no RFC sentence; RFC 9112 §9.5 lets a client close at any time): the server goes on serving after a client's reset, as robust/reset"
	case KindServedIncomplete:
		return spec.Warn, "policy (RFC 9112 §8: an incomplete request MAY get an error response): a request whose head never ended is not served"
	case KindHang:
		return spec.Warn, "policy (no RFC sentence): a complete request is answered within the timeout"
	}
	return spec.Warn, "policy (RFC 9112 §9.5: a server MAY close at any time): a complete, valid request gets an answer before the close"
}

// gradeOf is the grade alone of the finding res shows on an input analysed as a.
func gradeOf(res result, a analysis) spec.Verdict {
	g, _ := grade(res.kind, res, a)
	return g
}

// mustRules are the judge's rules whose breach every server must refuse (see mustReject), with
// the sentence that says so.
var mustRules = map[string]string{
	wire.RuleHost:          "RFC 9112 §3.2 MUST: 400 to a request without Host (HTTP/1.1), with two, or with an invalid one",
	wire.RuleSpaceColon:    "RFC 9112 §5.1 MUST: 400 to whitespace between a field name and the colon",
	wire.RuleContentLength: "RFC 9112 §6.3 MUST: 400, then close, for an invalid Content-Length",
	wire.RuleTENotChunked:  "RFC 9112 §6.3 MUST: 400, then close, when chunked is not the final transfer coding",
}

// signature names a finding's root cause, from its minimised input: what went wrong (the
// kind, and the rule the response broke or how the connection ended) and the shape of the
// request it happened to, not its bytes. Inputs that differ only in a method token, a field
// or the mutation that produced them share it: one finding, with a count, not one per
// reproducer.
func signature(res result, a analysis) string {
	parts := []string{res.kind}
	switch res.kind {
	case KindAcceptInvalid:
		parts = append(parts, "rule-"+a.rule)
	case KindIllFramed:
		// Bytes where the connection should end, and bytes with no status line where the
		// next response should start, are one bug: the response before was longer than its
		// framing said (a body to HEAD, a wrong Content-Length).
		// (Only the method counts then: HEAD, or not.)
		// An answer to the invalid or incomplete tail is judged as one: what it broke, not
		// how the tail was broken.
		switch i := res.req; {
		case res.cause == "extra-bytes" && i >= 0 && i < len(a.reqs):
			parts = append(parts, "overlong", methodClass(a.reqs[i].method))
		case res.cause == "extra-bytes":
			parts = append(parts, "overlong", methodClass(a.tailMethod))
		case res.cause == "no-status-line" && i > 0 && i < len(a.reqs):
			parts = append(parts, "overlong", methodClass(a.reqs[i-1].method))
		case i >= len(a.reqs):
			parts = append(parts, res.cause, "tail")
		default:
			parts = append(parts, res.cause, requestShape(a, i))
		}
	case KindNoResponse, KindHang:
		parts = append(parts, res.cause, requestShape(a, res.req))
	case KindNoClose:
		parts = append(parts, res.class, requestShape(a, res.req))
	case KindEarlyResponse, KindEchoMismatch:
		if res.req >= 0 && res.req < len(a.reqs) {
			parts = append(parts, a.reqs[res.req].framing)
		}
	case KindTargetDied:
		parts = append(parts, res.cause)
	}
	return strings.Join(parts, "/")
}

// knownMethods are the methods of RFC 9110 §9 and PATCH; any other token is an extension.
var knownMethods = map[string]bool{"GET": true, "POST": true, "PUT": true, "DELETE": true, "OPTIONS": true,
	"TRACE": true, "CONNECT": true, "PATCH": true}

// requestShape describes request i of a for a signature: HEAD (its answers are framed
// apart), a known or an extension method, and the body framing; the tail is "invalid" or
// "incomplete". (Not the version: minimising one bug may end at HTTP/1.0 or at HTTP/1.1 with
// Connection: close, depending on where it started.)
func requestShape(a analysis, i int) string {
	switch {
	case i < 0:
		return "none"
	case i >= len(a.reqs):
		if a.tail == tailIncomplete {
			return "incomplete"
		}
		return "invalid"
	}
	return methodClass(a.reqs[i].method) + "-" + a.reqs[i].framing
}

// methodClass is HEAD, "method" (another of RFC 9110's) or "extension-method".
func methodClass(m string) string {
	switch {
	case m == "HEAD":
		return m
	case knownMethods[m]:
		return "method"
	}
	return "extension-method"
}
