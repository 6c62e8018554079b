package spec

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/forkproof/forkproof/spec/wire"
)

// Sentences of RFC 9112 §9 and §6.1 the connection cases rest on, beyond sentences.go.
var (
	s9112PipelineOrder = r9112("9.3.2", MUST,
		"A server MAY process a sequence of pipelined requests in parallel if they all have safe methods (Section 9.2.1 of [HTTP]), but it MUST send the corresponding responses in the same order that the requests were received.")
	s9112CloseReceived = r9112("9.6", MUST,
		"A server that receives a \"close\" connection option MUST initiate closure of the connection (see below) after it sends the final response to the request that contained the \"close\" connection option. The server SHOULD send a \"close\" connection option in its final response on that connection. The server MUST NOT process any further requests received on that connection.")
	s9112CloseReceivedAnnounce = r9112("9.6", SHOULD,
		"The server SHOULD send a \"close\" connection option in its final response on that connection.")
	s9112PersistRules = r9112("9.3", None,
		"If the received protocol is HTTP/1.0, the \"keep-alive\" connection option is present, either the recipient is not a proxy or the message is a response, and the recipient wishes to honor the HTTP/1.0 \"keep-alive\" mechanism, the connection will persist after the current response; otherwise, The connection will close after the current response.")
	s9112NoTEto10 = r9112("6.1", MUST,
		"A server MUST NOT send a response containing Transfer-Encoding unless the corresponding request indicates HTTP/1.1 (or later minor revisions).")
)

// announcesClose: the response says the connection ends after it — "Connection: close", or an
// HTTP/1.0 response without keep-alive, which a recipient reads as closing (RFC 9112 §9.3).
func announcesClose() check {
	return check{"announces close", func(r *wire.Response) error {
		if hasOption(r, "close") || (r.Version == "HTTP/1.0" && !hasOption(r, "keep-alive")) {
			return nil
		}
		return fmt.Errorf("%s response with Connection = %q; want close announced", r.Version, r.Get("Connection"))
	}}
}

func hasOption(r *wire.Response, option string) bool {
	for _, v := range r.Get("Connection") {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), option) {
				return true
			}
		}
	}
	return false
}

