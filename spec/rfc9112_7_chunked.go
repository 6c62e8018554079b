package spec

import (
	"fmt"
	"strings"
	"time"
)

// RFC 9112 §7.1: the chunked transfer coding — chunk sizes in hex, extensions, the last chunk
// and the trailer section. A recipient must decode it exactly; every sloppy reading is a way
// to hide one request inside another.
func rfc9112Chunked() []Case {
	echo := func(chunks string) string { return postChunked("/echo", chunks) }
	good := func(level Level, title, requirement, chunks, body string) Case {
		return tc(level, title, requirement, send(echo(chunks)), expect(served(bodyIs(body))...)).needing(NeedEcho)
	}
	bad := func(title, chunks string, codes ...int) Case {
		return tc(MUST, "invalid chunked body: "+title,
			"A chunked body that breaks the grammar is refused (400, then close); it is never decoded by guessing.",
			send(echo(chunks)), expect(rejected(codes...)...)).needing(NeedEcho)
	}
	// badGeneric sends the broken body on GET / with a request after it: a server may answer
	// the GET before reading the body and close, but it must never answer the request after it.
	badGeneric := func(title, chunks string) Case {
		return tc(MUST, "invalid chunked body before a pipelined request: "+title,
			"A broken chunked body is refused or the connection closed; the bytes after it are never served as a request.",
			send(raw("GET / HTTP/1.1", "Host: forkproof.test", "Transfer-Encoding: chunked")+chunks+get("/")),
			expect(append(rejected(), closed(ok()))...))
	}
	hello := "5\r\nhello\r\n0\r\n\r\n"
	var ones strings.Builder
	for _, c := range "forkproof chunks one byte at a time" {
		fmt.Fprintf(&ones, "1\r\n%c\r\n", c)
	}
	ones.WriteString("0\r\n\r\n")
	big := repeat("abcdefghijklmnop", 4096)

	incompleteAt := func(title, part, rest string) Case {
		return tc(MUST, "server waits for "+title,
			"An unfinished chunked body is not a request yet: no answer, no close, until the rest arrives.",
			send(echo(part)), expect(waits()...), send(rest), expect(served(bodyIs("hello"))...)).needing(NeedEcho)
	}
	return group("9112", "7.1",
		good(MUST, "one chunk", "A chunked body is decoded to its data.", hello, "hello"),
		good(MUST, "several chunks", "Chunks are concatenated in order.", "5\r\nhello\r\n1\r\n,\r\n6\r\n world\r\n0\r\n\r\n", "hello, world"),
		good(MUST, "uppercase hex size", "Chunk sizes are hexadecimal, case-insensitive: \"A\" is ten.", "A\r\n0123456789\r\n0\r\n\r\n", "0123456789"),
		good(MUST, "lowercase hex size", "\"a\" is ten.", "a\r\n0123456789\r\n0\r\n\r\n", "0123456789"),
		good(MUST, "size with leading zeros", "\"0005\" is five.", "0005\r\nhello\r\n0\r\n\r\n", "hello"),
		good(MUST, "35 one-byte chunks", "Many tiny chunks decode like one.", ones.String(), "forkproof chunks one byte at a time"),
		good(MUST, "one 64 KiB chunk", "A large chunk (size 10000 hex) is read whole.", "10000\r\n"+big+"\r\n0\r\n\r\n", big),
		good(MUST, "chunk extension with a value", "Unknown chunk extensions are ignored.", "5;name=value\r\nhello\r\n0\r\n\r\n", "hello"),
		good(MUST, "chunk extension without a value", "An extension name alone is valid and ignored.", "5;name\r\nhello\r\n0\r\n\r\n", "hello"),
		good(MUST, "chunk extension with a quoted value", "A quoted-string extension value may hold ';' and spaces.", "5;name=\"a b;c\"\r\nhello\r\n0\r\n\r\n", "hello"),
		good(MUST, "several chunk extensions", "Extensions are a list; all are ignored.", "5;a=1;b=2;c\r\nhello\r\n0\r\n\r\n", "hello"),
		good(MUST, "whitespace around the extension separator", "Bad whitespace (BWS) before ';' and around '=' is parsed and removed.", "5 ; a = 1\r\nhello\r\n0\r\n\r\n", "hello"),
		good(MUST, "extension on the last chunk", "The last chunk may carry extensions too.", "5\r\nhello\r\n0;end=1\r\n\r\n", "hello"),
		good(MUST, "one trailer field", "A trailer section after the last chunk is parsed and the body is complete.", "5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n", "hello"),
		good(MUST, "several trailer fields", "Every trailer line is consumed.", "5\r\nhello\r\n0\r\nX-T1: 1\r\nX-T2: 2\r\nX-T3: 3\r\n\r\n", "hello"),
		tc(MUST, "Content-Length in the trailer does not change framing",
			"A trailer field is not merged into the header section: a trailer Content-Length does not move the next request.",
			send(echo("5\r\nhello\r\n0\r\nContent-Length: 100\r\n\r\n")+get("/")),
			expect(anyEnd(ok(bodyIs("hello")), ok()), closed(ok(bodyIs("hello"))), closed(want(Status(400))), closed())).needing(NeedEcho),
		tc(MUST, "two chunked requests pipelined",
			"Each chunked body ends at its last chunk; the next request follows.",
			send(echo("3\r\none\r\n0\r\n\r\n")+echo("3\r\ntwo\r\n0\r\n\r\n")),
			expect(anyEnd(ok(bodyIs("one")), ok(bodyIs("two"))))).needing(NeedEcho),
		tc(MUST, "chunked body split inside a chunk size",
			"A chunk-size line cut across segments is completed, not misread.",
			sendSplit(echo("10\r\n0123456789abcdef\r\n0\r\n\r\n"), 20*time.Millisecond, len(echo(""))+1),
			expect(served(bodyIs("0123456789abcdef"))...)).needing(NeedEcho),
		tc(MUST, "chunked body split inside chunk data and its CRLF",
			"Chunk data and the CRLF after it may arrive in different segments.",
			sendSplit(echo(hello), 20*time.Millisecond, len(echo(""))+5, len(echo(""))+9),
			expect(served(bodyIs("hello"))...)).needing(NeedEcho),
		incompleteAt("the rest of chunk data", "5\r\nhel", "lo\r\n0\r\n\r\n"),
		incompleteAt("the last chunk", "5\r\nhello\r\n", "0\r\n\r\n"),
		incompleteAt("the end of the trailer section", "5\r\nhello\r\n0\r\n", "\r\n"),
		bad("non-hex suffix on the size", "5x\r\nhello\r\n0\r\n\r\n"),
		bad("\"0x\" prefix", "0x5\r\nhello\r\n0\r\n\r\n"),
		bad("plus sign", "+5\r\nhello\r\n0\r\n\r\n"),
		bad("minus sign", "-5\r\nhello\r\n0\r\n\r\n"),
		bad("leading space", " 5\r\nhello\r\n0\r\n\r\n"),
		bad("trailing space without extension", "5 \r\nhello\r\n0\r\n\r\n"),
		bad("empty size", "\r\nhello\r\n0\r\n\r\n"),
		bad("non-hex size", "g\r\nhello\r\n0\r\n\r\n"),
		bad("size overflowing 64 bits (wraps to 5)", "10000000000000005\r\nhello\r\n0\r\n\r\n", 400, 413),
		bad("size of eighteen f", "ffffffffffffffffff\r\nhello\r\n0\r\n\r\n", 400, 413),
		bad("data followed by a byte instead of CRLF", "5\r\nhelloX\r\n0\r\n\r\n"),
		bad("data longer than the size", "5\r\nhello world\r\n0\r\n\r\n"),
		bad("data shorter than the size", "5\r\nhel\r\n0\r\n\r\n"),
		bad("LF alone after data", "5\r\nhello\n0\r\n\r\n"),
		bad("LF alone after the size", "5\nhello\r\n0\r\n\r\n"),
		bad("LF alone after the last chunk", "5\r\nhello\r\n0\n\n"),
		bad("CR alone after the size", "5\rhello\r\n0\r\n\r\n"),
		bad("NUL in an extension", "5;a\x00b\r\nhello\r\n0\r\n\r\n"),
		bad("extension without a name", "5;=1\r\nhello\r\n0\r\n\r\n"),
		bad("unterminated quoted extension", "5;a=\"b\r\nhello\r\n0\r\n\r\n"),
		bad("trailer line without a colon", "5\r\nhello\r\n0\r\nBad Trailer\r\n\r\n"),
		bad("space before the colon in a trailer", "5\r\nhello\r\n0\r\nX-T : 1\r\n\r\n"),
		tc(MUST, "obs-fold in a trailer",
			"A folded trailer line is refused, or unfolded (legal but unsafe); never misread.",
			send(echo("5\r\nhello\r\n0\r\nX-T: a\r\n b\r\n\r\n")),
			expect(append(rejected(), warned(anyEnd(ok(bodyIs("hello"))), "2xx: folded trailer accepted"))...)).needing(NeedEcho),
		tc(MUST, "chunk larger than what arrived before the half-close",
			"A chunk cut short by the client's close is an incomplete message: never processed.",
			sendShut(echo("ff\r\nhello")), expect(closed(want(Status(400))), closed(want(Status(408))), closed())).needing(NeedEcho),
		tc(MUST, "no last chunk before the half-close",
			"A chunked body without its zero-size last chunk is incomplete.",
			sendShut(echo("5\r\nhello\r\n")), expect(closed(want(Status(400))), closed(want(Status(408))), closed())).needing(NeedEcho),
		badGeneric("non-hex suffix", "5x\r\nhello\r\n0\r\n\r\n"),
		badGeneric("LF alone after the size", "5\nhello\r\n0\r\n\r\n"),
		badGeneric("no CRLF after data", "5\r\nhelloXX0\r\n\r\n"),
		badGeneric("size overflowing 64 bits", "10000000000000005\r\nhello\r\n0\r\n\r\n"),
	)
}
