package spec

import (
	"fmt"
	"strconv"
	"time"

	"github.com/forkproof/forkproof/spec/wire"
)

// Sentences of RFC 9112 §6 (and RFC 9110 §8.6) the body cases rest on, beyond sentences.go.
var (
	s9112ParseChunkedTE = r9112("6.1", MUST,
		"A recipient MUST be able to parse the chunked transfer coding (Section 7.1) because it plays a crucial role in framing messages when the content size is not known in advance.")
	s9112TEinHTTP10 = r9112("6.1", MUST,
		"A server or client that receives an HTTP/1.0 message containing a Transfer-Encoding header field MUST treat the message as if the framing is faulty, even if a Content-Length is present, and close the connection after processing the message.")
	s9112ChunkedFinalFrames = r9112("6.3", None,
		"If a Transfer-Encoding header field is present and the chunked transfer coding (Section 7.1) is the final encoding, the message body length is determined by reading and decoding the chunked data until the transfer coding indicates the data is complete.")
	s9112CodingNamesCase = r9112("7", None,
		"All transfer-coding names are case-insensitive and ought to be registered within the HTTP Transfer Coding registry, as defined in Section 7.3.")
	s9112OWSExcluded = r9112("5.1", None,
		"The field line value does not include that leading or trailing whitespace: OWS occurring before the first non-whitespace octet of the field line value, or after the last non-whitespace octet of the field line value, is excluded by parsers when extracting the field line value from a field line.")
	s9112ChunkedTwice = r9112("6.1", MUST,
		"A sender MUST NOT apply the chunked transfer coding more than once to a message body (i.e., chunking an already chunked message is not allowed).")
	s9112CLFrames = r9112("6.3", MUST,
		"If a valid Content-Length header field is present without Transfer-Encoding, its decimal value defines the expected message body length in octets. If the sender closes the connection or the recipient times out before the indicated number of octets are received, the recipient MUST consider the message to be incomplete and close the connection.")
	s9112NoFramingZero = r9112("6.3", None,
		"If this is a request message and none of the above are true, then the message body length is zero (no message body is present).")
	s9112LengthRequired = r9112("6.3", MAY,
		"A server MAY reject a request that contains a message body but not a Content-Length by responding with 411 (Length Required).")
	s9110CLSameList = r9110("8.6", MAY,
		"Likewise, a sender MUST NOT forward a message with a Content-Length header field value that does not match the ABNF above, with one exception: a recipient of a Content-Length header field value consisting of the same decimal value repeated as a comma-separated list (e.g, \"Content-Length: 42, 42\") MAY either reject the message as invalid or replace that invalid field value with a single instance of the decimal value, since this likely indicates that a duplicate was generated or combined by an upstream message processor.")
	s9110CLLarge = r9110("8.6", MUST,
		"Since there is no predefined limit to the length of content, a recipient MUST anticipate potentially large decimal numerals and prevent parsing errors due to integer conversion overflows or precision loss due to integer conversion (Section 17.5).")
	s9110ContentTooLarge = r9110("15.5.14", None,
		"The 413 (Content Too Large) status code indicates that the server is refusing to process a request because the request content is larger than the server is willing or able to process.")
)

// policy builds a case that no RFC keyword decides: it states the policy it applies, cites the
// sentences that bear on it, and a miss warns (../shared/GRADING.md, "Policies").
func policy(text, title, requirement string, steps ...Step) Case {
	return Case{Meta: Meta{Level: None, Title: title, Requirement: requirement, Policy: text}, Steps: steps}
}

// quoting adds to a policy case the sentences that bear on it without a keyword to decide it:
// they are quoted in the policy itself, since a case's Sentences start with the deciding one.
func (c Case) quoting(more ...Sentence) Case {
	for _, s := range more {
		c.Policy += " " + s.String()
	}
	return c
}

// anyStatus matches every final status: the answer to POST / differs from server to server
// (200, 405, 501…), and framing cases judge what follows it, not the status itself.
var anyStatus = Range(200, 599)

// afterPost puts a valid POST / with an empty body before the request under test, so that the
// server's answer to POST itself (405, 501, or a close) is seen first and never mistaken for its
// answer to the broken framing. A server that closes after that first response owes nothing
// more (RFC 9112 §9.6) and the runner skips the case.
func afterPost(r string) string { return post("/", "") + r }

