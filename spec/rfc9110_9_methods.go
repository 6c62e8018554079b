package spec

// Sentences of RFC 9110 the methods cases rest on, beyond sentences.go.
var (
	s9110HeadCL = r9110("8.6", MUST,
		"A server MAY send a Content-Length header field in a response to a HEAD request (Section 9.3.2); a server MUST NOT send Content-Length in such a response unless its field value equals the decimal number of octets that would have been sent in the content of a response if the same request had used the GET method.")
	s9110OptionsStar = r9110("9.3.7", None,
		"An OPTIONS request with an asterisk (\"*\") as the request target (Section 7.1) applies to the server in general rather than to a specific resource.")
)

// Methods: HEAD (RFC 9110 §9.3.2), 405 and Allow for a method a resource does not allow (§9.1,
// §15.5.6) and OPTIONS (§9.3.7), in that order.
func rfc9110Methods() []Case {
	simple := get("/")
	head := req("HEAD", "/")
	notFound := "/forkproof-no-such-resource"

	same := &sameLength{}
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

	var all []Case
	for _, g := range [][]Case{headC, methods, options} {
		all = append(all, g...)
	}
	return all
}
