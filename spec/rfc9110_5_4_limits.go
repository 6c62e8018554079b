package spec

import (
	"strconv"
	"strings"
)

// Size limits: RFC 9112 §3 (request-line length; 414 for a target too long) and RFC 9110 §5.4
// (a header section larger than the server wishes to process gets a 4xx). Whatever the limit,
// the server is still alive afterwards: the case reconnects and a plain GET must succeed.
func rfc9110Limits() []Case {
	// overLimit: a 4xx, or acceptance; closing without any response skips the 4xx the RFC asks
	// for (warn). Then a new connection must be served: a crashed server fails.
	overLimit := func(title, requirement, request string) Case {
		return tc(MUST, title, requirement,
			send(request),
			expect(anyEnd(want(Class(4))), anyEnd(want(Status(501))), anyEnd(ok()), warned(closed(), "close without a 4xx response")),
			reconnect(), send(get("/")), expect(served()...))
	}
	fields := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteString("X-Many-" + strconv.Itoa(i) + ": v\r\n")
		}
		return b.String()
	}
	return group("9110", "5.4",
		tc(SHOULD, "request line of 4000 bytes is served",
			"Request lines of at least 8000 octets are recommended to be supported; a 4000-byte query is ordinary.",
			send(get("/?q="+repeat("q", 4000))), expect(served()...)),
		tc(SHOULD, "field value of 4 KiB is served",
			"A 4 KiB cookie-sized field is within every reasonable limit.",
			send(get("/", "Cookie: c="+repeat("c", 4096))), expect(served()...)),
		overLimit("request line of 9000 bytes",
			"A request line over 8 KiB is either served or refused with a 4xx (414 for a long target); the server survives.",
			get("/"+repeat("a", 9000))),
		overLimit("request line of 64 KiB",
			"A 64 KiB request line is refused (414) or served, never a crash.",
			get("/"+repeat("a", 65536))),
		overLimit("method of 9000 bytes",
			"An absurdly long method is refused with a 4xx or 501, never a crash.",
			req(repeat("M", 9000), "/")),
		overLimit("one field of 64 KiB",
			"A field larger than the server wishes to process gets a 4xx (431); the server survives.",
			get("/", "X-Big: "+repeat("b", 65536))),
		overLimit("field name of 16 KiB",
			"A huge field name is refused with a 4xx or accepted; the server survives.",
			get("/", repeat("N", 16384)+": v")),
		overLimit("1000 fields",
			"Too many fields get 431 (or are accepted); the server survives.",
			"GET / HTTP/1.1\r\n"+host+fields(1000)+"\r\n"),
		overLimit("header section of 256 KiB in 4 KiB fields",
			"A header section far beyond any limit is refused; the server survives.",
			"GET / HTTP/1.1\r\n"+host+strings.Repeat("X-Pad: "+repeat("p", 4096)+"\r\n", 64)+"\r\n"),
		overLimit("10000 empty lines before the request",
			"A flood of empty lines is ignored or refused; the server survives and does not spin.",
			repeat("\r\n", 10000)+get("/")),
	)
}
