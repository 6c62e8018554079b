package spec

import (
	"fmt"

	"github.com/forkproof/forkproof/spec/wire"
)

// Sentences of RFC 9110 the semantics cases rest on, beyond sentences.go.
var (
	s9110SenderGrammar = r9110("2.2", MUST,
		"A sender MUST NOT generate protocol elements that do not match the grammar defined by the corresponding ABNF rules.")
	s9112SelfDefinedLength = r9112("9.3", None,
		"In order to remain persistent, all messages on a connection need to have a self-defined message length (i.e., one not defined by closure of the connection), as described in Section 6.")
	s9110HeadCL = r9110("8.6", MUST,
		"A server MAY send a Content-Length header field in a response to a HEAD request (Section 9.3.2); a server MUST NOT send Content-Length in such a response unless its field value equals the decimal number of octets that would have been sent in the content of a response if the same request had used the GET method.")
	s9110NoCLon204 = r9110("8.6", MUST,
		"A server MUST NOT send a Content-Length header field in any response with a status code of 1xx (Informational) or 204 (No Content).")
	s9112NoTEon204 = r9112("6.1", MUST,
		"A server MUST NOT send a Transfer-Encoding header field in any response with a status code of 1xx (Informational) or 204 (No Content).")
	s9110NoContent205 = r9110("15.3.6", MUST,
		"Since the 205 status code implies that no additional content will be provided, a server MUST NOT generate content in a 205 response.")
	s9110NoContent304 = r9110("15.4.5", None,
		"A 304 response is terminated by the end of the header section; it cannot contain content or trailers.")
	s9110Expect100 = r9110("10.1.1", MUST,
		"Upon receiving an HTTP/1.1 (or later) request that has a method, target URI, and complete header section that contains a 100-continue expectation and an indication that request content will follow, an origin server MUST send either: an immediate response with a final status code, if that status can be determined by examining just the method, target URI, and header fields, or an immediate 100 (Continue) response to encourage the client to send the request content.")
	s9110ExpectCase = r9110("10.1.1", None,
		"The Expect field value is case-insensitive.")
	s9110ExpectOmit100 = r9110("10.1.1", MAY,
		"A server MAY omit sending a 100 (Continue) response if it has already received some or all of the content for the corresponding request, or if the framing indicates that there is no content.")
	s9110Expect10 = r9110("10.1.1", MUST,
		"A server that receives a 100-continue expectation in an HTTP/1.0 request MUST ignore that expectation.")
	s9110OptionsStar = r9110("9.3.7", None,
		"An OPTIONS request with an asterisk (\"*\") as the request target (Section 7.1) applies to the server in general rather than to a specific resource.")
)

// versionIs: the response's version is exactly v.
func versionIs(v string) check {
	return check{v, func(r *wire.Response) error {
		if r.Version != v {
			return fmt.Errorf("version %q; want %s", r.Version, v)
		}
		return nil
	}}
}