// persists: the response does not announce close, so the request after it is owed an answer.
func persists() check {
	return check{"keeps the connection", func(r *wire.Response) error {
		if announcesClose().fn(r) == nil {
			return fmt.Errorf("%s response announces close", r.Version)
		}
		return nil
	}}
}

// closedAfterPost: the server answered afterPost's POST without announcing close, then closed
// without answering the request under test (what it owed: missing). From the wire this is one
// of two things: the server meant to close after the POST and did not say so (RFC 9112 §9.6: a
// sender SHOULD send "close" when it intends to close), or it read the request under test and
// closed instead of answering. It never fails, since a close is legal at any time (RFC 9112
// §9.5). owed says whether the request under test is owed an answer by a SHOULD or MUST (a 400
// for a syntax error, say): then both readings break a SHOULD at least, and it warns; otherwise
// the second reading is legal, and it is noted. (After an announced close nothing is owed, and
// the runner skips the case.)
func closedAfterPost(owed bool, missing string) Outcome {
	o := Outcome{
		Name:      "close without " + missing + ", after an answer that kept the connection (RFC 9112 §9.6: a server SHOULD announce a close)",
		Responses: []Want{want(anyStatus, persists())}, Then: EndClosed, Verdict: Info,
	}
	if owed {
		o.Verdict = Warn
	}
	return o
}

// then prefixes each outcome with the response to afterPost's POST, whatever its status.
func then(os ...Outcome) []Outcome {
	for i := range os {
		os[i].Responses = append([]Want{want(anyStatus)}, os[i].Responses...)
	}
	return os
}

// nextRequest is the request pipelined behind a body under test: GET /, which the capability
// probe saw served (2xx), marked by a field so the transcript tells it from the POST. Not a
// query string: a server routing on the raw target (the Node interop server) answers "/?x"
// with 404. A server that misread where the body ended reads the leftover bytes as a request
// of its own: a 400, a wait for more body, or an extra response.
var nextRequest = get("/", "X-Forkproof: next")

// byNext builds, from an echo case c whose question is where a body ends, its twin for servers
// without /echo: request (posts POST / requests carrying c's body and fields) goes out with
// nextRequest right behind it, cut at split with a pause between the pieces. Any answer to
// each POST does (2xx, or a refusal such as 405, 411, 413 or 501: none is about framing); then
// nextRequest is served and nothing more arrives. A POST refused and then a close says nothing
// about framing: the runner skips it (RFC 9112 §9.6; §9.5 for an unannounced close). The twin
// keeps c's sentences, so a miss is graded as c's is.
func byNext(c Case, request string, split []int, posts int, also ...Outcome) Case {
	ws := make([]Want, posts, posts+1)
	for i := range ws {
		ws[i] = want(anyStatus)
	}
	ws = append(ws, ok())
	t := Case{Meta: Meta{Level: c.Level, Title: c.Title + " (judged by the next request)",
		Requirement: c.Requirement, Sentences: append([]Sentence(nil), c.Sentences...), Policy: c.Policy}}
	t.Steps = []Step{{Send: []byte(request + nextRequest), SplitAt: split, Pause: 20 * time.Millisecond},
		expect(append([]Outcome{open(ws...), closed(ws...)}, also...)...)}
	return t.needing(NeedPostRoot, NeedPersist)
}

// twins collects a group's byNext twins; they go after the group's existing cases, since a
// case's ID is its position.
type twins []Case

// add records c's byNext twin and returns c, so a case and its twin are written in one place.
func (t *twins) add(c Case, request string, split []int, posts int, also ...Outcome) Case {
	*t = append(*t, byNext(c, request, split, posts, also...))
	return c
}

// of is add for a request of one POST /.
func (t *twins) of(c Case, request string, split ...int) Case {
	return t.add(c, request, split, 1)
}

