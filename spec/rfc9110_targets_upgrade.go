package spec

import (
	"fmt"

	"github.com/forkproof/forkproof/spec/wire"
)

// Sentences of RFC 9110 §4.2.4, §7.8 and §9.3.6 and RFC 9112 §3.2.3 (issue 12: request
// families the peers test), beyond sentences.go.
var (
	s9110UserinfoError = r9110("4.2.4", SHOULD,
		"Before making use of an \"http\" or \"https\" URI reference received from an untrusted source, a recipient SHOULD parse for userinfo and treat its presence as an error; it is likely being used to obscure the authority for the sake of phishing attacks.")
	s9110UpgradeIgnore = r9110("7.8", MAY,
		"A server MAY ignore a received Upgrade header field if it wishes to continue using the current protocol on that connection.")
	s9110Upgrade101 = r9110("7.8", MUST,
		"A server that sends a 101 (Switching Protocols) response MUST send an Upgrade header field to indicate the new protocol(s) to which the connection is being switched; if multiple protocol layers are being switched, the sender MUST list the protocols in layer-ascending order. A server MUST NOT switch to a protocol that was not indicated by the client in the corresponding request's Upgrade header field.")
	s9110ConnectNoFraming = r9110("9.3.6", MUST,
		"A server MUST NOT send any Transfer-Encoding or Content-Length header fields in a 2xx (Successful) response to CONNECT.")
	s9112AuthorityForm = r9112("3.2.3", None,
		"The authority-form of request-target is only used for CONNECT requests (Section 9.3.6 of [HTTP]).")
)

// framedTunnel: a 2xx to CONNECT that carries Content-Length or Transfer-Encoding.
func framedTunnel() check {
	return check{"with Content-Length or Transfer-Encoding", func(r *wire.Response) error {
		if len(r.Get("Content-Length")) == 0 && len(r.Get("Transfer-Encoding")) == 0 {
			return fmt.Errorf("no Content-Length or Transfer-Encoding")
		}
		return nil
	}}
}

// RFC 9110 §4.2.4 (userinfo in an http URI), §7.8 (Upgrade) and §9.3.6 (CONNECT, with the
// authority-form of RFC 9112 §3.2.3): one group each, appended after the RFC 9110 groups.
func rfc9110TargetsUpgrade() []Case {
	userinfo := group("9110", "4.2.4",
		// Any 4xx treats the userinfo as an error. A 404 may also be a server that looked
		// the whole URI up as a path (see rfc9112/3.2's absolute-form cases): still an error.
		rule(s9110UserinfoError, "userinfo in an absolute-form target",
			"\"http://user:pass@forkproof.test/\" carries userinfo, which a sender must never generate: the server treats it as an error (a 4xx, or a close), it does not serve the resource.",
			send(raw("GET http://user:pass@forkproof.test/ HTTP/1.1", "Host: forkproof.test")),
			expect(anyEnd(want(Range(400, 499))), closed())).
			citing(s9112AbsoluteAccept).needing(NeedHTTP11),
	)

	// A protocol nobody implements: no server can rightly switch to anything else (§7.8's
	// MUST NOT), so a correct server ignores the field and the connection stays HTTP/1.1.
	// The GET behind the request is then a pipelined HTTP/1.1 request like any other, owed
	// its response in order (RFC 9112 §9.3.2's MUST decides: a server that took the Upgrade
	// as a switch and swallowed the bytes after it leaves the GET unanswered). A server that
	// closes after the first response owes nothing more: the runner skips the case.
	upgradeReq := get("/", "Connection: Upgrade", "Upgrade: forkproof-test/1") + nextRequest
	upgrade := group("9110", "7.8",
		rule(s9112PipelineOrder, "Upgrade to a protocol the server does not speak is ignored",
			"The server ignores the Upgrade (no 101) and answers as usual; the request after it on the same connection is answered too, its bytes never swallowed as another protocol's.",
			send(upgradeReq),
			expect(anyEnd(ok(), ok()),
				noted(anyEnd(want(Range(300, 599)), ok()), "not 2xx for the Upgrade request, but the connection stayed HTTP/1.1 and the next request was served"),
				noted(anyEnd(want(Status(101), hasToken("Upgrade", "forkproof-test/1"))), "101 to the protocol offered (what follows is that protocol's)"))).
			citing(s9110UpgradeIgnore, s9110Upgrade101).needing(NeedPersist),
	)

	// An origin server that does not tunnel answers CONNECT as a method it does not
	// implement (501) or does not allow here (405); 421 says the authority is not its own,
	// and a server that passes CONNECT to its handlers (Go) may find nothing there (404). A
	// 400 calls valid syntax invalid and a close leaves the request unanswered: both miss
	// §9.1's SHOULD (warn).
	// A 2xx is a tunnel: legal for a server that implements CONNECT, but then without any
	// Content-Length or Transfer-Encoding (the MUST NOT, which fails whatever the grade).
	connect := group("9110", "9.3.6",
		rule(s9110UnknownMethod, "CONNECT with an authority-form target",
			"CONNECT host:port to an origin server is answered 501 (not implemented) or 405 (not allowed), or 421 or 404 for an authority it does not serve; a 2xx starts a tunnel and carries neither Content-Length nor Transfer-Encoding.",
			send(raw("CONNECT forkproof.test:80 HTTP/1.1", "Host: forkproof.test:80")),
			expectM([]string{"CONNECT"},
				Outcome{Name: "2xx with Content-Length or Transfer-Encoding (RFC 9110 §9.3.6 MUST NOT)",
					Responses: []Want{want(Class(2), framedTunnel())}, Verdict: Fail},
				anyEnd(want(Status(501))), anyEnd(want(Status(405))),
				noted(anyEnd(want(Status(421))), "421: the authority is not one this server serves"),
				noted(anyEnd(want(Status(404))), "404: the method is implemented and nothing answers for that authority (as for any missing resource)"),
				noted(anyEnd(ok()), "2xx without framing fields: a tunnel (a server that implements CONNECT)"))).
			citing(s9110ConnectNoFraming, s9112AuthorityForm),
	)
	return append(append(userinfo, upgrade...), connect...)
}
