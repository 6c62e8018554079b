package spec

import "fmt"

// RFC 9112 §5 (field line syntax: no whitespace before the colon, obs-fold) and RFC 9110 §5.1,
// §5.5, §5.6.2 (field names are tokens; values exclude CR, LF, NUL and most controls).
func rfc9112Fields() []Case {
	withField := func(f string) string { return raw("GET / HTTP/1.1", "Host: forkproof.test", f) }
	var cases []Case
	// Every separator and control that a field name (a token) cannot hold.
	for _, c := range []byte{'(', ')', ',', '/', ';', '<', '=', '>', '?', '@', '[', '\\', ']', '{', '}', '"', ' ', '\t', 0x00, 0x01, 0x1f, 0x7f, 0x80, 0xff} {
		level := SHOULD
		if c < 0x20 || c == 0x7f || c == ' ' || c == '\t' {
			level = MUST // controls and whitespace inside names are smuggling material
		}
		cases = append(cases, tc(level, "field name containing "+printable(c),
			"A field name is a token; a line whose name holds "+printable(c)+" is rejected.",
			send(withField(fmt.Sprintf("X-Bad%cName: 1", c))), expect(rejected()...)))
	}
	cases = append(cases,
		tc(MUST, "field line without a colon",
			"A line that is neither a field nor the empty line is rejected.",
			send(withField("X-No-Colon")), expect(rejected()...)),
		tc(MUST, "field line with an empty name",
			"\": value\" has no field name.",
			send(withField(": value")), expect(rejected()...)),
		tc(MUST, "space between field name and colon",
			"Whitespace between a field name and the colon is answered 400.",
			send(withField("X-Foo : bar")), expect(must400()...)),
		tc(MUST, "tab between field name and colon",
			"HTAB before the colon is whitespace too: 400.",
			send(withField("X-Foo\t: bar")), expect(must400()...)),
		tc(MUST, "space before the colon of Content-Length",
			"\"Content-Length :\" is refused, not read as another field nor as Content-Length.",
			send(withField("Content-Length : 5")+"hello"), expect(must400()...)),
		tc(MUST, "space before the colon of Transfer-Encoding",
			"\"Transfer-Encoding :\" is refused: one parser would see chunked, another nothing.",
			send(withField("Transfer-Encoding : chunked")+"0\r\n\r\n"), expect(must400()...)),
		tc(MUST, "space before the colon of Host",
			"\"Host :\" is refused with 400.",
			send(raw("GET / HTTP/1.1", "Host : forkproof.test")), expect(must400()...)),
		tc(MUST, "obs-fold continuation line",
			"A folded field value is rejected with 400, or unfolded into SP (legal, but unsafe when other parsers disagree).",
			send(withField("X-Folded: a\r\n b")), expect(anyEnd(want(Status(400))), warned(closed(), "close without the required 400"), warned(anyEnd(ok()), "2xx: obs-fold accepted"))),
		tc(MUST, "obs-fold with a tab",
			"A continuation line starting with HTAB is obs-fold too.",
			send(withField("X-Folded: a\r\n\tb")), expect(anyEnd(want(Status(400))), warned(closed(), "close without the required 400"), warned(anyEnd(ok()), "2xx: obs-fold accepted"))),
		tc(MUST, "obs-fold in Host",
			"A folded Host is rejected or unfolded, never half-read.",
			send(raw("GET / HTTP/1.1", "Host: forkproof.test", " .evil")), expect(must400()...)),
		tc(MUST, "obs-fold in Content-Length",
			"A folded Content-Length is rejected: framing must not depend on unfolding.",
			send(raw("GET / HTTP/1.1", "Host: forkproof.test", "Content-Length:", " 5")+"hello"),
			expect(anyEnd(want(Status(400))), warned(closed(), "close without the required 400"), warned(anyEnd(ok()), "2xx: folded Content-Length accepted"))),
		tc(MUST, "obs-fold is replaced by SP when accepted",
			"A server that accepts obs-fold hands on the value with SP in place of the fold.",
			send(raw("GET /reflect HTTP/1.1", "Host: forkproof.test", "X-Folded: a", " b")),
			expect(anyEnd(want(Status(400))), closed(), anyEnd(ok(reflectsField("X-Folded", "a b"))))).needing(NeedReflect),
		tc(MUST, "NUL in a field value",
			"A NUL in a value is rejected, or replaced by SP before use (recorded).",
			send(withField("X-Nul: a\x00b")), expect(append(rejected(), noted(anyEnd(ok()), "2xx: NUL replaced by SP (legal)"))...)),
		tc(MUST, "NUL in a field value is never passed on",
			"If accepted, the value the application sees has SP where the NUL was.",
			send(raw("GET /reflect HTTP/1.1", "Host: forkproof.test", "X-Nul: a\x00b")),
			expect(append(rejected(), anyEnd(ok(reflectsField("X-Nul", "a b"))))...)).needing(NeedReflect),
		tc(MUST, "NUL in the Host value",
			"A NUL in Host is answered 400.",
			send(raw("GET / HTTP/1.1", "Host: forkproof\x00.test")), expect(anyEnd(want(Status(400))), closed())),
		tc(MUST, "NUL in a Content-Length value",
			"Content-Length \"5\\x00\" is not a number: 400 and close.",
			send(withField("Content-Length: 5\x00")+"hello"), expect(badFraming()...)),
	)
	for _, c := range []byte{0x01, 0x08, 0x0b, 0x0c, 0x1b, 0x1f, 0x7f} {
		cases = append(cases, tc(MUST, "control character "+printable(c)+" in a field value",
			"Controls other than HTAB are invalid in values; rejecting is right, keeping them in an unknown field is tolerated (recorded).",
			send(withField(fmt.Sprintf("X-Ctl: a%cb", c))),
			expect(append(rejected(), noted(anyEnd(ok()), "2xx: control kept (tolerated)"))...)))
	}
	cases = append(cases,
		tc(MUST, "empty field value",
			"\"X-Empty:\" is a valid field with an empty value.",
			send(withField("X-Empty:")), expect(served()...)),
		tc(MUST, "field value of only whitespace",
			"Whitespace around a value is optional whitespace; the value is empty.",
			send(withField("X-Blank:  \t ")), expect(served()...)),
		tc(MUST, "HTAB inside a field value",
			"HTAB is allowed inside a value.",
			send(withField("X-Tab: a\tb")), expect(served()...)),
		tc(SHOULD, "obs-text (0x80-0xFF) in a field value",
			"Bytes 0x80-0xFF are field-vchar (obs-text): the request is valid.",
			send(withField("X-Latin: caf\xe9 \xff")), expect(served()...)),
		tc(MUST, "field name made of every token character",
			"!#$%&'*+-.^_`|~ digits and letters all belong in a token.",
			send(withField("X!#$%&'*+-.^_`|~09AZaz: 1")), expect(served()...)),
		tc(MUST, "field names are case-insensitive",
			"\"content-length\" in lowercase still frames the body: the next request is read correctly.",
			send(raw("GET / HTTP/1.1", "Host: forkproof.test", "content-length: 5")+"hello"+get("/")), expect(anyEnd(oks(2)...))),
		tc(MUST, "no whitespace after the colon",
			"\"X-A:b\" is a valid field line: the whitespace after the colon is optional.",
			send(raw("GET / HTTP/1.1", "Host:forkproof.test", "X-A:b")), expect(served()...)),
		tc(MUST, "leading and trailing whitespace is not part of the value",
			"The server strips optional whitespace around a value.",
			send(raw("GET /reflect HTTP/1.1", "Host: forkproof.test", "X-Ows: \t value \t")),
			expect(anyEnd(ok(reflectsField("X-Ows", "value"))))).needing(NeedReflect),
		tc(MUST, "field order and repeated names are kept",
			"Repeated field lines reach the application in the order received.",
			send(raw("GET /reflect HTTP/1.1", "Host: forkproof.test", "X-Rep: 1", "X-Other: x", "X-Rep: 2")),
			expect(anyEnd(ok(reflectsField("X-Rep", "1", "2"))))).needing(NeedReflect),
		tc(MUST, "value with a colon inside",
			"Only the first colon separates name from value.",
			send(raw("GET /reflect HTTP/1.1", "Host: forkproof.test", "X-Url: http://a:1/")),
			expect(anyEnd(ok(reflectsField("X-Url", "http://a:1/"))))).needing(NeedReflect),
		tc(MUST, "50 small fields are accepted",
			"A request with 50 ordinary fields is within any reasonable limit.",
			send(manyFields(50)), expect(served()...)),
	)
	return group("9112", "5", cases...)
}

func manyFields(n int) string {
	fs := make([]string, n)
	for i := range fs {
		fs[i] = fmt.Sprintf("X-F%d: %d", i, i)
	}
	return raw("GET / HTTP/1.1", append([]string{"Host: forkproof.test"}, fs...)...)
}
