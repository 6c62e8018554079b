package wire

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

const incomplete = "EOF" // the want for an input that is only the start of a request

func ruleOf(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Rule
	case errors.Is(err, io.ErrUnexpectedEOF):
		return incomplete
	}
	return "other: " + err.Error()
}

// h is a minimal valid header section for HTTP/1.1.
const h = "Host: example.com\r\n"

var requestTests = []struct {
	in   string
	rule string // "" valid, incomplete, or the *Error rule
}{
	// Valid requests.
	{"GET / HTTP/1.1\r\n" + h + "\r\n", ""},
	{"GET /a/b?c=d&e=%20f HTTP/1.1\r\n" + h + "\r\n", ""},
	{"\r\nGET / HTTP/1.1\r\n" + h + "\r\n", ""},         // one leading empty line
	{"\r\n\r\n\r\nGET / HTTP/1.1\r\n" + h + "\r\n", ""}, // several
	{"GET / HTTP/1.0\r\n\r\n", ""},                      // HTTP/1.0 needs no Host
	{"GET / HTTP/1.1\r\nHost:\r\n\r\n", ""},             // empty Host is allowed
	{"GET / HTTP/1.1\r\nHost: a.b:8080\r\n\r\n", ""},
	{"GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", ""},
	{"GET / HTTP/1.1\r\nHost: [2001:DB8:0:0:8:800:200C:417A]\r\n\r\n", ""},
	{"GET / HTTP/1.1\r\nHost: [::]\r\n\r\n", ""},
	{"GET / HTTP/1.1\r\nHost: [1:2:3:4:5:6:7::]\r\n\r\n", ""},
	{"GET / HTTP/1.1\r\nHost: [::ffff:192.0.2.1]:8080\r\n\r\n", ""},
	{"GET / HTTP/1.1\r\nHost: [1:2:3:4:5:6:192.0.2.1]\r\n\r\n", ""},
	{"GET / HTTP/1.1\r\nHost: [v1f.a-b:c!]\r\n\r\n", ""}, // IPvFuture
	{"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", ""},
	{"GET http://example.com/x?y HTTP/1.1\r\n" + h + "\r\n", ""},
	{"GET http://example.com HTTP/1.1\r\n" + h + "\r\n", ""},
	{"GET http://u:p@example.com:80/ HTTP/1.1\r\n" + h + "\r\n", ""},
	{"GET urn:isbn:123 HTTP/1.1\r\n" + h + "\r\n", ""},
	{"CONNECT example.com:443 HTTP/1.1\r\n" + h + "\r\n", ""},
	{"OPTIONS * HTTP/1.1\r\n" + h + "\r\n", ""},
	{"OPTIONS / HTTP/1.1\r\n" + h + "\r\n", ""},
	{"M-SEARCH / HTTP/1.1\r\n" + h + "\r\n", ""},  // any token is a method
	{"GET / HTTP/1.1\r\n" + h + "X:\r\n\r\n", ""}, // empty value
	{"GET / HTTP/1.1\r\n" + h + "X: \t a b \t \r\n\r\n", ""},
	{"GET / HTTP/1.1\r\n" + h + "X: caf\xc3\xa9\r\n\r\n", ""}, // obs-text
	{"GET / HTTP/1.1\r\n" + h + "X: \"q\" (c) ;=,\r\n\r\n", ""},
	{"POST / HTTP/1.1\r\n" + h + "Content-Length: 5\r\n\r\nhello", ""},
	{"POST / HTTP/1.1\r\n" + h + "Content-Length: 005\r\n\r\nhello", ""}, // leading zeros are digits
	{"POST / HTTP/1.1\r\n" + h + "Content-Length: 0\r\n\r\n", ""},
	{"POST / HTTP/1.1\r\n" + h + "Content-Length: 2\r\n\r\nhiGET", ""}, // next request follows
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", ""},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: Chunked\r\n\r\n0\r\n\r\n", ""},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: , chunked\r\n\r\n0\r\n\r\n", ""}, // empty list element
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n000\r\n\r\n", ""},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n1;a=b;c;d=\"x;y\\\"\"\r\nz\r\n0;e\r\n\r\n", ""},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n1 ; a = b\r\nz\r\n0\r\n\r\n", ""}, // BWS
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\nT: v\r\nU: w\r\n\r\n", ""},
	// Incomplete.
	{"", incomplete},
	{"\r\n", incomplete},
	{"GET / HTTP/1.1", incomplete},
	{"GET / HTTP/1.1\r", incomplete},
	{"GET / HTTP/1.1\r\n" + h, incomplete},
	{"POST / HTTP/1.1\r\n" + h + "Content-Length: 5\r\n\r\nhell", incomplete},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", incomplete},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n", incomplete},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello", incomplete},
	{"POST / HTTP/1.1\r\n" + h + "Content-Length: 999999999999\r\n\r\nx", incomplete},
	// Line terminators.
	{"GET / HTTP/1.1\n" + h + "\r\n", RuleBareLF},
	{"GET / HTTP/1.1\r\n" + h + "\n", RuleBareLF},
	{"\nGET / HTTP/1.1\r\n" + h + "\r\n", RuleBareLF},
	{"GET / HTTP/1.1\r\nX: a\rb\r\n" + h + "\r\n", RuleBareCR},
	{"GET /\r HTTP/1.1\r\n", RuleBareCR},
	{"GET / HTTP/1.1\r\rX", RuleBareCR}, // reported before the line ends
	// Request line.
	{"GET  / HTTP/1.1\r\n" + h + "\r\n", RuleRequestLine},
	{"GET / HTTP/1.1 \r\n" + h + "\r\n", RuleRequestLine},
	{"GET /  HTTP/1.1\r\n" + h + "\r\n", RuleRequestLine},
	{"GET /\r\n" + h + "\r\n", RuleRequestLine},
	{"GET\r\n\r\n", RuleRequestLine},
	{" GET / HTTP/1.1\r\n" + h + "\r\n", RuleRequestLine},
	{"GET example.com:443 HTTP/1.1\r\n" + h + "\r\n", ""}, // grammatically an absolute-URI with scheme "example.com"
	{"G(T / HTTP/1.1\r\n" + h + "\r\n", RuleMethod},
	{"GET\t/ HTTP/1.1\r\n" + h + "\r\n", RuleRequestLine},
	{"GET / HTTP/1.1\x00\r\n" + h + "\r\n", RuleVersion},
	{"GET / http/1.1\r\n" + h + "\r\n", RuleVersion},
	{"GET / HTTP/1.10\r\n" + h + "\r\n", RuleVersion},
	{"GET / HTTP/1\r\n" + h + "\r\n", RuleVersion},
	{"GET / HTTP/a.1\r\n" + h + "\r\n", RuleVersion},
	{"GET a HTTP/1.1\r\n" + h + "\r\n", RuleTarget},
	{"GET /a#frag HTTP/1.1\r\n" + h + "\r\n", RuleTarget},
	{"GET /a%2 HTTP/1.1\r\n" + h + "\r\n", RuleTarget},
	{"GET /a%zz HTTP/1.1\r\n" + h + "\r\n", RuleTarget},
	{"GET /a\"b HTTP/1.1\r\n" + h + "\r\n", RuleTarget},
	{"GET /\x7f HTTP/1.1\r\n" + h + "\r\n", RuleTarget},
	{"GET /\xff HTTP/1.1\r\n" + h + "\r\n", RuleTarget},
	{"GET * HTTP/1.1\r\n" + h + "\r\n", RuleTarget},
	{"GET 1example:443 HTTP/1.1\r\n" + h + "\r\n", RuleTarget}, // a scheme starts with a letter
	{"CONNECT / HTTP/1.1\r\n" + h + "\r\n", RuleTarget},
	{"CONNECT example.com HTTP/1.1\r\n" + h + "\r\n", RuleTarget},
	{"CONNECT :443 HTTP/1.1\r\n" + h + "\r\n", RuleTarget},
	{"GET http:///x HTTP/1.1\r\n" + h + "\r\n", RuleTarget},
	{"GET http:/x HTTP/1.1\r\n" + h + "\r\n", RuleTarget},
	{"GET http://a b HTTP/1.1\r\n" + h + "\r\n", RuleRequestLine},
	{"GET http://exa<mple/ HTTP/1.1\r\n" + h + "\r\n", RuleTarget},
	// Field lines.
	{"GET / HTTP/1.1\r\n" + h + "X : a\r\n\r\n", RuleSpaceColon},
	{"GET / HTTP/1.1\r\n" + h + "X\t: a\r\n\r\n", RuleSpaceColon},
	{"GET / HTTP/1.1\r\n" + h + ": a\r\n\r\n", RuleFieldName},
	{"GET / HTTP/1.1\r\n" + h + "X a: b\r\n\r\n", RuleFieldName},
	{"GET / HTTP/1.1\r\n" + h + "X(a): b\r\n\r\n", RuleFieldName},
	{"GET / HTTP/1.1\r\n" + h + "NoColon\r\n\r\n", RuleFieldName},
	{"GET / HTTP/1.1\r\n" + h + "X\x00: a\r\n\r\n", RuleFieldName},
	{"GET / HTTP/1.1\r\n" + h + "X: a\x00b\r\n\r\n", RuleFieldValue},
	{"GET / HTTP/1.1\r\n" + h + "X: a\x01b\r\n\r\n", RuleFieldValue},
	{"GET / HTTP/1.1\r\n" + h + "X: a\x7fb\r\n\r\n", RuleFieldValue},
	{"GET / HTTP/1.1\r\n" + h + "X: a\r\n b\r\n\r\n", RuleObsFold},
	{"GET / HTTP/1.1\r\n" + h + "X: a\r\n\tb\r\n\r\n", RuleObsFold},
	{"GET / HTTP/1.1\r\n " + h + "\r\n", RuleStartWS},
	// Host.
	{"GET / HTTP/1.1\r\n\r\n", RuleHost},
	{"GET / HTTP/1.1\r\n" + h + h + "\r\n", RuleHost},
	{"GET / HTTP/1.0\r\n" + h + "host: b\r\n\r\n", RuleHost},
	{"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", RuleHost},
	{"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", RuleHost},
	{"GET / HTTP/1.1\r\nHost: a:b\r\n\r\n", RuleHost},
	{"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", RuleHost},
	{"GET / HTTP/1.1\r\nHost: [:*1]:80\r\n\r\n", RuleHost}, // neither IPv6address nor IPvFuture
	{"GET / HTTP/1.1\r\nHost: [a-b]\r\n\r\n", RuleHost},
	{"GET / HTTP/1.1\r\nHost: [1:2:3:4:5:6:7:8:9]\r\n\r\n", RuleHost},
	{"GET / HTTP/1.1\r\nHost: [1:2:3:4:5:6:7]\r\n\r\n", RuleHost},
	{"GET / HTTP/1.1\r\nHost: [1:2:3:4:5:6:7::8]\r\n\r\n", RuleHost},
	{"GET / HTTP/1.1\r\nHost: [1::2::3]\r\n\r\n", RuleHost},
	{"GET / HTTP/1.1\r\nHost: [:::]\r\n\r\n", RuleHost},
	{"GET / HTTP/1.1\r\nHost: [12345::]\r\n\r\n", RuleHost},
	{"GET / HTTP/1.1\r\nHost: [::1.2.3.04]\r\n\r\n", RuleHost},
	{"GET / HTTP/1.1\r\nHost: [1.2.3.4::]\r\n\r\n", RuleHost},
	{"GET / HTTP/1.1\r\nHost: [fe80::1%25eth0]\r\n\r\n", RuleHost}, // RFC 6874 zones are not RFC 3986
	{"GET / HTTP/1.1\r\nHost: [v.a]\r\n\r\n", RuleHost},
	{"GET / HTTP/1.1\r\nHost: [v1.]\r\n\r\n", RuleHost},
	{"GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", RuleHost},
	// Content-Length.
	{"POST / HTTP/1.1\r\n" + h + "Content-Length: -1\r\n\r\n", RuleContentLength},
	{"POST / HTTP/1.1\r\n" + h + "Content-Length: +1\r\n\r\nx", RuleContentLength},
	{"POST / HTTP/1.1\r\n" + h + "Content-Length: 0x5\r\n\r\n", RuleContentLength},
	{"POST / HTTP/1.1\r\n" + h + "Content-Length: 1 2\r\n\r\n", RuleContentLength},
	{"POST / HTTP/1.1\r\n" + h + "Content-Length:\r\n\r\n", RuleContentLength},
	{"POST / HTTP/1.1\r\n" + h + "Content-Length: 5, 5\r\n\r\nhello", RuleContentLength},
	{"POST / HTTP/1.1\r\n" + h + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", RuleContentLength},
	{"POST / HTTP/1.1\r\n" + h + "Content-Length: 5\r\ncontent-length: 6\r\n\r\nhello", RuleContentLength},
	{"POST / HTTP/1.1\r\n" + h + "Content-Length: 99999999999999999999\r\n\r\n", RuleContentLength},
	// Transfer-Encoding.
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", RuleTECL},
	{"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", RuleTEHTTP10},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip\r\n\r\n", RuleTENotChunked},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked, gzip\r\n\r\n", RuleTENotChunked},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding:\r\n\r\n", RuleTENotChunked},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", RuleTEUnknown},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", RuleTEChunkedTwice},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", RuleTEChunkedTwice},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n", RuleTransferCoding},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chun ked\r\n\r\n0\r\n\r\n", RuleTransferCoding},
	// Chunked body.
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\nx\r\n", RuleChunkSize},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", RuleChunkSize},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n-5\r\n", RuleChunkSize},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n\r\n", RuleChunkSize},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n1000000000000000\r\n", RuleChunkSize},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n", RuleChunkSize},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n", RuleChunkExt},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n5;\r\nhello\r\n0\r\n\r\n", RuleChunkExt},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n5;a=\r\nhello\r\n0\r\n\r\n", RuleChunkExt},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n5;a=\"x\r\nhello\r\n0\r\n\r\n", RuleChunkExt},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n5;a b\r\nhello\r\n0\r\n\r\n", RuleChunkExt},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n", RuleChunkData},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXY", RuleChunkData}, // seen before any LF
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n", RuleBareLF},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\rX", RuleBareCR},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n0\r\nT : v\r\n\r\n", RuleSpaceColon},
	{"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n0\r\nT: v\r\n w\r\n\r\n", RuleObsFold},
}

