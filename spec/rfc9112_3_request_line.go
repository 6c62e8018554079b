package spec

import (
	"fmt"

	"github.com/forkproof/forkproof/spec/wire"
)

// Sentences of RFC 9112 §3 and RFC 9110 §6.2, §9.1 that the sentence table does not hold.
var (
	s9112NoAutocorrect = r9112("3.2", SHOULD,
		"A recipient SHOULD NOT attempt to autocorrect and then process the request without a redirect, since the invalid request-line might be deliberately crafted to bypass security filters along the request chain.")
	s9110HigherMinor = r9110("6.2", SHOULD,
		"A recipient that receives a message with a major version number that it implements and a minor version number higher than what it implements SHOULD process the message as if it were in the highest minor version within that major version to which the recipient is conformant.")
	s9110MethodCase = r9110("9.1", None,
		"The method token is case-sensitive because it might be used as a gateway to object-based systems with case-sensitive method names.")
)

// versionNot1x: the response names a version other than HTTP/1.0 and HTTP/1.1 — one an
// HTTP/1.x server does not conform to (it echoed the request's).
func versionNot1x() check {
	return check{"version other than HTTP/1.0 and HTTP/1.1", func(r *wire.Response) error {
		if r.Version == "HTTP/1.1" || r.Version == "HTTP/1.0" {
			return fmt.Errorf("version %q is HTTP/1.x", r.Version)
		}
		return nil
	}}
}

// nonConformantVersion is the outcome RFC 9110 §6.2's MUST NOT forbids, whatever the status:
// a response in a version the server cannot conform to ("HTTP/2.0 200", "HTTP/1.9 200").
// It fails even where the case's deciding sentence is a SHOULD: the MUST NOT is the more
// specific sentence for this outcome.
func nonConformantVersion() Outcome {
	return Outcome{Name: "a response labelled with a version the server does not conform to (RFC 9110 §6.2 MUST NOT)",
		Responses: []Want{want(Range(100, 599), versionNot1x())}, Verdict: Fail}
}

// RFC 9112 §3: the request line — method, request-target, HTTP-version, single SP separators.
// http09: the server answers in HTTP/0.9, a bare body: what RFC 9110 §6.2 asks of a server
// that implements HTTP/0.9 when the request's major version is 0 (recorded as info).
func http09() Outcome {
	return Outcome{HTTP09: true, Verdict: Info}
}

