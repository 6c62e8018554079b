package spec

import (
	"fmt"
	"strings"
	"time"
)

// Sentences of RFC 9112 §7 (and the RFC 9110 rules they lean on) the chunked cases rest on.
var (
	s9112DecodeChunked = r9112("7.1", MUST,
		"A recipient MUST be able to parse and decode the chunked transfer coding.")
	s9112ChunkSizeOverflow = r9112("7.1", MUST,
		"Therefore, recipients MUST anticipate potentially large hexadecimal numerals and prevent parsing errors due to integer conversion overflows or precision loss due to integer representation.")
	s9112ChunkExtIgnore = r9112("7.1.1", MUST,
		"A recipient MUST ignore unrecognized chunk extensions.")
	s9110BWS = r9110("5.6.3", MUST,
		"A recipient MUST parse for such bad whitespace and remove it before interpreting the protocol element.")
	s9112TrailerNoMerge = r9112("7.1.2", MUST,
		"A recipient MUST NOT merge a received trailer field into the header section unless its corresponding header field definition explicitly permits and instructs how the trailer field value can be safely merged.")
)

// RFC 9112 §7.1: the chunked transfer coding — chunk sizes in hex, extensions, the last chunk
// and the trailer section. A recipient must decode it exactly. Decoding needs /echo to show the
// body; a broken body only needs POST /: the answer to it (400 and a close, or not) tells.
// Grammar errors rest on RFC 9112 §2.2's SHOULD 400 (a lenient reading warns); a MUST decides
// only where one applies: size overflow, a bare CR, an ignored extension, a merged trailer.
func rfc9112Chunked() []Case {
	echo := func(chunks string) string { return postChunked("/echo", chunks) }
	// Every case that needs /echo to see a body decoded has a twin judged by the next request
	// (byNext): the same chunks on POST /, a GET behind them.
	var tw twins
	root := func(chunks string) string { return postChunked("/", chunks) }
	good := func(s Sentence, title, requirement, chunks, body string) Case {
		return tw.of(rule(s, title, requirement, send(echo(chunks)), expect(served(bodyIs(body))...)).needing(NeedEcho),
			root(chunks))
	}
	decodes := func(title, requirement, chunks, body string) Case {
		return good(s9112DecodeChunked, title, requirement, chunks, body)
	}
	ignoresExt := func(title, requirement, chunks string) Case {
		return good(s9112ChunkExtIgnore, title, requirement, chunks, "hello").citing(s9112DecodeChunked)
	}
	// refusals lists what a server may do with a broken chunked body on POST /, which it may
	// answer before reading (a static resource does not need the body): 400 then close; an
	// answer, then close without reading on; an answer, then 400 for the body, then close.
	refusals := func(also ...Outcome) []Outcome {
		return append(then(append([]Outcome{closed(want(Status(400))), closed(want(anyStatus)),
			closed(want(anyStatus), want(Status(400))),
			warned(open(want(Status(400))), "400 but the connection stays open after a syntax error")}, also...)...),
			closedAfterPost(true, "a response"))
	}
	// broken sends a broken chunked body on POST / after a valid POST / (afterPost), so the
	// answer to POST itself is not mistaken for the answer to the body; a server that stays
	// open after answering read the body leniently.
	broken := func(s Sentence, title, chunks string, also ...Outcome) Case {
		return rule(s, "invalid chunked body: "+title,
			"A chunked body that breaks the grammar is refused (400, then close) or the connection closed; it is never decoded by guessing.",
			send(afterPost(postChunked("/", chunks))), expect(refusals(also...)...)).needing(NeedPostRoot)
	}
	bad := func(title, chunks string) Case {
		return broken(s9112Invalid400, title, chunks).citing(s9112DecodeChunked)
	}
	// tooBig: a chunk size beyond 64 bits is refused (400 or 413) or read as the huge size it
	// is (the server waits for the data); it never wraps around.
	tooBig := func(title, chunks string) Case {
		return broken(s9112ChunkSizeOverflow, title, chunks, closed(want(Status(413))), open())
	}
	// badThenRequest sends the broken body on POST / with a request after it: the bytes after
	// a broken body are never served as a request, unless the body was read leniently (warn).
	badThenRequest := func(s Sentence, title, chunks string, also ...Outcome) Case {
		return rule(s, "invalid chunked body before a pipelined request: "+title,
			"A broken chunked body is refused or the connection closed; the bytes after it are never served as a request.",
			send(afterPost(postChunked("/", chunks)+get("/"))), expect(refusals(also...)...)).needing(NeedPostRoot)
	}
	lenient := warned(anyEnd(want(anyStatus), ok()), "the broken line read leniently; the request after it served")
	hello := "5\r\nhello\r\n0\r\n\r\n"
	var ones strings.Builder
	for _, c := range "forkproof chunks one byte at a time" {
		fmt.Fprintf(&ones, "1\r\n%c\r\n", c)
	}
	ones.WriteString("0\r\n\r\n")
	big := repeat("abcdefghijklmnop", 4096)

	incompleteAt := func(title, part, rest string) Case {
		// Judged by the next request, the wait shows as the body completed after a pause.
		return tw.of(rule(s9112DecodeChunked, "server waits for "+title,
			"An unfinished chunked body is not a request yet: no answer, no close, until the rest arrives.",
			send(echo(part)), expect(waits()...), send(rest), expect(served(bodyIs("hello"))...)).needing(NeedEcho),
			root(part+rest), len(root(part)))
	}
	header := len(root("")) // where the body of a chunked POST / starts
	trailerCL := "5\r\nhello\r\n0\r\nContent-Length: 100\r\n\r\n"
	one, two := "3\r\none\r\n0\r\n\r\n", "3\r\ntwo\r\n0\r\n\r\n"
	cases := []Case{
		decodes("one chunk", "A chunked body is decoded to its data.", hello, "hello"),
		decodes("several chunks", "Chunks are concatenated in order.", "5\r\nhello\r\n1\r\n,\r\n6\r\n world\r\n0\r\n\r\n", "hello, world"),
		decodes("uppercase hex size", "Chunk sizes are hexadecimal, case-insensitive: \"A\" is ten.", "A\r\n0123456789\r\n0\r\n\r\n", "0123456789"),
		decodes("lowercase hex size", "\"a\" is ten.", "a\r\n0123456789\r\n0\r\n\r\n", "0123456789"),
		decodes("size with leading zeros", "\"0005\" is five.", "0005\r\nhello\r\n0\r\n\r\n", "hello"),
		decodes("35 one-byte chunks", "Many tiny chunks decode like one.", ones.String(), "forkproof chunks one byte at a time"),
		decodes("one 64 KiB chunk", "A large chunk (size 10000 hex) is read whole.", "10000\r\n"+big+"\r\n0\r\n\r\n", big),
		ignoresExt("chunk extension with a value", "Unknown chunk extensions are ignored.", "5;name=value\r\nhello\r\n0\r\n\r\n"),
		ignoresExt("chunk extension without a value", "An extension name alone is valid and ignored.", "5;name\r\nhello\r\n0\r\n\r\n"),
		ignoresExt("chunk extension with a quoted value", "A quoted-string extension value may hold ';' and spaces.", "5;name=\"a b;c\"\r\nhello\r\n0\r\n\r\n"),
		ignoresExt("several chunk extensions", "Extensions are a list; all are ignored.", "5;a=1;b=2;c\r\nhello\r\n0\r\n\r\n"),
		ignoresExt("whitespace around the extension separator", "Bad whitespace (BWS) before ';' and around '=' is parsed and removed.", "5 ; a = 1\r\nhello\r\n0\r\n\r\n").citing(s9110BWS),
		ignoresExt("extension on the last chunk", "The last chunk may carry extensions too.", "5\r\nhello\r\n0;end=1\r\n\r\n"),
		decodes("one trailer field", "A trailer section after the last chunk is parsed and the body is complete.", "5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n", "hello"),
		decodes("several trailer fields", "Every trailer line is consumed.", "5\r\nhello\r\n0\r\nX-T1: 1\r\nX-T2: 2\r\nX-T3: 3\r\n\r\n", "hello"),
		// A trailer Content-Length refused (400, then close) or the connection closed is safe.
		tw.add(rule(s9112TrailerNoMerge, "Content-Length in the trailer does not change framing",
			"A trailer field is not merged into the header section: a trailer Content-Length does not move the next request.",
			send(echo(trailerCL)+get("/")),
			expect(anyEnd(ok(bodyIs("hello")), ok()), closed(ok(bodyIs("hello"))), closed(want(Status(400))), closed())).needing(NeedEcho),
			// A trailer Content-Length refused (400, perhaps after answering the POST before
			// reading its body), or a close, is safe; a server that merged it waits for more.
			root(trailerCL), nil, 1, closed(want(Status(400))), closed(want(anyStatus), want(Status(400))), closed()),
		tw.add(rule(s9112DecodeChunked, "two chunked requests pipelined",
			"Each chunked body ends at its last chunk; the next request follows.",
			send(echo(one)+echo(two)),
			expect(anyEnd(ok(bodyIs("one")), ok(bodyIs("two"))))).needing(NeedEcho),
			root(one)+root(two), nil, 2),
		tw.of(rule(s9112DecodeChunked, "chunked body split inside a chunk size",
			"A chunk-size line cut across segments is completed, not misread.",
			sendSplit(echo("10\r\n0123456789abcdef\r\n0\r\n\r\n"), 20*time.Millisecond, len(echo(""))+1),
			expect(served(bodyIs("0123456789abcdef"))...)).needing(NeedEcho),
			root("10\r\n0123456789abcdef\r\n0\r\n\r\n"), header+1),
		tw.of(rule(s9112DecodeChunked, "chunked body split inside chunk data and its CRLF",
			"Chunk data and the CRLF after it may arrive in different segments.",
			sendSplit(echo(hello), 20*time.Millisecond, len(echo(""))+5, len(echo(""))+9),
			expect(served(bodyIs("hello"))...)).needing(NeedEcho),
			root(hello), header+5, header+9),
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
		tooBig("size overflowing 64 bits (wraps to 5)", "10000000000000005\r\nhello\r\n0\r\n\r\n"),
		tooBig("size of eighteen f", "ffffffffffffffffff\r\nhello\r\n0\r\n\r\n"),
		bad("data followed by a byte instead of CRLF", "5\r\nhelloX\r\n0\r\n\r\n"),
		bad("data longer than the size", "5\r\nhello world\r\n0\r\n\r\n"),
		bad("data shorter than the size", "5\r\nhel\r\n0\r\n\r\n"),
		bad("LF alone after data", "5\r\nhello\n0\r\n\r\n"),
		bad("LF alone after the size", "5\nhello\r\n0\r\n\r\n"),
		bad("LF alone after the last chunk", "5\r\nhello\r\n0\n\n"),
		broken(s9112BareCR, "CR alone after the size", "5\rhello\r\n0\r\n\r\n").citing(s9112DecodeChunked),
		bad("NUL in an extension", "5;a\x00b\r\nhello\r\n0\r\n\r\n"),
		bad("extension without a name", "5;=1\r\nhello\r\n0\r\n\r\n"),
		bad("unterminated quoted extension", "5;a=\"b\r\nhello\r\n0\r\n\r\n"),
		bad("trailer line without a colon", "5\r\nhello\r\n0\r\nBad Trailer\r\n\r\n"),
		// §5.1's MUST names header fields; a trailer field is judged by §2.2's SHOULD.
		bad("space before the colon in a trailer", "5\r\nhello\r\n0\r\nX-T : 1\r\n\r\n").citing(s9112WSBeforeColon),
		rule(s9112ObsFold, "obs-fold in a trailer",
			"A folded trailer line is refused, or unfolded (replacing obs-fold with SP is legal) and the request after it served; never misread.",
			send(afterPost(postChunked("/", "5\r\nhello\r\n0\r\nX-T: a\r\n b\r\n\r\n")+get("/"))),
			expect(refusals(noted(anyEnd(want(anyStatus), ok()), "folded trailer accepted (unfolding is legal)"))...)).needing(NeedPostRoot),
		rule(s9112DecodeChunked, "chunk larger than what arrived before the half-close",
			"A chunk cut short by the client's close is an incomplete message: never processed.",
			sendShut(echo("ff\r\nhello")), expect(closed(want(Status(400))), closed(want(Status(408))), closed(want(Range(400, 599))), closed())).needing(NeedEcho),
		rule(s9112DecodeChunked, "no last chunk before the half-close",
			"A chunked body without its zero-size last chunk is incomplete.",
			sendShut(echo("5\r\nhello\r\n")), expect(closed(want(Status(400))), closed(want(Status(408))), closed(want(Range(400, 599))), closed())).needing(NeedEcho),
		badThenRequest(s9112Invalid400, "non-hex suffix", "5x\r\nhello\r\n0\r\n\r\n", lenient),
		badThenRequest(s9112Invalid400, "LF alone after the size", "5\nhello\r\n0\r\n\r\n", lenient),
		badThenRequest(s9112Invalid400, "no CRLF after data", "5\r\nhelloXX0\r\n\r\n", lenient),
		badThenRequest(s9112ChunkSizeOverflow, "size overflowing 64 bits", "10000000000000005\r\nhello\r\n0\r\n\r\n",
			closed(want(Status(413))), open()),
	}
	// Appended (issue 12): chunk lines in the forms real parsers get wrong. They come after
	// the twins, since a case's ID is its position; the valid one's own twin joins tw (built
	// first, so it lands after the existing twins).
	more := []Case{
		ignoresExt("HTAB before the extension separator", "BWS is SP or HTAB: \"5\\t;a=1\" is a size of 5 with an ignored extension.", "5\t;a=1\r\nhello\r\n0\r\n\r\n").citing(s9110BWS),
		bad("trailing HTAB without extension", "5\t\r\nhello\r\n0\r\n\r\n"),
		bad("\";\" with no extension name", "5;\r\nhello\r\n0\r\n\r\n"),
		bad("extension without \";\"", "5 a=1\r\nhello\r\n0\r\n\r\n"),
		bad("quote closing an unquoted extension value", "5;a=b\"\r\nhello\r\n0\r\n\r\n"),
		bad("LF alone after an extension", "5;a=1\nhello\r\n0\r\n\r\n"),
		// The GET behind the chunk is where the next chunk-size line belongs: "GET / HTTP/1.1"
		// is no size. A server that serves it ended the body without its last chunk, which is
		// not decoding the chunked coding (RFC 9112 §7.1's MUST), and lets a request hide in a
		// body.
		rule(s9112DecodeChunked, "invalid chunked body before a pipelined request: no last chunk",
			"A chunked body ends only at its zero-size last chunk: the request line after a chunk is read as a (broken) chunk-size line and refused, never served.",
			send(afterPost(postChunked("/", "5\r\nhello\r\n")+get("/"))), expect(refusals()...)).
			citing(s9112Invalid400).needing(NeedPostRoot),
	}
	return group("9112", "7.1", append(append(cases, tw...), more...)...)
}