func TestParseRequestTable(t *testing.T) {
	if len(requestTests) < 60 {
		t.Fatalf("%d rows; the brief asks for at least 60", len(requestTests))
	}
	for _, tt := range requestTests {
		req, n, err := ParseRequest([]byte(tt.in))
		if got := ruleOf(err); got != tt.rule {
			t.Errorf("For %q, rule = %q (%v); want %q", tt.in, got, err, tt.rule)
			continue
		}
		if err != nil {
			if req != nil || n != 0 {
				t.Errorf("For %q, error %v came with req %v, n %d", tt.in, err, req, n)
			}
			continue
		}
		if !bytes.Equal(req.Raw, []byte(tt.in[:n])) {
			t.Errorf("For %q, Raw = %q; want the %d bytes consumed", tt.in, req.Raw, n)
		}
		// Whatever parsed re-parses to the same parts from its canonical bytes.
		checkRequestRoundTrip(t, req)
	}
}

func checkRequestRoundTrip(t interface {
	Helper()
	Fatalf(string, ...any)
}, req *Request) {
	t.Helper()
	b := req.Bytes()
	again, n, err := ParseRequest(b)
	if err != nil {
		t.Fatalf("re-parsing %q: %v", b, err)
	}
	if n != len(b) {
		t.Fatalf("re-parsing %q consumed %d of %d bytes", b, n, len(b))
	}
	if d := diffRequest(req, again); d != "" {
		t.Fatalf("round trip of %q changed %s", b, d)
	}
}

