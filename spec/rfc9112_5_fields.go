package spec

import (
	"fmt"
	"strings"
)

// RFC 9112 §5 (field line syntax: no whitespace before the colon, obs-fold) and RFC 9110 §5.1,
// §5.5, §5.6.2 (field names are tokens; values exclude CR, LF, NUL and most controls).
func rfc9112Fields() []Case {
	withField := func(f string) string { return raw("GET / HTTP/1.1", "Host: forkproof.test", f) }
	// postField: a POST with one extra field line and a body. Cases that judge where a body
	// ends ride on POST, never on GET (RFC 9110 §9.3.1); cases that only expect a refusal
	// keep GET, so a server that does not implement POST is not refused for the method.
	postField := func(f, body string) string {
		return raw("POST / HTTP/1.1", "Host: forkproof.test", f) + body
	}
	// anyStatus is the response to POST / on a server without /echo: its status is not
	// judged, only that it is one response whose end is known.
	anyStatus := want(Range(200, 599))
	// refused: 400 then close as RFC 9112 §2.2 asks, a close without a response, or another
	// 4xx/5xx (a refusal, but not with the status the SHOULD names: warn).
	refused := func(more ...Outcome) []Outcome {
		return append(append(rejected(), warned(anyEnd(want(Range(400, 599))), "refused with another status (RFC 9112 §2.2 SHOULD names 400)")), more...)
	}
	syntax := func(title, requirement string, steps ...Step) Case {
		return rule(s9112Invalid400, title, requirement, steps...)
	}
	wsColon := func(title, requirement string, steps ...Step) Case {
		return rule(s9112WSBeforeColon, title, requirement, steps...).needing(NeedHTTP11)
	}
	var cases []Case
	// Every separator and control that a field name (a token) cannot hold. Whitespace inside
	// the name is whitespace between the name before it and the colon (RFC 9112 §5.1, MUST
	// 400); the other bytes only break the grammar (RFC 9112 §2.2, SHOULD 400).
	for _, c := range []byte{'(', ')', ',', '/', ';', '<', '=', '>', '?', '@', '[', '\\', ']', '{', '}', '"', ' ', '\t', 0x00, 0x01, 0x1f, 0x7f, 0x80, 0xff} {
		title := "field name containing " + printable(c)
		f := "X-Bad" + string([]byte{c}) + "Name: 1" // the byte itself, not its UTF-8 encoding
		if c == ' ' || c == '\t' {
			cases = append(cases, wsColon(title,
				"\"X-Bad"+printable(c)+"Name:\" has whitespace between the field name X-Bad and the colon: 400.",
				send(withField(f)), expect(must400()...)))
			continue
		}
		cases = append(cases, syntax(title,
			"A field name is a token; a line whose name holds "+printable(c)+" is outside the grammar: 400 and close.",
			send(withField(f)), expect(refused()...)).citing(s9110ParseGrammar))
	}
	cases = append(cases,
		syntax("field line without a colon",
			"A line that is neither a field nor the empty line is outside the grammar: 400 and close.",
			send(withField("X-No-Colon")), expect(refused()...)),
		syntax("field line with an empty name",
			"\": value\" has no field name: 400 and close.",
			send(withField(": value")), expect(refused()...)),
		wsColon("space between field name and colon",
			"Whitespace between a field name and the colon is answered 400.",
			send(withField("X-Foo : bar")), expect(must400()...)),
		wsColon("tab between field name and colon",
			"HTAB before the colon is whitespace too: 400.",
			send(withField("X-Foo\t: bar")), expect(must400()...)),
		wsColon("space before the colon of Content-Length",
			"\"Content-Length :\" is refused, not read as another field nor as Content-Length.",
			send(withField("Content-Length : 5")+"hello"), expect(must400()...)),
		wsColon("space before the colon of Transfer-Encoding",
			"\"Transfer-Encoding :\" is refused: one parser would see chunked, another nothing.",
			send(withField("Transfer-Encoding : chunked")+"0\r\n\r\n"), expect(must400()...)),
		wsColon("space before the colon of Host",
			"\"Host :\" is refused with 400.",
			send(raw("GET / HTTP/1.1", "Host : forkproof.test")), expect(must400()...)),
		// Replacing the fold with SP is one of the two things the MUST allows.
		rule(s9112ObsFold, "obs-fold continuation line",
			"A folded field value is rejected with 400, or unfolded into SP before use (both legal).",
			send(withField("X-Folded: a\r\n b")),
			expect(anyEnd(want(Status(400))), noted(anyEnd(ok()), "2xx: obs-fold replaced by SP (legal)"), warned(closed(), "close without the required 400"))),
		rule(s9112ObsFold, "obs-fold with a tab",
			"A continuation line starting with HTAB is obs-fold too: 400, or unfolded into SP.",
			send(withField("X-Folded: a\r\n\tb")),
			expect(anyEnd(want(Status(400))), noted(anyEnd(ok()), "2xx: obs-fold replaced by SP (legal)"), warned(closed(), "close without the required 400"))),
		// Unfolded, the Host is "forkproof.test .evil": invalid, so 400 either way.
		rule(s9112Host400, "obs-fold in Host",
			"A folded Host is rejected, or unfolded into \"forkproof.test .evil\", an invalid Host: 400 either way.",
			send(raw("GET / HTTP/1.1", "Host: forkproof.test", " .evil")), expect(must400()...)).
			citing(s9112ObsFold).needing(NeedHTTP11),
		// Unfolded, "Content-Length:  5" frames five bytes and the GET after them is the
		// second request; not unfolded, "hello" starts a request of its own.
		rule(s9112ObsFold, "obs-fold in Content-Length",
			"A folded Content-Length is rejected with 400, or unfolded to 5: then the body is 5 bytes and the pipelined GET is served.",
			send(postField("Content-Length:\r\n 5", "hello")+get("/")),
			expectM([]string{"POST", "GET"}, anyEnd(want(Status(400))), warned(closed(), "close without the required 400"),
				noted(anyEnd(anyStatus, ok()), "folded Content-Length replaced by SP and read as 5 (legal)"))).
			needing(NeedPostRoot),
		rule(s9112ObsFold, "obs-fold is replaced by SP when accepted",
			"A server that accepts obs-fold hands on the value with SP (one or more) in place of the fold.",
			send(raw("GET /reflect HTTP/1.1", "Host: forkproof.test", "X-Folded: a", " b")),
			expect(anyEnd(want(Status(400))), closed(), anyEnd(ok(reflectsUnfolded("X-Folded", "a", "b"))))).needing(NeedReflect),
		rule(s9110CRLFNULInValue, "NUL in a field value",
			"A NUL in a value is rejected, or replaced by SP before use (case 38 checks the replacement where /reflect exists).",
			send(withField("X-Nul: a\x00b")),
			expect(refused(noted(anyEnd(ok()), "2xx: accepted (legal if the NUL became SP; case 38 checks that with /reflect)"))...)),
		rule(s9110CRLFNULInValue, "NUL in a field value is never passed on",
			"If accepted, the value the application sees has SP where the NUL was.",
			send(raw("GET /reflect HTTP/1.1", "Host: forkproof.test", "X-Nul: a\x00b")),
			expect(refused(anyEnd(ok(reflectsField("X-Nul", "a b"))))...)).needing(NeedReflect),
		// Rejected, or replaced by SP: "forkproof .test" is no valid Host. 400 either way.
		rule(s9112Host400, "NUL in the Host value",
			"A NUL in Host is answered 400: with the NUL replaced by SP the Host is still invalid.",
			send(raw("GET / HTTP/1.1", "Host: forkproof\x00.test")), expect(must400()...)).
			citing(s9110CRLFNULInValue).needing(NeedHTTP11),
		// Kept, the NUL makes the value invalid: 400 and close (RFC 9112 §6.3). Replaced by SP
		// (RFC 9110 §5.5 allows it), "5 " loses its trailing whitespace like any value (RFC 9112
		// §5.1) and frames a 5-byte body: the request after it is then served. POST carries it
		// (RFC 9110 §9.3.1: never a body on GET).
		rule(s9112InvalidCL, "NUL in a Content-Length value",
			"Content-Length \"5\\x00\" is invalid (400 and close), or, the NUL replaced by SP, a Content-Length of 5 whose body is read before the next request.",
			send(raw("POST / HTTP/1.1", "Host: forkproof.test", "Content-Length: 5\x00")+"hello"+nextRequest),
			expect(append(badFraming(), noted(anyEnd(anyStatus, ok()), "NUL replaced by SP: a 5-byte body, then the next request served"))...)).
			citing(s9110CRLFNULInValue, s9112OWSExcluded).needing(NeedHTTP11, NeedPostRoot),
	)
	for _, c := range []byte{0x01, 0x08, 0x0b, 0x0c, 0x1b, 0x1f, 0x7f} {
		cases = append(cases, rule(s9112Invalid400, "control character "+printable(c)+" in a field value",
			"Controls other than HTAB are invalid in values; rejecting is right, keeping them in an unknown field is allowed (recorded).",
			send(withField("X-Ctl: a"+string([]byte{c})+"b")),
			expect(refused(noted(anyEnd(ok()), "2xx: control kept (RFC 9110 §5.5 MAY)"))...)).
			citing(s9110OtherCTL))
	}
	valid := func(title, requirement string, steps ...Step) Case {
		return rule(s9110ParseGrammar, title, requirement, steps...)
	}
	cases = append(cases,
		valid("empty field value",
			"\"X-Empty:\" is a valid field with an empty value.",
			send(withField("X-Empty:")), expect(parsedValid()...)),
		valid("field value of only whitespace",
			"Whitespace around a value is optional whitespace; the value is empty.",
			send(withField("X-Blank:  \t ")), expect(parsedValid()...)),
		valid("HTAB inside a field value",
			"HTAB is allowed inside a value.",
			send(withField("X-Tab: a\tb")), expect(parsedValid()...)),
		valid("obs-text (0x80-0xFF) in a field value",
			"Bytes 0x80-0xFF are field-vchar (obs-text): the request is valid.",
			send(withField("X-Latin: caf\xe9 \xff")), expect(parsedValid()...)),
		valid("field name made of every token character",
			"!#$%&'*+-.^_`|~ digits and letters all belong in a token.",
			send(withField("X!#$%&'*+-.^_`|~09AZaz: 1")), expect(parsedValid()...)),
		// On POST: "content-length: 5" frames the body, and the pipelined GET after it is
		// served. A server that missed the lowercase name reads "helloGET / …" as a request.
		valid("field names are case-insensitive",
			"\"content-length\" in lowercase still frames the body: the next request is read correctly.",
			send(postField("content-length: 5", "hello")+get("/")),
			expectM([]string{"POST", "GET"}, anyEnd(anyStatus, ok()))).needing(NeedPostRoot),
		valid("no whitespace after the colon",
			"\"X-A:b\" is a valid field line: the whitespace after the colon is optional.",
			send(raw("GET / HTTP/1.1", "Host:forkproof.test", "X-A:b")), expect(parsedValid()...)),
		valid("leading and trailing whitespace is not part of the value",
			"The server strips optional whitespace around a value.",
			send(raw("GET /reflect HTTP/1.1", "Host: forkproof.test", "X-Ows: \t value \t")),
			expect(anyEnd(ok(reflectsField("X-Ows", "value"))))).needing(NeedReflect),
		valid("field order and repeated names are kept",
			"Repeated field lines reach the application in the order received.",
			send(raw("GET /reflect HTTP/1.1", "Host: forkproof.test", "X-Rep: 1", "X-Other: x", "X-Rep: 2")),
			expect(anyEnd(ok(reflectsField("X-Rep", "1", "2"))))).needing(NeedReflect),
		valid("value with a colon inside",
			"Only the first colon separates name from value.",
			send(raw("GET /reflect HTTP/1.1", "Host: forkproof.test", "X-Url: http://a:1/")),
			expect(anyEnd(ok(reflectsField("X-Url", "http://a:1/"))))).needing(NeedReflect),
		// 431 (or another 4xx) for a field section larger than the server wishes to process
		// is RFC 9110 §5.4's right.
		valid("50 small fields are accepted",
			"A request with 50 ordinary fields is within any reasonable limit (a 4xx such as 431 is a stated limit, recorded).",
			send(manyFields(50)), expect(parsedValid()...)).citing(s9110FieldTooLarge),
		// Appended (issue 12). As for Content-Length (case 35): unfolded, "Transfer-Encoding:
		// chunked" frames the body and the GET after it is served; rejected, a 400. A server
		// that drops the continuation line has no framing field, reads no body, and takes the
		// chunked body for a request of its own: neither of the two things the MUST allows.
		rule(s9112ObsFold, "obs-fold in Transfer-Encoding",
			"A folded Transfer-Encoding is rejected with 400, or unfolded to chunked: then the chunked body is read and the pipelined GET is served.",
			send(postField("Transfer-Encoding:\r\n chunked", "5\r\nhello\r\n0\r\n\r\n")+get("/")),
			expectM([]string{"POST", "GET"}, anyEnd(want(Status(400))), warned(closed(), "close without the required 400"),
				noted(anyEnd(anyStatus, ok()), "folded Transfer-Encoding replaced by SP and read as chunked (legal)"))).
			needing(NeedPostRoot),
	)
	return group("9112", "5", cases...)
}

// reflectsUnfolded: the server saw name with the value before and after an obs-fold joined by
// one or more SP (RFC 9112 §5.2 allows more than one).
func reflectsUnfolded(name, before, after string) check {
	return reflects(fmt.Sprintf("server saw %s: %q SP… %q", name, before, after), func(x *reflected) error {
		got := x.get(name)
		if len(got) == 1 {
			v := got[0]
			mid, ok := strings.CutPrefix(v, before)
			if ok {
				mid, ok = strings.CutSuffix(mid, after)
			}
			if ok && len(mid) > 0 && strings.Trim(mid, " ") == "" {
				return nil
			}
		}
		return fmt.Errorf("server saw %s = %q; want %q, one or more SP, %q", name, got, before, after)
	})
}

func manyFields(n int) string {
	fs := make([]string, n)
	for i := range fs {
		fs[i] = fmt.Sprintf("X-F%d: %d", i, i)
	}
	return raw("GET / HTTP/1.1", append([]string{"Host: forkproof.test"}, fs...)...)
}
