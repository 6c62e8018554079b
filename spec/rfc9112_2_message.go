package spec

import "time"

// Sentences of RFC 9112 §2 and RFC 9110 §2.2 that the sentence table does not hold.
var (
	s9112Octets = r9112("2.2", MUST,
		"A recipient MUST parse an HTTP message as a sequence of octets in an encoding that is a superset of US-ASCII [USASCII].")
	// Refusing a valid request: RFC 7230 §2.5 had "the recipient MUST be able to parse any value
	// of reasonable length … that matches the grammar", but RFC 9110 dropped that sentence. What
	// remains is §2.3's SHOULD, so a server that refuses a valid element is warned, not failed.
	s9110ParseGrammar = r9110("2.3", SHOULD,
		"A recipient SHOULD parse a received protocol element defensively, with only marginal expectations that the element will conform to its ABNF grammar and fit within a reasonable buffer size.")
)

// RFC 9112 §2.1 (a message is a byte stream: segmentation means nothing) and §2.2 (parsing:
// line terminators, leading empty lines, bare CR, whitespace before the first field).
func rfc9112Message() []Case {
	simple := get("/")
	// Host after 1.5 KiB of padding: a server that answers after one 1024-byte read has not
	// seen it yet.
	long := raw("GET / HTTP/1.1", "X-Padding: "+repeat("p", 1500), "Host: forkproof.test")
	pause := 30 * time.Millisecond
	// stream: a request is a sequence of octets; where TCP cuts it carries no meaning.
	stream := func(title, requirement string, steps ...Step) Case {
		return rule(s9112Octets, title, requirement, steps...)
	}
	// lenientLF: a bare LF taken as a line end is RFC 9112 §2.2's MAY; refusing it is the
	// §2.2 SHOULD for a message outside the grammar. Both pass.
	lenientLF := noted(anyEnd(ok()), "2xx: bare LF taken as a line end (RFC 9112 §2.2 MAY)")
	// refused lists the refusals of an invalid element: 400 (then close) as RFC 9112 §2.2
	// asks, a close without a response, or another 4xx/5xx, which refuses the element as the
	// sentences require but not with the status the SHOULD names (warn).
	refused := func(more ...Outcome) []Outcome {
		return append(append(rejected(), warned(anyEnd(want(Range(400, 599))), "refused with another status (RFC 9112 §2.2 SHOULD names 400)")), more...)
	}

	streamCases := group("9112", "2.1",
		stream("request split inside the request line",
			"A request delivered in two TCP segments, the cut inside the request line, is one request.",
			sendSplit(simple, pause, 7), expect(served()...)),
		stream("request split between the request line and the fields",
			"The server keeps reading until the header section ends, however the bytes arrive.",
			sendSplit(simple, pause, len("GET / HTTP/1.1\r\n")), expect(served()...)),
		stream("request split between CR and LF",
			"A CR at the end of what has arrived is not a bare CR: the server waits for its LF.",
			sendSplit(simple, pause, len("GET / HTTP/1.1\r")), expect(served()...)),
		stream("request split before the final CRLF",
			"The empty line that ends the header section may arrive alone.",
			sendSplit(simple, pause, len(simple)-2), expect(served()...)),
		stream("request split between the two bytes of the final CRLF",
			"The server does not answer before the header section is complete.",
			sendSplit(simple, pause, len(simple)-1), expect(served()...)),
		stream("request delivered one byte per write",
			"A request trickled byte by byte, 5 ms apart, is still one request.",
			sendEvery(simple, 1, 5*time.Millisecond), expect(served()...)),
		stream("request larger than one 1024-byte read",
			"A header section of 1.5 KiB in one write is read completely before answering.",
			send(long), expect(served()...)),
		stream("large request delivered in 500-byte writes with pauses",
			"A 1.5 KiB header section delivered in small pieces is read completely.",
			sendEvery(long, 500, 10*time.Millisecond), expect(served()...)),
		stream("server waits for the rest of an incomplete header section",
			"Until the empty line arrives the request is incomplete: the server neither answers nor closes.",
			send("GET / HTTP/1.1\r\n"+host), expect(waits()...),
			send("\r\n"), expect(served()...)),
		stream("server waits for the rest of an incomplete request line",
			"A partial request line is not a request: the server keeps waiting.",
			send("GET / HT"), expect(waits()...),
			send("TP/1.1\r\n"+host+"\r\n"), expect(served()...)),
		stream("server waits for the rest of a field line",
			"A field line cut in its name is completed by the next segment.",
			send("GET / HTTP/1.1\r\nHo"), expect(waits()...),
			send("st: forkproof.test\r\n\r\n"), expect(served()...)),
		stream("server waits after a request line whose CRLF is incomplete",
			"A trailing CR is completed by the LF in the next segment.",
			send("GET / HTTP/1.1\r"), expect(waits()...),
			send("\n"+host+"\r\n"), expect(served()...)),
	)

	parse := group("9112", "2.2",
		rule(s9112LeadingCRLF, "one empty line before the request line is ignored",
			"A server expecting a request line ignores at least one CRLF received before it.",
			send("\r\n"+simple), expect(served()...)),
		// "At least one": a server that ignores exactly one CRLF and refuses the second is
		// right; only case 1 (and 4) can find a server that ignores none.
		rule(s9112LeadingCRLF, "three empty lines before the request line are ignored",
			"Stray CRLFs before a request are skipped; ignoring only the first and refusing the rest is also right (at least one is asked).",
			send("\r\n\r\n\r\n"+simple),
			expect(append(served(), noted(closed(want(Class(4))), "4xx then close: fewer than three empty lines ignored (at least one is asked; case 1 judges that)"),
				noted(closed(), "close without a response: fewer than three empty lines ignored (case 1 judges the one the RFC asks)"),
				noted(open(want(Class(4))), "4xx: fewer than three empty lines ignored (case 1 judges the one the RFC asks)"))...)),
		rule(s9112LeadingCRLF, "empty line between pipelined requests is ignored",
			"A CRLF after a complete request (some clients add one after a body) is skipped before the next request line.",
			send(simple+"\r\n"+simple), expect(anyEnd(oks(2)...))),
		rule(s9112LeadingCRLF, "empty line arriving alone before the request",
			"A CRLF in its own segment, then the request, is served.",
			sendSplit("\r\n"+simple, 30*time.Millisecond, 2), expect(served()...)),
		// RFC 9112 §3 lets a recipient take a bare CR in the request line as whitespace, so
		// "GET /\r HTTP/1.1" may be read as "GET / HTTP/1.1". Serving "/\r" as a target is
		// neither reading the CR as invalid nor as SP: a 404 is a miss here, not a refusal.
		rule(s9112BareCR, "bare CR inside the request line",
			"A CR not followed by LF is invalid, or replaced by SP (then whitespace between words): the target is never \"/\\r\".",
			send("GET /\r HTTP/1.1\r\n"+host+"\r\n"),
			expect(append(rejected(), noted(anyEnd(ok()), "2xx: bare CR taken as whitespace (RFC 9112 §2.2 and §3 allow it)"),
				warned(anyEnd(want(Range(400, 403))), "refused with another status (RFC 9112 §2.2 SHOULD names 400)"),
				warned(anyEnd(want(Range(405, 599))), "refused with another status (RFC 9112 §2.2 SHOULD names 400)"))...)).
			citing(s9112WordBoundaries),
		// The Host line follows the bare CR: read as invalid, the line is refused; replaced by
		// SP, the request line has five words and the request no Host (400 either way). Only a
		// server that takes the CR as a line end finds a Host to serve.
		rule(s9112BareCR, "bare CR ending the request line",
			"A request line ended by CR alone is not a line: the Host behind the CR is not a field, so the request is refused.",
			send("GET / HTTP/1.1\r"+host+"\r\n"), expect(refused()...)).
			citing(s9112Host400, s9112InvalidRequestLine).needing(NeedHTTP11),
		rule(s9112Invalid400, "bare CR inside a field name",
			"A CR inside a field name makes the line invalid (replaced by SP, the name holds whitespace): refuse with 400.",
			send(raw("GET / HTTP/1.1", "Host: forkproof.test", "X-A\rB: 1")), expect(refused()...)).
			citing(s9112BareCR),
		// As for the request line: the only Host is behind the bare CR. Replaced by SP, it is
		// part of X-A's value and the request has no Host (400); read as invalid, the line is
		// refused. A 2xx means the CR ended the line.
		rule(s9112BareCR, "bare CR ending a field line",
			"A field line terminated by CR alone is invalid or has the CR replaced by SP: the Host behind it is never a field of its own, so the request is refused.",
			send("GET / HTTP/1.1\r\nX-A: 1\r"+host+"\r\n"), expect(refused()...)).
			citing(s9112Host400).needing(NeedHTTP11),
		rule(s9112BareCR, "bare CR inside a field value",
			"A bare CR in a value is invalid: reject, or replace it with SP before use (case 10 checks the replacement where /reflect exists).",
			send(raw("GET / HTTP/1.1", "Host: forkproof.test", "X-A: a\rb")),
			expect(refused(noted(anyEnd(ok()), "2xx: accepted (legal if the CR became SP; case 10 checks that with /reflect)"))...)),
		rule(s9112BareCR, "bare CR in a field value is never passed on",
			"If the server accepts a value with a bare CR, what it hands on has SP in its place.",
			send(raw("GET /reflect HTTP/1.1", "Host: forkproof.test", "X-A: a\rb")),
			expect(refused(anyEnd(ok(reflectsField("X-A", "a b"))))...)).needing(NeedReflect),
		// CR CR LF: the first CR is bare. Replaced by SP, the line is " " (whitespace, not the
		// empty line): the header section goes on, so the server waits.
		rule(s9112BareCR, "bare CR before the empty line",
			"CR CR LF does not end the header section: reject, or (having replaced the CR by SP) keep waiting for the real end.",
			send("GET / HTTP/1.1\r\n"+host+"\r\r\n"), expect(refused(waits()...)...)),
		rule(s9112Invalid400, "bare LF ending the request line",
			"LF alone may be taken as a line end (MAY); a server that does not take it refuses the line (SHOULD 400).",
			send("GET / HTTP/1.1\n"+host+"\r\n"), expect(refused(lenientLF)...)).
			citing(s9112BareLF),
		// Read strictly, "Host: forkproof.test\n" is a field whose value holds a LF (replaced
		// by SP, RFC 9110 §5.5) and the header section has not ended: waiting is right.
		rule(s9112Invalid400, "bare LF ending a field line",
			"A field line ended by LF alone: taken as a line end (MAY), refused, or read strictly as a line still open (the server waits).",
			send("GET / HTTP/1.1\r\n"+host[:len(host)-2]+"\n\r\n"), expect(refused(lenientLF, open())...)).
			citing(s9112BareLF, s9110CRLFNULInValue),
		rule(s9112Invalid400, "bare LF as the empty line",
			"CRLF LF is not the CRLF CRLF that ends a header section: taken as the end (MAY), refused, or waited past.",
			send("GET / HTTP/1.1\r\n"+host+"\n"), expect(refused(lenientLF, open())...)).
			citing(s9112BareLF),
		// With no CRLF at all, a strict server has not even received a request line.
		rule(s9112Invalid400, "every line ended by bare LF",
			"A request using LF alone throughout: accepted (MAY), refused, or waited on by a server that reads CRLF only.",
			send("GET / HTTP/1.1\nHost: forkproof.test\n\n"), expect(refused(lenientLF, open())...)).
			citing(s9112BareLF),
		// Two legal readings: the LF ends the line (MAY) and "b" is a line without a colon
		// (SHOULD 400), or the LF is inside the value and becomes SP (RFC 9110 §5.5). A 2xx
		// cannot tell them apart; case 19 can, with /reflect.
		rule(s9112Invalid400, "bare LF inside a field value",
			"A LF in the middle of a value either ends the line (then \"b\" is a line without a colon: refuse) or is replaced by SP.",
			send("GET / HTTP/1.1\r\n"+host+"X-A: a\nb\r\n\r\n"),
			expect(refused(noted(anyEnd(ok()), "2xx: accepted (legal if the LF became SP; case 19 checks that with /reflect)"))...)).
			citing(s9112BareLF, s9110CRLFNULInValue),
		// Ignored, the whitespace-led line leaves the request without Host: 400 either way.
		rule(s9112WSBeforeFirstField, "whitespace before the first field line",
			"A line starting with whitespace right after the request line is rejected or ignored; it cannot be the Host, so the request lacks one (400).",
			send("GET / HTTP/1.1\r\n Host: forkproof.test\r\n\r\n"), expect(must400()...)).
			citing(s9112Host400).needing(NeedHTTP11),
		rule(s9112WSBeforeFirstField, "whitespace-led line after the request line is never a field",
			"A server that ignores the whitespace-led line must not see it as a field.",
			send("GET /reflect HTTP/1.1\r\n X-Ghost: 1\r\n"+host+"\r\n"),
			expect(refused(anyEnd(ok(reflectsField("X-Ghost"))))...)).needing(NeedReflect),
		// Appended (issue 9): what a server hands on from a value with a bare LF.
		rule(s9110CRLFNULInValue, "bare LF in a field value is never passed on",
			"Accepted, the value reaches the application with SP for the LF, or (LF taken as a line end) as \"a\" alone; never with the LF.",
			send("GET /reflect HTTP/1.1\r\n"+host+"X-A: a\nb\r\n\r\n"),
			expect(refused(anyEnd(ok(reflectsField("X-A", "a b"))),
				warned(anyEnd(ok(reflectsField("X-A", "a"))), "2xx: LF taken as a line end and the line \"b\" without a colon ignored (RFC 9112 §2.2 SHOULD 400)"))...)).
			citing(s9112BareLF, s9112Invalid400).needing(NeedReflect),
		// Appended (issue 12): a bare CR between two bytes of the request-target. Invalid, the
		// line is refused; replaced by SP, "GET /a b HTTP/1.1" has four words and is refused
		// too (RFC 9112 §3). No reading the RFC allows serves it: a 2xx kept the CR in the
		// target. A 404 may be the lookup of "/a\rb" or of a line read some other way: warned.
		rule(s9112BareCR, "bare CR inside the request-target",
			"A CR between two bytes of the target is invalid, or replaced by SP, which splits the line into four words: the request is refused either way, never served.",
			send("GET /a\rb HTTP/1.1\r\n"+host+"\r\n"), expect(refused()...)).
			citing(s9112InvalidRequestLine, s9112WordBoundaries),
	)
	return append(streamCases, parse...)
}