func rfc9112RequestLine() []Case {
	line := func(l string) string { return raw(l, "Host: forkproof.test") }
	// processed and otherRefusal are the answers to an invalid request line that RFC 9112
	// §3.2's SHOULD does not name: a 404 shows the line was read and its target looked up as
	// it came (the SHOULD NOT), another 4xx/5xx refuses it with another status. Both warn.
	processed := warned(anyEnd(want(Status(404))), "404: the line was read and its target looked up as it came (SHOULD 400 or 301; SHOULD NOT process)")
	otherRefusal := warned(anyEnd(want(Range(400, 599))), "refused with another status (RFC 9112 §3.2 SHOULD names 400 or 301)")
	// invalidLine: an invalid request-line gets 400 (or a 301 to the encoded target); 2xx is
	// an autocorrection (SHOULD NOT). extra lists more acceptable outcomes.
	invalidLine := func(title, requirement, l string, extra ...Outcome) Case {
		os := append(rejected(), anyEnd(want(Status(301))))
		os = append(os, extra...)
		return rule(s9112InvalidRequestLine, title, requirement,
			send(line(l)), expect(append(os, processed, otherRefusal)...)).
			citing(s9112Invalid400, s9112NoAutocorrect)
	}
	// A method slot that holds no method the server implements is also an unrecognized
	// method: RFC 9110 §9.1's 501 answers it as well as §3.2's 400.
	notAMethod := anyEnd(want(Status(501)))
	// lenient: RFC 9112 §3 lets a recipient split the request line on any whitespace and
	// ignore whitespace before and after; a server that does is right to serve.
	lenient := noted(anyEnd(ok()), "2xx: request line split on whitespace (RFC 9112 §3 MAY)")
	whitespace := func(title, requirement, l string, extra ...Outcome) Case {
		return invalidLine(title, requirement, l, append([]Outcome{lenient}, extra...)...).citing(s9112WordBoundaries)
	}
	badVersion := func(v, why string) Case {
		return rule(s9112InvalidRequestLine, "invalid HTTP-version "+why,
			"HTTP-version is exactly \"HTTP/\" DIGIT \".\" DIGIT, case-sensitive; anything else makes the request line invalid: 400 (or 505).",
			send(line("GET / "+v)), expect(append([]Outcome{nonConformantVersion()}, append(rejected(400, 505), otherRefusal)...)...)).
			citing(s9112Invalid400, s9112NoAutocorrect, s9110VersionMustNot)
	}
	badTarget := func(t, why string) Case {
		return invalidLine("invalid request-target: "+why,
			"A request-target outside the URI grammar makes the request line invalid: 400 or a 301 to the encoded target, not a lookup (a 404 means the target was used as it came).",
			"GET "+t+" HTTP/1.1")
	}
	// unsupportedMajor: 505 or 400 refuses the version; serving it in HTTP/1.x is what RFC
	// 9110 §6.2's SHOULD asks (the highest version the server conforms to whose major is at
	// most the request's); labelling the answer with the request's version is the MUST NOT.
	unsupportedMajor := func(v string) Case {
		return rule(s9110VersionShould, "unsupported major version "+v+" gets 505",
			"A server answers "+v+" with 505 or 400, or serves it as HTTP/1.x; it never labels its response "+v+".",
			send(line("GET / "+v)),
			expect(append([]Outcome{nonConformantVersion()}, append(rejected(505, 400), anyEnd(ok(version1x())))...)...)).
			citing(s9110VersionMustNot)
	}
	higherMinor := func(v string, title string) Case {
		return rule(s9110HigherMinor, title,
			"A higher minor version of HTTP/1 is processed as the highest minor the server implements and answered in that version, never in "+v+".",
			send(line("GET / "+v)), expect(nonConformantVersion(), anyEnd(ok(version1x())))).
			citing(s9110VersionShould, s9110VersionMustNot)
	}
	return group("9112", "3",
		// methods
		rule(s9110UnknownMethod, "unknown method gets 501",
			"A syntactically valid method the server does not implement is answered 501 (or 405 with Allow).",
			send(req("FOO", "/")), expect(anyEnd(want(Status(501))), anyEnd(want(Status(405), hasHeader("Allow"))))),
		rule(s9110UnknownMethod, "methods are case-sensitive: \"get\" is not GET",
			"The method token is case-sensitive; \"get\" is an unknown method, not GET.",
			send(req("get", "/")), expect(anyEnd(want(Status(501))), anyEnd(want(Status(405))), anyEnd(want(Status(400))))).
			citing(s9110MethodCase),
		rule(s9110UnknownMethod, "extension method with a hyphen is a valid token",
			"\"M-SEARCH\" is a valid method token: the answer is 501 or 405, not a syntax error.",
			send(req("M-SEARCH", "/")), expect(anyEnd(want(Status(501))), anyEnd(want(Status(405))))),
		invalidLine("method with a separator character",
			"A method must be a token; \"GE(T\" is refused (400, or 501 as an unknown method).",
			"GE(T / HTTP/1.1", notAMethod),
		invalidLine("method with a NUL byte",
			"NUL inside the method is refused (400, or 501 as an unknown method).",
			"GE\x00T / HTTP/1.1", notAMethod),
		invalidLine("method with DEL",
			"DEL (0x7F) is not a token character: refused (400, or 501 as an unknown method).",
			"GET\x7f / HTTP/1.1", notAMethod),
		invalidLine("empty method",
			"A request line starting with SP has no method; even split on whitespace it has two words: refused.",
			" / HTTP/1.1", notAMethod),
		invalidLine("method glued to the target",
			"\"GET/\" is not a method followed by a target: refused (400, or 501 as an unknown method).",
			"GET/ HTTP/1.1", notAMethod),
		// separators
		whitespace("two spaces after the method",
			"Elements are separated by one SP; a server may split on any whitespace (MAY) or refuse the line.",
			"GET  / HTTP/1.1"),
		whitespace("two spaces before the version",
			"A double space before HTTP-version: split on whitespace (MAY) or refused; never served as target \"/ \".",
			"GET /  HTTP/1.1"),
		whitespace("HTAB as separator",
			"HTAB may be taken as the separator (MAY); otherwise the line is refused (\"GET\\t/\" is no method: 501 too).",
			"GET\t/ HTTP/1.1", notAMethod),
		whitespace("VT as separator",
			"Vertical tab may be taken as the separator (MAY); otherwise the line is refused.",
			"GET\x0b/ HTTP/1.1", notAMethod),
		whitespace("FF as separator",
			"Form feed may be taken as the separator (MAY); otherwise the line is refused.",
			"GET\x0c/ HTTP/1.1", notAMethod),
		whitespace("trailing space after the version",
			"Trailing whitespace may be ignored (MAY); otherwise the line is refused.",
			"GET / HTTP/1.1 "),
		whitespace("leading space before the method",
			"Leading whitespace may be ignored (MAY); otherwise the line is refused (an empty method: 501 too).",
			" GET / HTTP/1.1", notAMethod),
		// targets
		invalidLine("missing request-target",
			"\"GET HTTP/1.1\" has no target: refused.",
			"GET HTTP/1.1"),
		invalidLine("space inside the request-target",
			"A raw space in the target makes four words; answer 400 (or a 301 to the encoded target).",
			"GET /a b HTTP/1.1"),
		invalidLine("NUL inside the request-target",
			"A NUL byte in the target is refused, never passed to a file system or application.",
			"GET /a\x00b HTTP/1.1"),
		badTarget("/a\x01b", "control character 0x01"),
		badTarget("/a\x7fb", "DEL"),
		badTarget("/a\"b", "double quote"),
		badTarget("/a<b>", "angle brackets"),
		badTarget("/#frag", "fragment"),
		badTarget("a", "relative reference"),
		badTarget("/%zz", "bad percent-encoding"),
		badTarget("/a\\b", "backslash"),
		rule(s9112InvalidRequestLine, "asterisk-form with GET",
			"\"*\" is a request-target only for OPTIONS: GET * is refused (400, 404, 405 or 501).",
			send(line("GET * HTTP/1.1")), expect(refused(400, 404, 405, 501)...)),
		// A server conformant to HTTP/0.9 answers a simple request with a bare body, which
		// RFC 9110 §6.2's SHOULD asks for (the highest version with major 0 is 0.9).
		rule(s9112InvalidRequestLine, "HTTP/0.9 simple request",
			"A request line without a version is refused (400 or 505); a server that implements HTTP/0.9 may answer it with a bare body.",
			send("GET /\r\n\r\n"), expect(append([]Outcome{nonConformantVersion()}, append(rejected(400, 505), http09())...)...)).
			citing(s9110VersionShould, s9110VersionMustNot),
		// versions
		rule(s9110VersionShould, "HTTP/1.0 request is served",
			"An HTTP/1.0 request is valid and answered with an HTTP/1.x response.",
			send("GET / HTTP/1.0\r\n\r\n"), expect(append([]Outcome{nonConformantVersion()}, served(version1x())...)...)).
			citing(s9110VersionMustNot),
		higherMinor("HTTP/1.2", "higher minor version HTTP/1.2 is served as HTTP/1.1"),
		higherMinor("HTTP/1.9", "higher minor version HTTP/1.9 is served as HTTP/1.1"),
		unsupportedMajor("HTTP/2.0"),
		unsupportedMajor("HTTP/3.0"),
		// The highest version with major 0 is 0.9: a server that implements it may answer in
		// it (a bare body); one that does not refuses.
		rule(s9110VersionShould, "major version 0 gets 505",
			"HTTP/0.x is not HTTP/1: refused with 505 or 400 (or answered in HTTP/0.9 by a server that implements it), never labelled HTTP/0.9 in a status line.",
			send(line("GET / HTTP/0.9")), expect(append([]Outcome{nonConformantVersion()}, append(rejected(505, 400), http09())...)...)).
			citing(s9110VersionMustNot),
		badVersion("http/1.1", "(lowercase name)"),
		badVersion("HTTP/1", "(no minor)"),
		badVersion("HTTP/1.10", "(two-digit minor)"),
		badVersion("HTTP/01.1", "(two-digit major)"),
		badVersion("HTTP/1.1.1", "(three parts)"),
		badVersion("HTTP/1.a", "(letter minor)"),
		badVersion("HTTP/a.1", "(letter major)"),
		badVersion("HTTP /1.1", "(space before slash)"),
		badVersion("HTTP/1.1x", "(trailing garbage)"),
		badVersion("HTTPS/1.1", "(HTTPS name)"),
		badVersion("HTTP/11", "(no dot)"),
		badVersion("HTTP/1.\xb9", "(non-ASCII digit)"),
		// Appended (issue 12). A request-target is URI syntax (RFC 3986), which is ASCII: a
		// byte above 0x7F is allowed only percent-encoded, so a raw one makes the line invalid
		// (RFC 9112 §3.2's SHOULD: 400, or a 301 to the target properly encoded).
		badTarget("/caf\xc3\xa9", "raw UTF-8 bytes (not percent-encoded)"),
		badTarget("/a\xffb", "raw byte 0xFF"),
		// The HTTP/2 client connection preface (RFC 9113 §3.4) sent to an HTTP/1.1 server: to
		// HTTP/1.1 it is method PRI, the asterisk-form and HTTP/2.0, then "SM" and an empty
		// line. PRI is no method the server implements (RFC 9110 §9.1: 501), HTTP/2.0 a major
		// version it may refuse (505), "*" a target only OPTIONS takes (400, see 3/27); any of
		// them, or a close, is right. Serving it (2xx) misses those SHOULDs; labelling the
		// answer HTTP/2.0 is RFC 9110 §6.2's MUST NOT. A server that speaks HTTP/2 with prior
		// knowledge (lighttpd) answers with binary frames, which hold no line end, and waits
		// for the client's own SETTINGS frame: to the runner that is "no status line,
		// connection open", recorded as info. A silent server looks the same on the wire and
		// is recorded too (no status line is read, so none can be judged); a bare body
		// without a status line is not HTTP/1.x (§6.2's SHOULD) and is not listed.
		rule(s9110UnknownMethod, "HTTP/2 connection preface (PRI * HTTP/2.0)",
			"The HTTP/2 preface is refused by an HTTP/1.1 server (400, 405, 501 or 505, or a close), or answered in HTTP/2 by one that speaks it; never served, never answered in a status line labelled HTTP/2.0.",
			send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
			expect(append([]Outcome{nonConformantVersion()},
				anyEnd(want(Status(400))), anyEnd(want(Status(405))), anyEnd(want(Status(501))), anyEnd(want(Status(505))), closed(),
				noted(open(), "no status line, connection open: HTTP/2 frames from a server that speaks HTTP/2 with prior knowledge (waiting for the client's SETTINGS), or silence"))...)).
			citing(s9110VersionShould, s9110VersionMustNot, s9112InvalidRequestLine),
	)
}
