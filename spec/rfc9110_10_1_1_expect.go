package spec

// Sentences of RFC 9110 the 100-continue cases rest on, beyond sentences.go.
var (
	s9110Expect100 = r9110("10.1.1", MUST,
		"Upon receiving an HTTP/1.1 (or later) request that has a method, target URI, and complete header section that contains a 100-continue expectation and an indication that request content will follow, an origin server MUST send either: an immediate response with a final status code, if that status can be determined by examining just the method, target URI, and header fields, or an immediate 100 (Continue) response to encourage the client to send the request content.")
	s9110ExpectCase = r9110("10.1.1", None,
		"The Expect field value is case-insensitive.")
	s9110ExpectOmit100 = r9110("10.1.1", MAY,
		"A server MAY omit sending a 100 (Continue) response if it has already received some or all of the content for the corresponding request, or if the framing indicates that there is no content.")
	s9110Expect10 = r9110("10.1.1", MUST,
		"A server that receives a 100-continue expectation in an HTTP/1.0 request MUST ignore that expectation.")
)

// Expect: 100-continue (RFC 9110 §10.1.1): a body announced with the expectation is invited by
// 100 (Continue), or the server answers at once with a final status.
func rfc9110Expect() []Case {
	simple := get("/")
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
	return group("9110", "10.1.1",
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
}
