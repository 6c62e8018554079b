package spec

import (
	"fmt"

	"github.com/forkproof/forkproof/spec/wire"
)

// Sentences of RFC 9110 and 9112 the status-code cases rest on, beyond sentences.go.
var (
	s9110NoCLon204 = r9110("8.6", MUST,
		"A server MUST NOT send a Content-Length header field in any response with a status code of 1xx (Informational) or 204 (No Content).")
	s9112NoTEon204 = r9112("6.1", MUST,
		"A server MUST NOT send a Transfer-Encoding header field in any response with a status code of 1xx (Informational) or 204 (No Content).")
	s9110NoContent205 = r9110("15.3.6", MUST,
		"Since the 205 status code implies that no additional content will be provided, a server MUST NOT generate content in a 205 response.")
	s9110NoContent304 = r9110("15.4.5", None,
		"A 304 response is terminated by the end of the header section; it cannot contain content or trailers.")
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

// Status codes (RFC 9110 §15): bodiless statuses (204, 205, 304), statuses passed through, and
// the response's version (§6.2).
func rfc9110Status() []Case {
	simple := get("/")
	return group("9110", "15",
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
}
