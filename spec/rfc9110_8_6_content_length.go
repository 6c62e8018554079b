package spec

// Sentences of RFC 9110 and 9112 the Content-Length cases rest on, beyond sentences.go (the
// methods cases cite them too).
var (
	s9110SenderGrammar = r9110("2.2", MUST,
		"A sender MUST NOT generate protocol elements that do not match the grammar defined by the corresponding ABNF rules.")
	s9112SelfDefinedLength = r9112("9.3", None,
		"In order to remain persistent, all messages on a connection need to have a self-defined message length (i.e., one not defined by closure of the connection), as described in Section 6.")
)

// Content-Length in responses (RFC 9110 §8.6): the length a response announces is the length
// it sends, so the next response starts right after.
func rfc9110ContentLength() []Case {
	simple := get("/")
	return group("9110", "8.6",
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
}