// RFC 9112 §9: connection management — persistence (§9.3), pipelining (§9.3.2) and closing
// (§9.6). Responses come back in request order; "close" ends the connection after the
// response; HTTP/1.0 closes by default. Whether a server persists at all is graded once
// (9.3/1–2, SHOULD); elsewhere a server that announces close owes nothing after that
// response, and the runner skips what it leaves unanswered.
func rfc9112Connection() []Case {
	simple := get("/")
	pipeline := func(n int) Case {
		return rule(s9112PipelineOrder, "pipeline of "+strconv.Itoa(n)+" requests",
			"Requests sent back to back without waiting are each answered, in order.",
			send(strings.Repeat(simple, n)), expect(anyEnd(oks(n, selfDelimited())...)))
	}
	closeWith := func(v string) Case {
		return rule(s9112CloseReceived, "\"Connection: "+v+"\" closes after the response",
			"The close option (case-insensitive, anywhere in the list) makes the server close after this response.",
			send(get("/", "Connection: "+v)), expect(servedThenClose()...))
	}
	http10 := "RFC 9112 §9.3 says an HTTP/1.0 connection without keep-alive \"will close after the current response\", with no keyword: a server that keeps it open, or answers a second request on it, is warned."
	noSentence := "No RFC sentence covers it; a server that fails it is warned."
	persist := group("9112", "9.3",
		rule(s9112PersistShould, "HTTP/1.1 connection persists",
			"HTTP/1.1 defaults to persistent connections: a second request on the same connection is served.",
			send(simple), expect(open(ok()), warned(closed(ok()), "closed after the first response to HTTP/1.1")),
			send(simple), expect(served()...)),
		// Persistence itself is graded once, by 9.3/1: this case asks only whether the option
		// keeps it, so a server that never persists skips it.
		rule(s9112PersistShould, "explicit keep-alive persists",
			"\"Connection: keep-alive\" on HTTP/1.1 keeps the default persistence.",
			send(get("/", "Connection: keep-alive")),
			expect(open(ok()), warned(closed(ok()), "closed after \"Connection: keep-alive\" although it persists by default")),
			send(simple), expect(served()...)).needing(NeedPersist),
		rule(s9112CloseAnnounce, "a closing server says so",
			"If the server closes after a response to HTTP/1.1 without close from the client, the response says so: Connection: close, or HTTP/1.0 without keep-alive.",
			send(simple), expect(open(ok()), closed(ok(announcesClose())))).citing(s9112NoPersistClose),
		policy(http10, "HTTP/1.0 closes by default",
			"Without keep-alive, an HTTP/1.0 connection closes after the response.",
			send("GET / HTTP/1.0\r\n\r\n"), expect(servedThenClose()...)).quoting(s9112PersistRules),
		policy(http10, "HTTP/1.0 second request is not processed",
			"A request pipelined after an HTTP/1.0 request without keep-alive is not answered: the server closes.",
			send("GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n"), expect(servedThenClose()...)).quoting(s9112PersistRules),
		policy(http10, "HTTP/1.0 keep-alive is answered or declined clearly",
			"Persistence for HTTP/1.0 needs \"Connection: keep-alive\" in both request and response; otherwise the server closes.",
			send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
			expect(closed(ok()), open(ok(hasToken("Connection", "keep-alive"))))).quoting(s9112PersistRules),
		rule(s9112NoTEto10, "HTTP/1.0 response framing does not use chunked",
			"A response to HTTP/1.0 carries no Transfer-Encoding.",
			send("GET / HTTP/1.0\r\n\r\n"), expect(served(notChunked())...)),
		policy(noSentence+" A server that stops accepting after a few connections serves nobody.", "five connections in a row",
			"A new connection after a closed one is served: the server goes back to accepting.",
			send(simple), expect(served()...), reconnect(), send(simple), expect(served()...), reconnect(),
			send(simple), expect(served()...), reconnect(), send(simple), expect(served()...), reconnect(),
			send(simple), expect(served()...)),
		policy(noSentence+" A client's half-close (shutdown of its sending side) ends its requests, not its wish for the responses.", "half-close after a complete request",
			"A client that shuts down its sending side after a full request still gets the response.",
			sendShut(simple), expect(served()...)),
		policy(noSentence+" A client's half-close (shutdown of its sending side) ends its requests, not its wish for the responses.", "half-close after two pipelined requests",
			"Both requests received before the client's FIN are answered (a server that announces close after the first owes nothing more).",
			sendShut(simple+simple), expect(anyEnd(oks(2)...))).quoting(s9112CloseNoMore),
	)
	invalidAfter := func(title, requirement, request string, n int) Case {
		return rule(s9112PipelineOrder, title, requirement,
			send(strings.Repeat(simple, n)+request),
			expect(closed(append(oks(n), want(Status(400)))...), closed(oks(n)...),
				warned(open(append(oks(n), want(Status(400)))...), "400 but the connection stays open after a syntax error"))).
			citing(s9112Invalid400)
	}
	pipe := group("9112", "9.3.2",
		pipeline(2), pipeline(8), pipeline(32), pipeline(64),
		rule(s9112PipelineOrder, "pipelined requests split across segments",
			"The second request arriving half with the first and half later is still answered.",
			sendSplit(simple+simple, 30*time.Millisecond, len(simple)+7), expect(anyEnd(oks(2)...))),
		rule(s9112PipelineOrder, "pipelined POST bodies come back in order",
			"Responses to pipelined requests keep the order of the requests.",
			send(post("/echo", "first")+post("/echo", "second")+post("/echo", "third")),
			expect(anyEnd(ok(bodyIs("first")), ok(bodyIs("second")), ok(bodyIs("third"))))).needing(NeedEcho),
		rule(s9112PipelineOrder, "a slow request keeps its place in the pipeline",
			"A quick request after a slow one is answered after it.",
			send(get("/sleep/50")+get("/status/202")), expect(anyEnd(want(Status(200)), want(Status(202))))).needing(NeedSleep, NeedStatus),
		rule(s9112PipelineOrder, "statuses come back in request order",
			"Different responses to pipelined requests are not reordered.",
			send(get("/status/203")+get("/status/201")+get("/status/202")),
			expect(anyEnd(want(Status(203)), want(Status(201)), want(Status(202))))).needing(NeedStatus),
		invalidAfter("invalid request after a valid one",
			"The valid request is answered first; the invalid one after it gets 400 or a close.",
			"GET / HTTP/1.1\r\nHost: forkproof.test\r\nBad Header\r\n\r\n", 1),
		invalidAfter("invalid request after two valid ones",
			"Requests before the bad one are answered, in order.",
			"GET /\x00 HTTP/1.1\r\nHost: forkproof.test\r\n\r\n", 2),
		invalidAfter("garbage after a valid request",
			"Bytes that are no request after a valid one do not cost the valid one its response.",
			"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 1),
	)
	closing := group("9112", "9.6",
		closeWith("close"),
		closeWith("Close"),
		closeWith("CLOSE"),
		closeWith("keep-alive, close"),
		closeWith("close, keep-alive"),
		closeWith("x-option, close"),
		closeWith(" \tclose\t "),
		rule(s9112CloseReceived, "close in a second Connection line",
			"Connection lines combine into one list: close in either line counts.",
			send(get("/", "Connection: x-option", "Connection: close")), expect(servedThenClose()...)),
		rule(s9112CloseReceivedAnnounce, "response to close carries Connection: close",
			"The server announces the close in its final response (an HTTP/1.0 response without keep-alive announces it too).",
			send(get("/", "Connection: close")), expect(closed(ok(announcesClose())))),
		rule(s9112CloseReceived, "no request is processed after close",
			"A request pipelined after one with Connection: close is not answered.",
			send(get("/", "Connection: close")+simple), expect(servedThenClose()...)),
		rule(s9112CloseReceived, "close after a Content-Length body",
			"close applies to a request with a body too: whatever POST / answers, the server closes after it.",
			send(post("/", "bye", "Connection: close")+simple), expect(closed(want(anyStatus)))).needing(NeedPostRoot),
		rule(s9112CloseReceived, "close after a chunked body",
			"close applies after a chunked body: whatever POST / answers, the server closes after it.",
			send(postChunked("/", "3\r\nbye\r\n0\r\n\r\n", "Connection: close")+simple), expect(closed(want(anyStatus)))).needing(NeedPostRoot),
		rule(s9112CloseReceived, "close on the last of three pipelined requests",
			"Requests before the one with close are answered; the server closes after the last.",
			send(simple+simple+get("/", "Connection: close")), expect(closed(oks(3)...))).citing(s9112PipelineOrder),
		rule(s9112CloseReceived, "close on HEAD",
			"A HEAD with close gets its bodiless response, then the close.",
			send(req("HEAD", "/", "Connection: close")), expectM([]string{"HEAD"}, closed(ok(noBody())))).citing(s9110HeadNoContent),
	)
	return append(append(persist, pipe...), closing...)
}
