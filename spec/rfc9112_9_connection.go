package spec

import (
	"strconv"
	"strings"
	"time"
)

// RFC 9112 §9: connection management — persistence (§9.3), pipelining (§9.3.2) and closing
// (§9.6). Responses come back in request order; "close" ends the connection after the
// response; HTTP/1.0 closes by default.
func rfc9112Connection() []Case {
	simple := get("/")
	pipeline := func(n int) Case {
		return tc(MUST, "pipeline of "+strconv.Itoa(n)+" requests",
			"Requests sent back to back without waiting are each answered, in order.",
			send(strings.Repeat(simple, n)), expect(anyEnd(oks(n, selfDelimited())...)))
	}
	closeWith := func(v string) Case {
		return tc(MUST, "\"Connection: "+v+"\" closes after the response",
			"The close option (case-insensitive, anywhere in the list) makes the server close after this response.",
			send(get("/", "Connection: "+v)), expect(servedThenClose()...))
	}
	persist := group("9112", "9.3",
		tc(SHOULD, "HTTP/1.1 connection persists",
			"HTTP/1.1 defaults to persistent connections: a second request on the same connection is served.",
			send(simple), expect(served()...), send(simple), expect(served()...)),
		tc(SHOULD, "explicit keep-alive persists",
			"\"Connection: keep-alive\" on HTTP/1.1 keeps the default persistence.",
			send(get("/", "Connection: keep-alive")), expect(served()...), send(simple), expect(served()...)),
		tc(SHOULD, "a closing server says so",
			"If the server closes after a response to HTTP/1.1 without close from the client, the response says Connection: close.",
			send(simple), expect(open(ok()), closed(ok(hasToken("Connection", "close"))))),
		tc(MUST, "HTTP/1.0 closes by default",
			"Without keep-alive, an HTTP/1.0 connection closes after the response.",
			send("GET / HTTP/1.0\r\n\r\n"), expect(servedThenClose()...)),
		tc(MUST, "HTTP/1.0 second request is not processed",
			"A request pipelined after an HTTP/1.0 request without keep-alive is not answered: the server closes.",
			send("GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n"), expect(servedThenClose()...)),
		tc(SHOULD, "HTTP/1.0 keep-alive is answered or declined clearly",
			"Persistence for HTTP/1.0 needs \"Connection: keep-alive\" in both request and response; otherwise the server closes.",
			send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
			expect(closed(ok()), open(ok(hasToken("Connection", "keep-alive"))))),
		tc(MUST, "HTTP/1.0 response framing does not use chunked",
			"A response to HTTP/1.0 carries no Transfer-Encoding.",
			send("GET / HTTP/1.0\r\n\r\n"), expect(served(notChunked())...)),
		tc(MUST, "five connections in a row",
			"A new connection after a closed one is served: the server goes back to accepting.",
			send(simple), expect(served()...), reconnect(), send(simple), expect(served()...), reconnect(),
			send(simple), expect(served()...), reconnect(), send(simple), expect(served()...), reconnect(),
			send(simple), expect(served()...)),
		tc(SHOULD, "half-close after a complete request",
			"A client that shuts down its sending side after a full request still gets the response.",
			sendShut(simple), expect(served()...)),
		tc(SHOULD, "half-close after two pipelined requests",
			"Both requests received before the client's FIN are answered.",
			sendShut(simple+simple), expect(anyEnd(oks(2)...))),
	)
	pipe := group("9112", "9.3.2",
		pipeline(2), pipeline(8), pipeline(32), pipeline(64),
		tc(MUST, "pipelined requests split across segments",
			"The second request arriving half with the first and half later is still answered.",
			sendSplit(simple+simple, 30*time.Millisecond, len(simple)+7), expect(anyEnd(oks(2)...))),
		tc(MUST, "pipelined POST bodies come back in order",
			"Responses to pipelined requests keep the order of the requests.",
			send(post("/echo", "first")+post("/echo", "second")+post("/echo", "third")),
			expect(anyEnd(ok(bodyIs("first")), ok(bodyIs("second")), ok(bodyIs("third"))))).needing(NeedEcho),
		tc(MUST, "a slow request keeps its place in the pipeline",
			"A quick request after a slow one is answered after it.",
			send(get("/sleep/50")+get("/status/202")), expect(anyEnd(want(Status(200)), want(Status(202))))).needing(NeedEcho),
		tc(MUST, "statuses come back in request order",
			"Different responses to pipelined requests are not reordered.",
			send(get("/status/203")+get("/status/201")+get("/status/202")),
			expect(anyEnd(want(Status(203)), want(Status(201)), want(Status(202))))).needing(NeedEcho),
		tc(MUST, "invalid request after a valid one",
			"The valid request is answered first; the invalid one after it gets 400 or a close.",
			send(simple+"GET / HTTP/1.1\r\nHost: forkproof.test\r\nBad Header\r\n\r\n"),
			expect(closed(ok(), want(Status(400))), closed(ok()), warned(open(ok(), want(Status(400))), "400 but the connection stays open after a syntax error"))),
		tc(MUST, "invalid request after two valid ones",
			"Requests before the bad one are answered, in order.",
			send(simple+simple+"GET /\x00 HTTP/1.1\r\nHost: forkproof.test\r\n\r\n"),
			expect(closed(ok(), ok(), want(Status(400))), closed(ok(), ok()), warned(open(ok(), ok(), want(Status(400))), "400 but the connection stays open after a syntax error"))),
		tc(MUST, "garbage after a valid request",
			"Bytes that are no request after a valid one do not cost the valid one its response.",
			send(simple+"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"),
			expect(closed(ok(), want(Status(400))), closed(ok()), warned(open(ok(), want(Status(400))), "400 but the connection stays open after a syntax error"))),
	)
	closing := group("9112", "9.6",
		closeWith("close"),
		closeWith("Close"),
		closeWith("CLOSE"),
		closeWith("keep-alive, close"),
		closeWith("close, keep-alive"),
		closeWith("x-option, close"),
		closeWith(" \tclose\t "),
		tc(MUST, "close in a second Connection line",
			"Connection lines combine into one list: close in either line counts.",
			send(get("/", "Connection: x-option", "Connection: close")), expect(servedThenClose()...)),
		tc(SHOULD, "response to close carries Connection: close",
			"The server announces the close in its final response.",
			send(get("/", "Connection: close")), expect(closed(ok(hasToken("Connection", "close"))))),
		tc(MUST, "no request is processed after close",
			"A request pipelined after one with Connection: close is not answered.",
			send(get("/", "Connection: close")+simple), expect(servedThenClose()...)),
		tc(MUST, "close after a Content-Length body",
			"close applies to a request with a body too.",
			send(post("/echo", "bye", "Connection: close")), expect(servedThenClose(bodyIs("bye"))...)).needing(NeedEcho),
		tc(MUST, "close after a chunked body",
			"close applies after a chunked body has been read.",
			send(postChunked("/echo", "3\r\nbye\r\n0\r\n\r\n", "Connection: close")), expect(servedThenClose(bodyIs("bye"))...)).needing(NeedEcho),
		tc(MUST, "close on the last of three pipelined requests",
			"Requests before the one with close are answered; the server closes after the last.",
			send(simple+simple+get("/", "Connection: close")), expect(closed(oks(3)...))),
		tc(MUST, "close on HEAD",
			"A HEAD with close gets its bodiless response, then the close.",
			send(req("HEAD", "/", "Connection: close")), expectM([]string{"HEAD"}, closed(ok(noBody())))),
	)
	return append(append(persist, pipe...), closing...)
}