// RFC 9112 §6: message body length — Transfer-Encoding (§6.1), Content-Length (§6.2) and the
// rules that decide where a request ends (§6.3). Framing errors get 400 and a close: a server
// that guesses lets a second request hide inside the first.
//
// The vehicle is POST / (RFC 9110 §9.3.1: a body on GET has no defined semantics and may be
// refused): where the server thinks the body ends shows in what it does with the bytes after
// it — a pipelined GET / served (2xx) when the framing was right, a 400 or a close when not.
func rfc9112Body() []Case {
	zero := "0\r\n\r\n"
	hello := "5\r\nhello\r\n0\r\n\r\n"
	smuggled := zero + "GET /smuggled HTTP/1.1\r\nHost: forkproof.test\r\n\r\n"
	postTE := func(te string, extra ...string) string {
		return raw("POST / HTTP/1.1", append([]string{"Host: forkproof.test", "Transfer-Encoding: " + te}, extra...)...)
	}
	// framedByChunked: the body is read as chunked and the pipelined GET / after it is served.
	framedByChunked := func(te, title, requirement string) Case {
		return rule(s9112ParseChunkedTE, title, requirement,
			send(afterPost(postTE(te)+hello+get("/"))),
			expect(append(then(anyEnd(want(anyStatus), ok()),
				noted(closed(want(Status(411))), "411: a server MAY refuse a body without Content-Length (RFC 9112 §6.3)"),
				warned(closed(want(Range(400, 599))), "refused a valid chunked request (then close): safe, but chunked is the coding every recipient must parse")),
				closedAfterPost(true, "answering a valid chunked request"))...)).
			citing(s9112ChunkedFinalFrames).needing(NeedPostRoot)
	}
	// notFinal: chunked is present but not the last coding. RFC 9112 §6.3's MUST 400-then-close
	// is the specific sentence and decides; §6.1's SHOULD 501 for a coding the server does not
	// understand is the general one, so a 501 here fails.
	notFinal := func(te, title string) Case {
		return rule(s9112ChunkedNotFinal, title,
			"The final transfer coding is not chunked, so the body length is unknowable: 400, then close (a 501 does not do: the specific MUST names 400).",
			send(afterPost(postTE(te)+hello)), expect(append(then(closed(want(Status(400)))),
				closedAfterPost(true, "the required 400"))...)).
			citing(s9112UnknownCoding).needing(NeedPostRoot)
	}
	// unknownCoding: the only coding is one the server does not know (chunked is absent, so
	// §6.3's "chunked is not the final encoding" does not decide): §6.1's SHOULD 501 does, and
	// with no chunked the body length is unknown, so the server closes after refusing.
	unknownCoding := func(te, title string) Case {
		return rule(s9112UnknownCoding, title,
			"A transfer coding the server does not understand, with no chunked to frame the body, gets 501 (or 400), then a close.",
			send(afterPost(postTE(te)+hello)), expect(append(then(closed(want(Status(501))), closed(want(Status(400)))),
				closedAfterPost(true, "the 501 or 400"))...)).
			needing(NeedPostRoot)
	}
	clte := func(title, te string) Case {
		return rule(s9112CLandTE, "Content-Length with Transfer-Encoding "+title,
			"With both Content-Length and Transfer-Encoding the server may refuse (any error status) or frame by Transfer-Encoding, and closes after answering either way.",
			send(raw("POST / HTTP/1.1", "Host: forkproof.test", "Content-Length: "+strconv.Itoa(len(smuggled)), "Transfer-Encoding: "+te)+smuggled),
			expect(closed(want(anyStatus)), closed())).needing(NeedPostRoot)
	}
	// unknownTE: a coding the server may not understand before chunked; 501 is what §6.1 asks.
	unknownTE := func(te, why string) Case {
		return rule(s9112UnknownCoding, "Transfer-Encoding "+why,
			"A transfer coding the server does not understand gets 501 (400 and a close are safe too); framing by the final chunked coding skips that SHOULD.",
			send(afterPost(postTE(te)+hello+get("/"))),
			expect(append(then(closed(want(Status(501))), closed(want(Status(400))), anyEnd(want(Status(501))),
				noted(anyEnd(want(Status(405)), ok()), "405 for the method (RFC 9110 §9.1), the body framed by the final chunked: the coding was never judged"),
				warned(anyEnd(want(anyStatus), ok()), "framed by the final chunked coding without the 501 RFC 9112 §6.1 asks for")),
				closedAfterPost(true, "the 501"))...)).
			citing(s9112ChunkedFinalFrames).needing(NeedPostRoot)
	}
	var tw61 twins
	te := []Case{
		framedByChunked("chunked", "chunked request body, then a pipelined request",
			"Transfer-Encoding: chunked frames the body; the request after it is read as a request."),
		framedByChunked("Chunked", "chunked coding name is case-insensitive",
			"\"Chunked\" is the chunked coding.").citing(s9112CodingNamesCase),
		framedByChunked(" chunked \t", "chunked with surrounding whitespace",
			"Optional whitespace around the value is not part of it: the coding is chunked.").citing(s9112OWSExcluded),
		tw61.of(rule(s9112ParseChunkedTE, "chunked in uppercase decodes the body",
			"The body of a request with \"Transfer-Encoding: CHUNKED\" is decoded like any chunked body.",
			send(raw("POST /echo HTTP/1.1", "Host: forkproof.test", "Transfer-Encoding: CHUNKED")+hello),
			expect(served(bodyIs("hello"))...)).citing(s9112CodingNamesCase).needing(NeedEcho),
			raw("POST / HTTP/1.1", "Host: forkproof.test", "Transfer-Encoding: CHUNKED")+hello),
		notFinal("chunked, gzip", "chunked not the final coding"),
		rule(s9112ParseChunkedTE, "chunked applied twice in one field",
			"\"chunked, chunked\" ends in chunked, so the final chunked frames the body (RFC 9112 §6.3); refusing the doubled coding (400 or 501, then close) is safe too.",
			send(afterPost(postTE("chunked, chunked")+hello+get("/"))),
			expect(append(then(anyEnd(want(anyStatus), ok()), closed(want(Status(400))), closed(want(Status(501)))),
				closedAfterPost(false, "answering the doubled coding"))...)).
			citing(s9112ChunkedFinalFrames, s9112ChunkedTwice).needing(NeedPostRoot),
		rule(s9112ParseChunkedTE, "chunked in two Transfer-Encoding lines",
			"Two field lines combine into \"chunked, chunked\": framed by the final chunked, or refused (400 or 501) and closed.",
			send(afterPost(postTE("chunked", "Transfer-Encoding: chunked")+hello+get("/"))),
			expect(append(then(anyEnd(want(anyStatus), ok()), closed(want(Status(400))), closed(want(Status(501)))),
				closedAfterPost(false, "answering the doubled coding"))...)).
			citing(s9112ChunkedFinalFrames, s9112ChunkedTwice).needing(NeedPostRoot),
		rule(s9112ChunkedNotFinal, "chunked then an unknown coding on two lines",
			"Lines combine: \"chunked\" then \"gzip\" leaves chunked not last: 400 and close (the specific MUST names 400, so a 501 does not do).",
			send(afterPost(postTE("chunked", "Transfer-Encoding: gzip")+hello)), expect(append(then(closed(want(Status(400)))),
				closedAfterPost(true, "the required 400"))...)).
			citing(s9112UnknownCoding).needing(NeedPostRoot),
		unknownTE("gzip, chunked", "with an unsupported coding before chunked"),
		unknownCoding("xchunked", "Transfer-Encoding with an unknown coding \"xchunked\""),
		unknownCoding("chunk", "Transfer-Encoding with the truncated coding \"chunk\""),
		unknownCoding("identity", "Transfer-Encoding with the removed coding \"identity\""),
		unknownCoding("\"chunked\"", "Transfer-Encoding with a quoted coding"),
		rule(s9112UnknownCoding, "Transfer-Encoding with a parameter on chunked",
			"chunked defines no parameter: \"chunked;q=1\" may be refused (501, or 400, then close) or read as chunked (noted).",
			send(afterPost(postTE("chunked;q=1")+hello+get("/"))),
			expect(append(then(closed(want(Status(501))), closed(want(Status(400))), anyEnd(want(Status(501))),
				noted(anyEnd(want(anyStatus), ok()), "read as chunked, the parameter ignored")),
				closedAfterPost(true, "the 501"))...)).needing(NeedPostRoot),
		rule(s9112Invalid400, "empty Transfer-Encoding",
			"An empty Transfer-Encoding names no coding: refuse it (400 or 501) and close; ignoring the empty field leaves the chunked bytes to be refused as the next request.",
			send(afterPost(postTE("")+zero)),
			expect(append(then(closed(want(Status(400))), closed(want(Status(501))),
				warned(anyEnd(want(anyStatus, persists()), want(Status(400))), "the empty field ignored: the body bytes were read as a request and refused")),
				closedAfterPost(true, "a response"))...)).
			citing(s9112ChunkedNotFinal).needing(NeedPostRoot),
		unknownCoding("\x0bchunked", "Transfer-Encoding with a vertical tab"),
		rule(s9112TEinHTTP10, "Transfer-Encoding in an HTTP/1.0 keep-alive request",
			"An HTTP/1.0 message with Transfer-Encoding has faulty framing: whatever the answer, the server closes after it.",
			send(raw("POST / HTTP/1.0", "Connection: keep-alive", "Transfer-Encoding: chunked")+zero),
			expect(closed(want(anyStatus)), closed())).needing(NeedPostRoot),
		rule(s9112TEinHTTP10, "Transfer-Encoding and Content-Length in an HTTP/1.0 keep-alive request",
			"Content-Length does not rescue an HTTP/1.0 message carrying Transfer-Encoding: close after answering.",
			send(raw("POST / HTTP/1.0", "Connection: keep-alive", "Content-Length: 5", "Transfer-Encoding: chunked")+zero),
			expect(closed(want(anyStatus)), closed())).needing(NeedPostRoot),
		clte("chunked", "chunked"),
		clte("\"Chunked\"", "Chunked"),
		clte("\"CHUNKED\"", "CHUNKED"),
		clte("with leading space", " chunked"),
		clte("with trailing space", "chunked "),
		clte("with leading tab", "\tchunked"),
		clte("\"xchunked\"", "xchunked"),
		clte("\"chunk\"", "chunk"),
		clte("\"chunked, identity\"", "chunked, identity"),
		clte("\"identity, chunked\"", "identity, chunked"),
		clte("\",chunked\"", ",chunked"),
		clte("\"chunked,\"", "chunked,"),
		clte("quoted", "\"chunked\""),
		clte("with a vertical tab", "\x0bchunked"),
		clte("on two lines", "chunked\r\nTransfer-Encoding: chunked"),
		clte("and a second Content-Length", "chunked\r\nContent-Length: 0"),
		rule(s9112CLandTE, "Transfer-Encoding before Content-Length",
			"Field order does not matter: with both present the server closes after answering.",
			send(raw("POST / HTTP/1.1", "Host: forkproof.test", "Transfer-Encoding: chunked", "Content-Length: "+strconv.Itoa(len(smuggled)))+smuggled),
			expect(closed(want(anyStatus)), closed())).needing(NeedPostRoot),
		rule(s9112CLandTE, "Content-Length shorter than the chunked body",
			"With both fields, a server framing by Content-Length would read the chunk terminator as a new request; it must close instead.",
			send(raw("POST / HTTP/1.1", "Host: forkproof.test", "Content-Length: 3", "Transfer-Encoding: chunked")+zero),
			expect(closed(want(anyStatus)), closed())).needing(NeedPostRoot),
		rule(s9112CLandTE, "the smuggled request is never answered",
			"After a request with both fields, no second response follows: the server closed.",
			send(raw("POST / HTTP/1.1", "Host: forkproof.test", "Content-Length: 4", "Transfer-Encoding: chunked")+zero+get("/smuggled")),
			expect(closed(want(anyStatus)), closed())).needing(NeedPostRoot),
	}

	// framedByCL: the body is read as Content-Length says and the pipelined GET / is served.
	// Refusing a valid length (400, then close) is safe but breaks the framing rule: warn.
	framedByCL := func(cl, body, title, requirement string) Case {
		return rule(s9112CLFrames, title, requirement,
			send(raw("POST / HTTP/1.1", "Host: forkproof.test", "Content-Length: "+cl)+body+get("/")),
			expect(anyEnd(want(anyStatus), ok()),
				warned(closed(want(Status(400))), "400: a valid Content-Length refused (safe, but the length was valid)"))).needing(NeedPostRoot)
	}
	// sameList: a repeated equal length may be taken as one or refused (then close).
	sameList := func(title, requirement string, fields ...string) Case {
		return rule(s9112InvalidCL, title, requirement,
			send(raw("POST / HTTP/1.1", append([]string{"Host: forkproof.test"}, fields...)...)+"hello"+get("/")),
			expect(append(badFraming(), anyEnd(want(anyStatus), ok()))...)).citing(s9110CLSameList).needing(NeedPostRoot)
	}
	var tw62 twins
	echoed := "hello\r\n\x00forkproof\r\n"
	large := repeat("0123456789abcdef", 4096)
	header := len(post("/", "")) // where the body of a POST / starts
	cl := []Case{
		framedByCL("5", "hello", "Content-Length body, then a pipelined request",
			"Content-Length frames the body; the next request starts right after it."),
		framedByCL("0", "", "Content-Length: 0, then a pipelined request",
			"A zero-length body ends at the header section."),
		framedByCL("0005", "hello", "Content-Length with leading zeros",
			"\"0005\" is the number 5 (Content-Length = 1*DIGIT)."),
		framedByCL("\t5 ", "hello", "Content-Length with surrounding whitespace",
			"Optional whitespace around the number is not part of the field value.").citing(s9112OWSExcluded),
		tw62.of(rule(s9112CLFrames, "Content-Length body is echoed byte for byte",
			"The server reads exactly Content-Length bytes of body, whatever they are: CRLF and NUL included.",
			send(post("/echo", echoed)), expect(served(bodyIs(echoed))...)).needing(NeedEcho),
			post("/", echoed)),
		tw62.of(rule(s9112CLFrames, "empty body with Content-Length: 0",
			"Content-Length: 0 is an empty body.",
			send(post("/echo", "")), expect(served(bodyLen(0))...)).needing(NeedEcho),
			post("/", "")),
		tw62.of(rule(s9112CLFrames, "body larger than one read",
			"A 64 KiB body arrives in many segments and is read whole.",
			send(post("/echo", large)), expect(served(bodyLen(65536))...)).needing(NeedEcho),
			post("/", large)),
		tw62.of(rule(s9112CLFrames, "body delivered in pieces with pauses",
			"The server keeps reading until Content-Length bytes arrived.",
			sendSplit(post("/echo", "hello, world"), 20*time.Millisecond, len(post("/echo", ""))+3, len(post("/echo", ""))+7), expect(served(bodyIs("hello, world"))...)).needing(NeedEcho),
			post("/", "hello, world"), header+3, header+7),
		// Judged by the next request, the wait shows as the body completed after a pause.
		tw62.of(rule(s9112CLFrames, "server waits for the rest of the body",
			"Before Content-Length bytes have arrived the request is incomplete: no answer yet.",
			send(post("/echo", "hello")[:len(post("/echo", "hello"))-3]), expect(waits()...),
			send("llo"), expect(served(bodyIs("hello"))...)).needing(NeedEcho),
			post("/", "hello"), header+2),
		rule(s9112CLFrames, "body cut short by the client's half-close",
			"A body shorter than Content-Length is incomplete, never processed as if complete.",
			sendShut(raw("POST /echo HTTP/1.1", "Host: forkproof.test", "Content-Length: 10")+"hello"),
			expect(closed(want(Status(400))), closed(want(Status(408))), closed(want(Range(400, 599))), closed())).needing(NeedEcho),
		sameList("duplicate equal Content-Length lines",
			"Identical repeated values may be accepted as one, or rejected as invalid (then close).",
			"Content-Length: 5", "Content-Length: 5"),
		sameList("Content-Length as an equal list",
			"\"5, 5\" may be taken as 5 or rejected (then close); nothing else.",
			"Content-Length: 5, 5"),
		tw62.add(policy("RFC 9112 §6.3 says a request with neither field has a zero-length body, with no keyword: a server that waits for a body, or reads the next request as one, is warned.",
			"POST without Content-Length or Transfer-Encoding has an empty body",
			"A request with neither field has a zero-length body (or gets 411).",
			send(req("POST", "/echo")+get("/")),
			expect(anyEnd(ok(bodyLen(0)), ok()), closed(want(Status(411))), anyEnd(want(Status(411)), ok()))).
			quoting(s9112NoFramingZero, s9112LengthRequired).needing(NeedEcho),
			req("POST", "/"), nil, 1, closed(want(Status(411)))), // 411 and a close: RFC 9112 §6.3's MAY
	}

	// invalidCL: 400 then close. A server that refuses the method itself (405 or 501, RFC 9110
	// §9.1: no Content-Length makes either) and closes never judged the framing and left nothing
	// to misread: noted, since the case cannot tell. Closing without the 400 is safe but skips
	// it (warn: RFC 9112 §9.5 lets a server close at any time).
	invalidCL := func(title, requirement string, request string) Case {
		return rule(s9112InvalidCL, title, requirement, send(request),
			expect(closed(want(Status(400))), warned(closed(), "close without the required 400"),
				noted(closed(want(Status(405))), "405 for the method, then close: the framing was never judged"),
				noted(closed(want(Status(501))), "501 for the method, then close: the framing was never judged"))).
			citing(s9110UnknownMethod).needing(NeedPostRoot)
	}
	badCL := func(v, why string) Case {
		return invalidCL("invalid Content-Length: "+why,
			"A request whose Content-Length is not a valid number is answered 400 and the connection closed.",
			raw("POST / HTTP/1.1", "Host: forkproof.test", "Content-Length: "+v)+"hello")
	}
	// hugeCL: a length too large for 64 bits is still valid (1*DIGIT). Refusing it (400 or 413)
	// and reading it (waiting for the body, perhaps after answering early) are both legal; a
	// GET / after five bytes of body that gets served means the number wrapped around.
	hugeCL := func(v, why string) Case {
		return rule(s9110CLLarge, "Content-Length "+why,
			"A number too large to represent is refused (400 or 413) or read as the huge length it is (the server waits for the body); it never wraps around.",
			send(afterPost(raw("POST / HTTP/1.1", "Host: forkproof.test", "Content-Length: "+v)+"hello"+get("/"))),
			expect(append(then(anyEnd(want(Status(400))), anyEnd(want(Status(413))), open(), open(want(anyStatus)), closed(want(anyStatus))),
				closedAfterPost(false, "the 400 or 413 that says why"))...)).
			citing(s9110ContentTooLarge).needing(NeedPostRoot)
	}
	length := group("9112", "6.3",
		badCL("-1", "negative"),
		badCL("-0", "negative zero"),
		badCL("+5", "plus sign"),
		badCL("0x5", "hexadecimal"),
		badCL("5.0", "decimal point"),
		badCL("5e0", "exponent"),
		badCL("5 5", "two numbers"),
		badCL("5a", "trailing letter"),
		badCL("abc", "letters"),
		badCL("", "empty"),
		badCL("\"5\"", "quoted"),
		badCL("５", "full-width digit"),
		badCL("5, 6", "unequal list"),
		invalidCL("two different Content-Length lines",
			"Conflicting lengths make the framing unknowable: 400 and close.",
			raw("POST / HTTP/1.1", "Host: forkproof.test", "Content-Length: 5", "Content-Length: 6")+"hello!"),
		invalidCL("different Content-Length lines, larger first",
			"Whichever line comes first, unequal lengths are refused.",
			raw("POST / HTTP/1.1", "Host: forkproof.test", "Content-Length: 6", "Content-Length: 5")+"hello!"),
		invalidCL("Content-Length 0 and 5 on two lines",
			"A zero and a non-zero length conflict.",
			raw("POST / HTTP/1.1", "Host: forkproof.test", "Content-Length: 0", "Content-Length: 5")+"hello"),
		hugeCL("18446744073709551616", "of 2^64"),
		hugeCL("18446744073709551621", "of 2^64+5 (wraps to 5)"),
		hugeCL("9223372036854775808", "of 2^63 (negative as int64)"),
		hugeCL("99999999999999999999999999999999", "of 32 digits"),
	)
	return append(append(group("9112", "6.1", append(te, tw61...)...),
		group("9112", "6.2", append(cl, tw62...)...)...), length...)
}
