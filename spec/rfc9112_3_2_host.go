package spec

import "fmt"

// Sentences of RFC 9112 §3.2.2 that the sentence table does not hold.
var (
	s9112AbsoluteAccept = r9112("3.2.2", MUST,
		"A server MUST accept the absolute-form in requests even though most HTTP/1.1 clients will only send the absolute-form to a proxy.")
	s9112AbsoluteHost = r9112("3.2.2", MUST,
		"When an origin server receives a request with an absolute-form of request-target, the origin server MUST ignore the received Host header field (if any) and instead use the host information of the request-target.")
)

// parsedValid: outcomes for a valid request whose parsing is the point. 2xx passes; a 421
// (an authority the server does not serve) or another 4xx but 400 is a refusal of the
// resource or the authority, not of the syntax (recorded); a 400 says a value that matches the
// grammar could not be parsed: RFC 9110 §2.2's MUST.
func parsedValid(checks ...check) []Outcome {
	return []Outcome{
		anyEnd(ok(checks...)),
		anyEnd(want(Status(421))),
		noted(anyEnd(want(Range(401, 499))), "4xx other than 400: refused for the resource or the authority, not the syntax"),
	}
}

// RFC 9112 §3.2 (request-target forms and Host) with RFC 9110 §7.2: an HTTP/1.1 request carries
// exactly one valid Host; absolute-form is accepted from anyone. The Host rules are HTTP/1.1's
// (RFC 9112): a server that speaks HTTP/1.0 is not judged by them.
func rfc9112Host() []Case {
	host400 := func(title, requirement string, steps ...Step) Case {
		return rule(s9112Host400, title, requirement, steps...).needing(NeedHTTP11)
	}
	// Every value here is outside Host = uri-host [ ":" port ] (RFC 3986: IP-literal,
	// IPv4address or reg-name of unreserved, pct-encoded and sub-delims; port = *DIGIT).
	badHost := func(v, why string) Case {
		return host400("invalid Host value: "+why,
			"A Host field value outside uri-host [\":\" port] is answered 400.",
			send(raw("GET / HTTP/1.1", "Host: "+v)), expect(must400()...))
	}
	goodHost := func(v, why string) Case {
		return rule(s9110ParseGrammar, "valid Host value: "+why,
			"A Host made of a reg-name, IP literal or address with an optional port is accepted (400 would call valid syntax invalid).",
			send(raw("GET / HTTP/1.1", "Host: "+v)), expect(parsedValid()...))
	}
	return group("9112", "3.2",
		host400("HTTP/1.1 request without Host",
			"An HTTP/1.1 request lacking Host is answered 400.",
			send("GET / HTTP/1.1\r\n\r\n"), expect(must400()...)),
		host400("HTTP/1.1 request without Host but with other fields",
			"Other fields do not stand in for Host.",
			send(raw("GET / HTTP/1.1", "Accept: */*", "User-Agent: forkproof")), expect(must400()...)),
		host400("two Host fields with the same value",
			"More than one Host field line is answered 400, even when the values agree.",
			send(raw("GET / HTTP/1.1", "Host: forkproof.test", "Host: forkproof.test")), expect(must400()...)),
		host400("two Host fields with different values",
			"Two Hosts naming different authorities are answered 400: routing would be ambiguous.",
			send(raw("GET / HTTP/1.1", "Host: forkproof.test", "Host: other.test")), expect(must400()...)),
		host400("two Host fields differing in name case",
			"Field names are case-insensitive: \"Host\" and \"host\" are two Host fields.",
			send(raw("GET / HTTP/1.1", "Host: forkproof.test", "host: other.test")), expect(must400()...)),
		host400("two Host fields separated by other fields",
			"Duplicate Host lines are caught wherever they are.",
			send(raw("GET / HTTP/1.1", "Host: forkproof.test", "Accept: */*", "Host: forkproof.test")), expect(must400()...)),
		// "," is a sub-delim and may appear in a reg-name; the SP after it may not.
		host400("Host as a comma list",
			"\"a, b\" is not a valid Host: the space is outside reg-name (and it names two authorities).",
			send(raw("GET / HTTP/1.1", "Host: forkproof.test, other.test")), expect(must400()...)),
		badHost("forkproof test", "space"),
		badHost("forkproof.test/path", "slash"),
		badHost("user@forkproof.test", "userinfo"),
		badHost("forkproof.test?q", "question mark"),
		badHost("forkproof.test#f", "hash"),
		badHost("[::1", "unclosed IP literal"),
		badHost("forkproof.test:80a", "non-digit port"),
		badHost("forkproof.test:80:80", "two ports"),
		badHost("http://forkproof.test", "a URI"),
		badHost("forkproof\"test", "double quote"),
		badHost("forkproof<test>", "angle brackets"),
		badHost("forkproof\\test", "backslash"),
		badHost("%zz.test", "bad percent-encoding"),
		goodHost("forkproof.test:8080", "with port"),
		goodHost("127.0.0.1", "IPv4 address"),
		goodHost("[::1]:80", "IPv6 literal with port"),
		goodHost("FORKPROOF.TEST", "uppercase"),
		rule(s9110ParseGrammar, "Host field name in uppercase",
			"\"HOST\" is the Host field: names are case-insensitive.",
			send(raw("GET / HTTP/1.1", "HOST: forkproof.test")), expect(parsedValid()...)),
		// OWS is SP or HTAB on either side of a field value (RFC 9112 §5).
		rule(s9110ParseGrammar, "Host value with surrounding whitespace",
			"Optional whitespace (SP and HTAB) around a value is not part of it: the Host is valid.",
			send(raw("GET / HTTP/1.1", "Host: \t forkproof.test \t")), expect(parsedValid()...)),
		rule(s9110ParseGrammar, "HTTP/1.0 request without Host is served",
			"Host is required of HTTP/1.1 requests only: an HTTP/1.0 request without it is valid.",
			send("GET / HTTP/1.0\r\n\r\n"), expect(parsedValid()...)).
			citing(s9112Host400),
		// A 404 means the server looked up the whole URI as a path: it did not take the
		// absolute-form for the target it names ("/" exists).
		rule(s9112AbsoluteAccept, "absolute-form target is accepted",
			"A server accepts the absolute-form even though clients send it only to proxies (or says 421 for a foreign authority).",
			send(raw("GET http://forkproof.test/ HTTP/1.1", "Host: forkproof.test")),
			expect(anyEnd(ok()), anyEnd(want(Status(421))))).needing(NeedHTTP11),
		rule(s9112AbsoluteHost, "absolute-form with a different Host",
			"When the target has an authority, it wins over Host; the request is not refused for the mismatch.",
			send(raw("GET http://forkproof.test/ HTTP/1.1", "Host: other.test")),
			expect(anyEnd(ok()), anyEnd(want(Status(421))))).
			citing(s9112AbsoluteAccept).needing(NeedHTTP11),
		host400("absolute-form without Host",
			"Absolute-form does not excuse an HTTP/1.1 request from sending Host.",
			send(raw("GET http://forkproof.test/ HTTP/1.1")), expect(must400()...)),
		// Schemes are case-insensitive (RFC 3986 §3.1): "HTTP://" is a valid absolute-form.
		rule(s9112AbsoluteAccept, "absolute-form with an uppercase scheme",
			"The scheme is case-insensitive: \"HTTP://forkproof.test/\" is the absolute-form of /.",
			send(raw("GET HTTP://forkproof.test/ HTTP/1.1", "Host: forkproof.test")),
			expect(anyEnd(ok()), anyEnd(want(Status(421))))).needing(NeedHTTP11),
		rule(s9112AbsoluteAccept, "absolute-form target reaches the application as its path",
			"The server routes an absolute-form target by its path.",
			send(raw("GET http://forkproof.test/reflect HTTP/1.1", "Host: forkproof.test")),
			expect(anyEnd(ok(reflects("the server saw a GET", func(x *reflected) error {
				if x.Method != "GET" {
					return fmt.Errorf("server saw method %q; want GET", x.Method)
				}
				return nil
			}))), anyEnd(want(Status(421))))).needing(NeedReflect),
		// A server that closes after the first response owes nothing more (RFC 9112 §9.6):
		// the runner skips what the close leaves unanswered.
		host400("missing Host in the second pipelined request",
			"Each request is judged on its own: the first is served, the second gets 400.",
			send(get("/")+"GET / HTTP/1.1\r\n\r\n"),
			expect(anyEnd(ok(), want(Status(400))))),
	)
}