func diffRequest(a, b *Request) string {
	switch {
	case a.Method != b.Method || a.Target != b.Target || a.Version != b.Version:
		return "the request line"
	case !sameFields(a.Header, b.Header):
		return "the header"
	case !bytes.Equal(a.Body, b.Body):
		return "the body"
	case a.Chunked != b.Chunked:
		return "Chunked"
	case !sameFields(a.Trailer, b.Trailer):
		return "the trailer"
	}
	return ""
}

func sameFields(a, b [][2]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseRequestParts(t *testing.T) {
	in := "\r\nPOST /up?x=1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nX-A:  1 \r\n\r\n" +
		"3;ext=v\r\nabc\r\n2\r\nde\r\n0\r\nT: t\r\n\r\nGET / HTTP/1.1\r\n"
	req, n, err := ParseRequest([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	next := strings.Index(in, "GET")
	if n != next {
		t.Errorf("n = %d; want %d (the next request starts there)", n, next)
	}
	want := &Request{
		Method: "POST", Target: "/up?x=1", Version: "HTTP/1.1",
		Header:  [][2]string{{"Host", "h"}, {"Transfer-Encoding", "chunked"}, {"X-A", "1"}},
		Body:    []byte("abcde"),
		Chunked: true,
		Trailer: [][2]string{{"T", "t"}},
	}
	if d := diffRequest(req, want); d != "" {
		t.Errorf("parts differ in %s: got %+v", d, req)
	}
	var e *Error
	_, _, err = ParseRequest([]byte("GET / HTTP/1.1\r\nHost: a\r\nX : y\r\n\r\n"))
	if !errors.As(err, &e) || e.Offset != 26 || !strings.Contains(e.Error(), "space-before-colon at byte 26") {
		t.Errorf("error %v; want space-before-colon at byte 26", err)
	}
}

func TestErrorOffsets(t *testing.T) {
	tests := []struct {
		in   string
		rule string
		off  int
	}{
		{"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", RuleHost, 25},
		{"GET / HTTP/1.1\r\nX: y\r\n\r\n", RuleHost, 24},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n", RuleContentLength, 26},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", RuleTECL, 45},
		{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", RuleTENotChunked, 26},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: \x00\r\n\r\n", RuleFieldValue, 28},
		{"GET /\x01 HTTP/1.1\r\n", RuleTarget, 5},
	}
	for _, tt := range tests {
		_, _, err := ParseRequest([]byte(tt.in))
		var e *Error
		if !errors.As(err, &e) || e.Rule != tt.rule || e.Offset != tt.off {
			t.Errorf("For %q, error %v; want %s at byte %d", tt.in, err, tt.rule, tt.off)
		}
	}
}
