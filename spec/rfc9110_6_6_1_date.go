package spec

// Date (RFC 9110 §6.6.1): an origin server with a clock sends Date on every 2xx-4xx response.
func rfc9110Date() []Case {
	simple := get("/")
	head := req("HEAD", "/")
	notFound := "/forkproof-no-such-resource"
	// dated: whatever the status, a 2xx-4xx response carries Date; a 5xx may leave it out.
	dated := []Outcome{anyEnd(want(Range(200, 499), dateOK())), anyEnd(want(Class(5)))}

	return group("9110", "6.6.1",
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
}
