package spec

import "fmt"

// RFC 9112 §3.2 (request-target forms and Host) with RFC 9110 §7.2: an HTTP/1.1 request carries
// exactly one valid Host; absolute-form is accepted from anyone.
func rfc9112Host() []Case {
	badHost := func(v, why string) Case {
		return tc(MUST, "invalid Host value: "+why,
			"A Host field value outside uri-host [\":\" port] is answered 400.",
			send(raw("GET / HTTP/1.1", "Host: "+v)), expect(must400()...))
	}
	goodHost := func(v, why string) Case {
		return tc(MUST, "valid Host value: "+why,
			"A Host made of a reg-name, IP literal or address with an optional port is accepted.",
			send(raw("GET / HTTP/1.1", "Host: "+v)), expect(served()...))
	}
	return group("9112", "3.2",
		tc(MUST, "HTTP/1.1 request without Host",
			"An HTTP/1.1 request lacking Host is answered 400.",
			send("GET / HTTP/1.1\r\n\r\n"), expect(must400()...)),
		tc(MUST, "HTTP/1.1 request without Host but with other fields",
			"Other fields do not stand in for Host.",
			send(raw("GET / HTTP/1.1", "Accept: */*", "User-Agent: forkproof")), expect(must400()...)),
		tc(MUST, "two Host fields with the same value",
			"More than one Host field line is answered 400, even when the values agree.",
			send(raw("GET / HTTP/1.1", "Host: forkproof.test", "Host: forkproof.test")), expect(must400()...)),
		tc(MUST, "two Host fields with different values",
			"Two Hosts naming different authorities are answered 400: routing would be ambiguous.",
			send(raw("GET / HTTP/1.1", "Host: forkproof.test", "Host: other.test")), expect(must400()...)),
		tc(MUST, "two Host fields differing in name case",
			"Field names are case-insensitive: \"Host\" and \"host\" are two Host fields.",
			send(raw("GET / HTTP/1.1", "Host: forkproof.test", "host: other.test")), expect(must400()...)),
		tc(MUST, "two Host fields separated by other fields",
			"Duplicate Host lines are caught wherever they are.",
			send(raw("GET / HTTP/1.1", "Host: forkproof.test", "Accept: */*", "Host: forkproof.test")), expect(must400()...)),
		tc(MUST, "Host as a comma list",
			"\"a, b\" is not a valid Host (space and two authorities).",
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
		tc(MUST, "Host field name in uppercase",
			"\"HOST\" is the Host field: names are case-insensitive.",
			send(raw("GET / HTTP/1.1", "HOST: forkproof.test")), expect(served()...)),
		tc(MUST, "Host value with surrounding whitespace",
			"Optional whitespace around a value is not part of it.",
			send(raw("GET / HTTP/1.1", "Host: \t forkproof.test \t")), expect(served()...)),
		tc(SHOULD, "HTTP/1.0 request without Host is served",
			"Host is required of HTTP/1.1 requests only.",
			send("GET / HTTP/1.0\r\n\r\n"), expect(served()...)),
		tc(MUST, "absolute-form target is accepted",
			"A server accepts the absolute-form even though clients send it only to proxies (or says 421 for a foreign authority).",
			send(raw("GET http://forkproof.test/ HTTP/1.1", "Host: forkproof.test")),
			expect(anyEnd(ok()), anyEnd(want(Status(421))))),
		tc(MUST, "absolute-form with a different Host",
			"When the target has an authority, it wins over Host; the request is not refused for the mismatch.",
			send(raw("GET http://forkproof.test/ HTTP/1.1", "Host: other.test")),
			expect(anyEnd(ok()), anyEnd(want(Status(421))))),
		tc(MUST, "absolute-form without Host",
			"Absolute-form does not excuse an HTTP/1.1 request from sending Host.",
			send(raw("GET http://forkproof.test/ HTTP/1.1")), expect(must400()...)),
		tc(SHOULD, "absolute-form with an uppercase scheme",
			"The scheme is case-insensitive.",
			send(raw("GET HTTP://forkproof.test/ HTTP/1.1", "Host: forkproof.test")),
			expect(anyEnd(ok()), anyEnd(want(Status(421))))),
		tc(MUST, "absolute-form target reaches the application as its path",
			"The server routes an absolute-form target by its path.",
			send(raw("GET http://forkproof.test/reflect HTTP/1.1", "Host: forkproof.test")),
			expect(anyEnd(ok(reflects("the server saw a GET", func(x *reflected) error {
				if x.Method != "GET" {
					return fmt.Errorf("server saw method %q; want GET", x.Method)
				}
				return nil
			}))), anyEnd(want(Status(421))))).needing(NeedReflect),
		tc(MUST, "missing Host in the second pipelined request",
			"Each request is judged on its own: the first is served, the second gets 400.",
			send(get("/")+"GET / HTTP/1.1\r\n\r\n"),
			expect(anyEnd(ok(), want(Status(400))), warned(closed(ok()), "second request closed without the required 400"))),
	)
}
