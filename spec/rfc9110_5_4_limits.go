package spec

import (
	"strconv"
	"strings"
)

// Sentences on sizes, beyond sentences.go's RFC 9110 §5.4.
var (
	s9112RequestLine8000 = r9112("3", SHOULD,
		"It is RECOMMENDED that all HTTP senders and recipients support, at a minimum, request-line lengths of 8000 octets.")
	s9112LongTarget414 = r9112("3", MUST,
		"A server that receives a request-target longer than any URI it wishes to parse MUST respond with a 414 (URI Too Long) status code (see Section 15.5.15 of [HTTP]).")
	s9112LongMethod501 = r9112("3", SHOULD,
		"A server that receives a method longer than any that it implements SHOULD respond with a 501 (Not Implemented) status code.")
)

// Size limits: RFC 9112 §3 (request-line length; 414 for a target too long) and RFC 9110 §5.4
// (a header section larger than the server wishes to process gets a 4xx). Any 4xx is legal for
// a size the server dislikes (431, 413, 414, 400); whatever the limit, the server is still alive
// afterwards: the case reconnects and a plain GET must succeed.
func rfc9110Limits() []Case {
	// limit sends request and judges it by the outcomes given, or a close without a response
	// (warn: RFC 9112 §9.5 lets a server close at any time, but the refusal that says why is
	// skipped); then a new connection must be served: a server that died never answered.
	limit := func(s Sentence, title, requirement, request string, outcomes ...Outcome) Case {
		return rule(s, title, requirement,
			send(request),
			expect(append(outcomes, warned(closed(), "close without a response"))...),
			reconnect(), send(get("/")), expect(served()...)).citing(s9112CloseAnyTime)
	}
	// overLimit: a 4xx, or acceptance; closing without any response skips the 4xx the RFC asks
	// for (warn: RFC 9112 §9.5 lets a server close at any time). Then a new connection must be
	// served: a server that died never sent its 4xx.
	overLimit := func(s Sentence, title, requirement, request string) Case {
		return limit(s, title, requirement, request, anyEnd(want(Class(4))), anyEnd(ok()),
			warned(anyEnd(want(Status(501))), "501: RFC 9110 §5.4 asks for a 4xx"))
	}
	fields := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteString("X-Many-" + strconv.Itoa(i) + ": v\r\n")
		}
		return b.String()
	}
	// read: the line was read whole — the resource it names was served, or is missing (a static
	// server takes the query for part of the file name: its 404 still shows the line was read).
	read := []Outcome{anyEnd(want(Range(200, 399))), anyEnd(want(Status(404)))}
	// headTooLarge: a server whose limit is on the whole head (request line included) refuses
	// it as too large (431), which RFC 9110 §5.4 allows for a head it does not wish to process;
	// RFC 9112 §3 names 414 for a target too long, which such a server never got to parse.
	headTooLarge := noted(anyEnd(want(Status(431))), "431: the whole head refused as too large (RFC 9110 §5.4), before the target was parsed")
	return group("9110", "5.4",
		rule(s9112RequestLine8000, "request line of 4000 bytes is served",
			"Request lines of at least 8000 octets are recommended to be supported; a 4000-byte line is read whole (2xx or 3xx, or 404 for the resource it names).",
			send(get("/?q="+repeat("q", 4000))), expect(read...)),
		policy("No RFC sentence sets a minimum field size; a 4 KiB field (a cookie) is ordinary, and refusing it is warned.",
			"field value of 4 KiB is served",
			"A 4 KiB cookie-sized field is within every reasonable limit.",
			send(get("/", "Cookie: c="+repeat("c", 4096))), expect(served()...)).quoting(s9110FieldTooLarge),
		limit(s9112LongTarget414, "request line of 9000 bytes",
			"A request line over 8 KiB whose length is its target is served (or 404 for the resource it names), or refused with 414: the status the MUST names for a target too long; the server survives.",
			get("/"+repeat("a", 9000)), append(read, anyEnd(want(Status(414))), headTooLarge)...),
		limit(s9112LongTarget414, "request line of 64 KiB",
			"A 64 KiB request line, all target, is refused with 414 (or served), never a crash.",
			get("/"+repeat("a", 65536)), append(read, anyEnd(want(Status(414))), headTooLarge)...),
		limit(s9112LongMethod501, "method of 9000 bytes",
			"An absurdly long method is refused with 501 (another 4xx is warned: the SHOULD names 501), never a crash.",
			req(repeat("M", 9000), "/"), anyEnd(want(Status(501))),
			warned(anyEnd(want(Class(4))), "refused with a 4xx other than the 501 RFC 9112 §3 asks for")),
		overLimit(s9110FieldTooLarge, "one field of 64 KiB",
			"A field larger than the server wishes to process gets a 4xx (431); the server survives.",
			get("/", "X-Big: "+repeat("b", 65536))),
		overLimit(s9110FieldTooLarge, "field name of 16 KiB",
			"A huge field name is refused with a 4xx or accepted; the server survives.",
			get("/", repeat("N", 16384)+": v")),
		overLimit(s9110FieldTooLarge, "1000 fields",
			"Too many fields get 431 (or are accepted); the server survives.",
			"GET / HTTP/1.1\r\n"+host+fields(1000)+"\r\n"),
		overLimit(s9110FieldTooLarge, "header section of 256 KiB in 4 KiB fields",
			"A header section far beyond any limit is refused; the server survives.",
			"GET / HTTP/1.1\r\n"+host+strings.Repeat("X-Pad: "+repeat("p", 4096)+"\r\n", 64)+"\r\n"),
		policy("RFC 9112 §2.2 asks a server to ignore at least one empty line before a request-line and sets no limit: ignoring a flood, refusing it (4xx) or closing (RFC 9112 §9.5) are all legal; a server that dies of it is warned.",
			"10000 empty lines before the request",
			"A flood of empty lines is ignored or refused, or the connection closed; the server survives and does not spin.",
			send(repeat("\r\n", 10000)+get("/")),
			expect(anyEnd(want(Class(4))), anyEnd(ok()), closed()),
			reconnect(), send(get("/")), expect(served()...)).quoting(s9112LeadingCRLF, s9112CloseAnyTime),
	)
}