// The parts of RFC 9110 a server meets on the wire: Date (§6.6.1), Content-Length in responses
// (§8.6), methods and 405/Allow (§9.1, §15.5.6), HEAD (§9.3.2), OPTIONS (§9.3.7),
// 100-continue (§10.1.1) and bodiless statuses (§15).
func rfc9110Semantics() []Case {
	simple := get("/")
	head := req("HEAD", "/")
	notFound := "/forkproof-no-such-resource"
	// dated: whatever the status, a 2xx-4xx response carries Date; a 5xx may leave it out.
	dated := []Outcome{anyEnd(want(Range(200, 499), dateOK())), anyEnd(want(Class(5)))}

	date := group("9110", "6.6.1",
		rule(s9110Date, "Date on a 200 response",
			"An origin server with a clock sends Date, in IMF-fixdate, on every 2xx, 3xx and 4xx response.",
			send(simple), expect(served(dateOK())...)),
		rule(s9110Date, "Date on a HEAD response",
			"HEAD responses carry the same header fields as GET, Date included.",
			send(head), expectM([]string{"HEAD"}, anyEnd(ok(dateOK())))),
		rule(s9110Date, "Date on a 400 response",
			"Error responses carry Date too: here the answer to a request without Host (400 from an HTTP/1.1 server; an HTTP/1.0 server may serve it).",
			send("GET / HTTP/1.1\r\n\r\n"), expect(append(dated, warned(closed(), "close without the required 400"))...)).citing(s9112Host400),
		rule(s9110Date, "Date on the response to an unknown resource",
			"Whatever the status for a missing resource, a 2xx-4xx response has Date.",
			send(get(notFound)), expect(dated...)),
		rule(s9110Date, "Date on every pipelined response",
			"Each of several responses carries its own Date.",
			send(simple+simple+simple), expect(anyEnd(oks(3, dateOK())...))),
		rule(s9110Date, "Date on an HTTP/1.0 response",
			"Date is sent whatever the request version.",
			send("GET / HTTP/1.0\r\n\r\n"), expect(served(dateOK())...)),
		rule(s9110Date, "Date on a 405 response",
			"A method-not-allowed response carries Date.",
			send(get("/echo")), expect(anyEnd(want(Status(405), dateOK())))).needing(NeedEcho),
		rule(s9110Date, "Date on a 204 response",
			"A 204 carries Date.",
			send(get("/status/204")), expect(anyEnd(want(Status(204), dateOK())))).needing(NeedStatus),
		rule(s9110Date, "Date on the response to DELETE /",
			"A server that refuses the method (405, 404, 403…) sends its error page with Date, as any 4xx.",
			send(req("DELETE", "/")), expect(dated...)),
		rule(s9110Date, "Date on the 400 for a malformed field line",
			"The error page for a request it cannot parse is a 4xx like any other: it carries Date (or the server just closes).",
			send("GET / HTTP/1.1\r\nHost: forkproof.test\r\nBad Header\r\n\r\n"), expect(append(dated, closed())...)),
	)

	same := &sameLength{}
	length := group("9110", "8.6",
		rule(s9110SenderGrammar, "Content-Length matches the body",
			"A response's Content-Length is the exact number of body octets: the next response starts right after.",
			send(simple+simple), expect(anyEnd(ok(selfDelimited()), ok(selfDelimited())))).citing(s9112SelfDefinedLength),
		rule(s9110SenderGrammar, "Content-Length of a sized resource",
			"A 1234-byte resource is sent with 1234 octets of body.",
			send(get("/bytes/1234")+simple), expect(anyEnd(ok(bodyLen(1234)), ok()))).needing(NeedBytes),
		rule(s9110SenderGrammar, "empty resource has Content-Length: 0 or an empty chunked body",
			"A zero-length body is framed explicitly on a persistent connection.",
			send(get("/bytes/0")+simple), expect(anyEnd(ok(bodyLen(0), selfDelimited()), ok()))).citing(s9112SelfDefinedLength).needing(NeedBytes),
		rule(s9110SenderGrammar, "a 1 MB body arrives whole",
			"A body larger than socket buffers is written completely (partial writes are retried).",
			send(get("/bytes/1000000")+simple), expect(anyEnd(ok(bodyLen(1000000)), ok()))).needing(NeedBytes),
		rule(s9112NoTEto10, "a large body to HTTP/1.0 is not chunked",
			"An HTTP/1.0 client gets Content-Length or a close-delimited body, never chunked.",
			send("GET /bytes/100000 HTTP/1.0\r\n\r\n"), expect(served(bodyLen(100000), notChunked())...)).needing(NeedBytes),
		rule(s9112CloseAnnounce, "response to a persistent request is self-delimited",
			"On a connection that stays open the body length is given by Content-Length or chunked; a server that closes says so (Connection: close, or HTTP/1.0 without keep-alive).",
			send(simple), expect(open(ok(selfDelimited())), closed(ok(announcesClose())))).citing(s9112NoPersistClose, s9112SelfDefinedLength),
	)

	headC := group("9110", "9.3.2",
		rule(s9110HeadNoContent, "HEAD has no body (pipelined GET follows)",
			"A HEAD response ends at its header section: the next response follows immediately.",
			send(head+simple), expectM([]string{"HEAD", "GET"}, anyEnd(ok(), ok()))),
		rule(s9110HeadNoContent, "HEAD has no body (nothing follows)",
			"After a HEAD response nothing more arrives on the connection.",
			send(head), expectM([]string{"HEAD"}, open(ok()), closed(ok()))),
		rule(s9110HeadCL, "HEAD Content-Length is GET's",
			"When a HEAD response carries Content-Length it is the length a GET would have had.",
			send(simple+head), expectM([]string{"GET", "HEAD"}, anyEnd(ok(same.record()), ok(same.compare())))),
		rule(s9110HeadNoContent, "HEAD of a sized resource",
			"HEAD /bytes/1000 may say Content-Length: 1000 but sends no body.",
			send(req("HEAD", "/bytes/1000")+simple), expectM([]string{"HEAD", "GET"}, anyEnd(ok(noBody()), ok()))).needing(NeedBytes),
		rule(s9110HeadNoContent, "HEAD on HTTP/1.0",
			"An HTTP/1.0 HEAD gets a bodiless response (whether the connection then closes is graded by rfc9112/9.3, a policy).",
			send("HEAD / HTTP/1.0\r\n\r\n"), expectM([]string{"HEAD"}, closed(ok()), open(ok()))),
		rule(s9110HeadNoContent, "HEAD and GET interleaved",
			"Framing stays right through a mixed pipeline of HEAD and GET.",
			send(head+simple+head+simple+head+simple),
			expectM([]string{"HEAD", "GET", "HEAD", "GET", "HEAD", "GET"}, anyEnd(oks(6)...))),
		rule(s9110HeadNoContent, "HEAD on a missing resource",
			"An error response to HEAD has no body either.",
			send(req("HEAD", notFound)+simple), expectM([]string{"HEAD", "GET"}, anyEnd(want(anyStatus), ok()))),
	)

	// allowed: a 405 lists Allow; any other answer leaves the Allow rule nothing to judge (a
	// 404 or 501 to a method the server does not allow is RFC 9110 §9.1's SHOULD, graded in 9.3.7).
	allowed := func(check check) []Outcome {
		return []Outcome{anyEnd(want(Status(405), check)), anyEnd(want(Range(200, 404))), anyEnd(want(Range(406, 599)))}
	}
	methods := group("9110", "15.5.6",
		rule(s9110Allow405, "405 carries Allow (DELETE /)",
			"If the server answers 405, the response lists the allowed methods in Allow.",
			send(req("DELETE", "/")), expect(allowed(hasHeader("Allow"))...)).citing(s9110UnknownMethod),
		rule(s9110Allow405, "405 carries Allow (PUT /)",
			"A 405 without Allow leaves the client guessing.",
			send(req("PUT", "/", "Content-Length: 0")), expect(allowed(hasHeader("Allow"))...)).citing(s9110UnknownMethod),
		rule(s9110Allow405, "405 carries Allow (POST /)",
			"Every 405 lists what is allowed.",
			send(req("POST", "/", "Content-Length: 0")), expect(allowed(hasHeader("Allow"))...)).citing(s9110UnknownMethod).needing(NeedPostRoot),
		rule(s9110Allow405, "GET /echo is 405 with Allow: POST",
			"The echo resource allows POST and PUT; GET gets 405 and Allow lists POST.",
			send(get("/echo")), expect(anyEnd(want(Status(405), hasToken("Allow", "POST"))))).needing(NeedEcho),
		rule(s9110Allow405, "DELETE /echo is 405 with Allow",
			"A method the resource does not allow gets 405 and Allow.",
			send(req("DELETE", "/echo")), expect(anyEnd(want(Status(405), hasHeader("Allow"))))).needing(NeedEcho),
		rule(s9110SenderGrammar, "405 does not break the connection",
			"After a 405 the next pipelined request is served.",
			send(get("/echo")+simple), expect(anyEnd(want(Status(405)), ok()))).needing(NeedEcho),
	)

	options := group("9110", "9.3.7",
		rule(s9110UnknownMethod, "OPTIONS * is answered",
			"OPTIONS with the asterisk-form asks about the server itself: 2xx (or 405/501 when unsupported), not a syntax error.",
			send(raw("OPTIONS * HTTP/1.1", "Host: forkproof.test")), expect(anyEnd(ok()), anyEnd(want(Status(405))), anyEnd(want(Status(501))))).citing(s9110OptionsStar),
		rule(s9110UnknownMethod, "OPTIONS / is answered",
			"OPTIONS on a resource is a normal request: 2xx, or 405/501 when unsupported (Allow on a 405 is judged in 15.5.6).",
			send(req("OPTIONS", "/")), expect(anyEnd(ok()), anyEnd(want(Status(405))), anyEnd(want(Status(501))))),
		rule(s9110SenderGrammar, "OPTIONS then a pipelined GET",
			"An OPTIONS response is framed like any other.",
			send(raw("OPTIONS * HTTP/1.1", "Host: forkproof.test")+simple),
			expect(anyEnd(want(anyStatus), ok()))),
	)

	echoHead := raw("POST /echo HTTP/1.1", "Host: forkproof.test", "Content-Length: 5", "Expect: 100-continue")
	// invited: a 100-continue case for servers without /echo, judged on POST / by the immediate
	// answer alone: 100 (Continue), or a final status the server could tell from the head (405
	// for POST to a static file, say). What the server does with the body after a final status
	// is framing, judged by the twins of RFC 9112 §6.2 and §7.1.
	invited := func(title, head string) Case {
		return rule(s9110Expect100, title+" (judged on POST /)",
			"The head alone, announcing a body, gets an immediate answer: 100 (Continue), or a final status the server can tell without the body; never silence until the body comes.",
			send(head), expect(anyEnd(want(Status(100))), anyEnd(want(anyStatus)))).needing(NeedPostRoot)
	}
	cont := group("9110", "10.1.1",
		rule(s9110Expect100, "100-continue before the body",
			"A server expecting to read the body answers 100 (Continue) at once, before the client sends it.",
			send(echoHead), expect(anyEnd(want(Status(100)))),
			send("hello"), expect(served(bodyIs("hello"))...)).needing(NeedEcho),
		rule(s9110Expect100, "100-continue spelled in mixed case",
			"The expectation is case-insensitive: \"100-Continue\" is the same.",
			send(raw("POST /echo HTTP/1.1", "Host: forkproof.test", "Content-Length: 5", "Expect: 100-Continue")), expect(anyEnd(want(Status(100)))),
			send("hello"), expect(served(bodyIs("hello"))...)).citing(s9110ExpectCase).needing(NeedEcho),
		rule(s9110Expect100, "100-continue with a chunked body",
			"A chunked body is invited by 100 too.",
			send(raw("POST /echo HTTP/1.1", "Host: forkproof.test", "Transfer-Encoding: chunked", "Expect: 100-continue")), expect(anyEnd(want(Status(100)))),
			send("5\r\nhello\r\n0\r\n\r\n"), expect(served(bodyIs("hello"))...)).needing(NeedEcho),
		rule(s9110Expect100, "connection persists after a 100-continue exchange",
			"After 100, the final response and a following request all frame correctly.",
			send(echoHead), expect(anyEnd(want(Status(100)))),
			send("hello"+simple), expect(anyEnd(ok(bodyIs("hello")), ok()))).needing(NeedEcho),
		rule(s9110Expect100, "body sent with the head: 100 is optional",
			"If the body is already there the server may skip 100; the final response is right either way.",
			send(raw("POST /echo HTTP/1.1", "Host: forkproof.test", "Content-Length: 5", "Expect: 100-continue", "Connection: close")+"hello"),
			expect(closed(ok(bodyIs("hello"))), closed(want(Status(100)), ok(bodyIs("hello"))))).citing(s9110ExpectOmit100).needing(NeedEcho),
		rule(s9110Expect100, "100-continue without a body",
			"With no body to invite, the server answers directly (a 100 first is tolerated).",
			send(get("/", "Expect: 100-continue", "Connection: close")), expect(closed(ok()), closed(want(Status(100)), ok()))).citing(s9110ExpectOmit100),
		rule(s9110Expect10, "100-continue in HTTP/1.0 is ignored",
			"An HTTP/1.0 client does not understand 100: the server must not send it.",
			send("POST /echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello"), expect(anyEnd(ok(bodyIs("hello"))))).needing(NeedEcho),
		invited("100-continue before the body", raw("POST / HTTP/1.1", "Host: forkproof.test", "Content-Length: 5", "Expect: 100-continue")),
		invited("100-continue spelled in mixed case", raw("POST / HTTP/1.1", "Host: forkproof.test", "Content-Length: 5", "Expect: 100-Continue")).citing(s9110ExpectCase),
		invited("100-continue with a chunked body", raw("POST / HTTP/1.1", "Host: forkproof.test", "Transfer-Encoding: chunked", "Expect: 100-continue")),
		rule(s9110Expect10, "100-continue in HTTP/1.0 is ignored (judged on POST /)",
			"An HTTP/1.0 client does not understand 100: whatever the server answers to POST /, it is not 100.",
			send("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello"), expect(anyEnd(want(anyStatus)))).needing(NeedPostRoot),
	)

	status := group("9110", "15",
		rule(s9110NoCLon204, "204 has no body, no Content-Length, no Transfer-Encoding",
			"A 204 ends at its header section and carries neither framing field.",
			send(get("/status/204")+simple), expect(anyEnd(want(Status(204), noHeader("Content-Length"), noHeader("Transfer-Encoding")), ok()))).
			citing(s9112NoTEon204).needing(NeedStatus),
		policy("RFC 9110 §15.4.5 says a 304 \"cannot contain content\", with no keyword: a 304 with Transfer-Encoding or a body that breaks the next response is warned.",
			"304 has no body",
			"A 304 ends at its header section.",
			send(get("/status/304")+simple), expect(anyEnd(want(Status(304), noHeader("Transfer-Encoding")), ok()))).quoting(s9110NoContent304).needing(NeedStatus),
		rule(s9110NoContent205, "205 has no content",
			"A 205 (Reset Content) sends no content.",
			send(get("/status/205")+simple), expect(anyEnd(want(Status(205), noBody()), ok()))).needing(NeedStatus),
		policy("The reference contract: /status/N answers N. No RFC sentence; a server that answers another status is warned.",
			"status codes are passed through",
			"/status/418 answers 418 and the connection goes on.",
			send(get("/status/418")+simple), expect(anyEnd(want(Status(418)), ok()))).needing(NeedStatus),
		rule(s9110VersionShould, "response version is HTTP/1.1",
			"A server answers with the highest version it conforms to that is not above the request's: HTTP/1.1 (an HTTP/1.0 server answers HTTP/1.0, noted).",
			send(simple), expect(anyEnd(ok(version11())),
				noted(anyEnd(ok(versionIs("HTTP/1.0"))), "HTTP/1.0: the server conforms to HTTP/1.0 only"))).citing(s9110VersionMustNot),
		rule(s9110VersionShould, "response to HTTP/1.0 is HTTP/1.x",
			"The response to an HTTP/1.0 request stays in major version 1.",
			send("GET / HTTP/1.0\r\n\r\n"), expect(served(version1x())...)),
		rule(s9110NoCLon204, "bodiless 204 then 200 in a longer pipeline",
			"Framing survives a 204 in the middle of a pipeline.",
			send(simple+get("/status/204")+simple), expect(anyEnd(ok(), want(Status(204)), ok()))).citing(s9112NoTEon204).needing(NeedStatus),
	)

	var all []Case
	for _, g := range [][]Case{date, length, headC, methods, options, cont, status} {
		all = append(all, g...)
	}
	return all
}
