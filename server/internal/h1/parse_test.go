package h1

import (
	"strings"
	"testing"
)

// parseTests are raw requests and the status of the first response (0: no response, the
// connection just closes). Each is sent whole, then the client half-closes.
var parseTests = []struct {
	raw    string
	status int
}{
	// valid
	{"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 200},
	{"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", 200},
	{"GET / HTTP/1.0\r\n\r\n", 200},                                         // no Host needed in 1.0
	{"GET / HTTP/1.2\r\nHost: a\r\n\r\n", 200},                              // higher minor is 1.1
	{"GET /?x=1 HTTP/1.1\r\nHost: a\r\n\r\n", 200},                          // query
	{"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 200},                          // leading empty line
	{"\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 200},                  // a few
	{"GET / HTTP/1.1\r\nHost: a:8080\r\n\r\n", 200},                         // port
	{"GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", 200},                       // IPv6 literal
	{"GET / HTTP/1.1\r\nHost: [::ffff:192.0.2.1]\r\n\r\n", 200},             // with an IPv4 tail
	{"GET / HTTP/1.1\r\nHost: [v1f.a-b:c!]\r\n\r\n", 200},                   // IPvFuture
	{"GET / HTTP/1.1\r\nHost: \r\n\r\n", 200},                               // empty Host is allowed
	{"GET / HTTP/1.1\r\nhOsT: a\r\n\r\n", 200},                              // case-insensitive name
	{"GET / HTTP/1.1\r\nHost:a\r\n\r\n", 200},                               // no OWS
	{"GET / HTTP/1.1\r\nHost: a \t\r\n\r\n", 200},                           // trailing OWS
	{"GET / HTTP/1.1\r\nHost: a\r\nX: \x80\xff\r\n\r\n", 200},               // obs-text
	{"GET / HTTP/1.1\r\nHost: a\r\nX:\r\n\r\n", 200},                        // empty value
	{"GET / HTTP/1.1\r\nHost: a\r\nX: a b\tc\r\n\r\n", 200},                 // inner whitespace
	{"GET http://a/ HTTP/1.1\r\nHost: b\r\n\r\n", 200},                      // absolute-form
	{"GET HTTP://a:80 HTTP/1.1\r\nHost: b\r\n\r\n", 200},                    // scheme case, no path
	{"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 200},                          // asterisk-form
	{"OPTIONS / HTTP/1.1\r\nHost: a\r\n\r\n", 200},                          // OPTIONS
	{"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 200},    // empty body
	{"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", 200}, // body
	{"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 003\r\n\r\nabc", 200},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 200},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n", 200},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  chunked \r\n\r\n0\r\n\r\n", 200},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b;c\r\nabc\r\n0\r\n\r\n", 200},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3 ; a = \"q\\\"x\"\r\nabc\r\n0\r\n\r\n", 200},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\nT: v\r\n\r\n", 200}, // trailer
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n000003\r\nabc\r\n0\r\n\r\n", 200},
	{"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 200},
	{"GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n", 200}, // no body: no 100
	{"GET /reflect HTTP/1.1\r\nHost: a\r\n\r\n", 200},
	{"DELETE /reflect HTTP/1.1\r\nHost: a\r\n\r\n", 200},
	{"GET /bytes/10 HTTP/1.1\r\nHost: a\r\n\r\n", 200},
	{"GET /status/418 HTTP/1.1\r\nHost: a\r\n\r\n", 418},
	{"GET /status/204 HTTP/1.1\r\nHost: a\r\n\r\n", 204},
	{"GET /sleep/0 HTTP/1.1\r\nHost: a\r\n\r\n", 200},
	{"GET /nope HTTP/1.1\r\nHost: a\r\n\r\n", 404},
	{"GET /echo HTTP/1.1\r\nHost: a\r\n\r\n", 405},
	{"DELETE / HTTP/1.1\r\nHost: a\r\n\r\n", 405},
	{"BREW / HTTP/1.1\r\nHost: a\r\n\r\n", 501}, // unknown method
	{"get / HTTP/1.1\r\nHost: a\r\n\r\n", 501},  // methods are case-sensitive
	{"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 501},

	// request line
	{"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},           // two spaces
	{"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400},           // trailing space
	{"GET /\tHTTP/1.1\r\nHost: a\r\n\r\n", 400},           // tab as separator
	{" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},           // leading space
	{"GET / http/1.1\r\nHost: a\r\n\r\n", 400},            // lower-case version
	{"GET / HTTP/1\r\nHost: a\r\n\r\n", 400},              // no minor
	{"GET / HTTP/1.1.1\r\nHost: a\r\n\r\n", 400},          // junk
	{"GET / HTTP/11.1\r\nHost: a\r\n\r\n", 400},           // two digits
	{"GET /\r\nHost: a\r\n\r\n", 400},                     // HTTP/0.9 style
	{"GET\r\n\r\n", 400},                                  // no target
	{"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},            // major 2
	{"GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505},            // major 0
	{"HEAD / HTTP/2.1\r\nHost: a\r\n\r\n", 505},           // a HEAD refused for its version: no content either
	{"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400},            // bad method char
	{"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400},         // space in target
	{"GET /a\"b HTTP/1.1\r\nHost: a\r\n\r\n", 400},        // double quote is no URI character
	{"GET /<a> HTTP/1.1\r\nHost: a\r\n\r\n", 400},         // angle brackets
	{"GET /a\\b HTTP/1.1\r\nHost: a\r\n\r\n", 400},        // backslash
	{"GET /a{b} HTTP/1.1\r\nHost: a\r\n\r\n", 400},        // braces
	{"GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n", 400},         // bad percent-encoding
	{"GET /a% HTTP/1.1\r\nHost: a\r\n\r\n", 400},          // truncated percent-encoding
	{"GET /%41%2f HTTP/1.1\r\nHost: a\r\n\r\n", 404},      // valid percent-encoding
	{"GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", 400},          // bare CR before the empty line
	{"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400}, // bare CR inside a value
	{"GET /a#f HTTP/1.1\r\nHost: a\r\n\r\n", 400},         // fragment
	{"GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"GET /\x80 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"GET a HTTP/1.1\r\nHost: a\r\n\r\n", 400},                                     // not origin-form
	{"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400},                                     // asterisk only for OPTIONS
	{"GET http:/// HTTP/1.1\r\nHost: a\r\n\r\n", 400},                              // empty authority
	{"GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},                           // userinfo
	{"\x16\x03\x01\x02\x00\x01\x00", 400},                                          // TLS hello, answered at once
	{"GET / HTTP/1.1\rHost: a\r\n\r\n", 400},                                       // bare CR in request line
	{"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400}, // too many empty lines

	// line endings
	{"GET / HTTP/1.1\nHost: a\r\n\r\n", 400},      // bare LF after request line
	{"GET / HTTP/1.1\r\nHost: a\n\r\n", 400},      // bare LF after field
	{"GET / HTTP/1.1\r\nHost: a\r\n\n", 400},      // bare LF ending the head
	{"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400}, // bare CR in value
	{"GET / HTTP/1.1\r\nHost: a\r\nX\r: b\r\n\r\n", 400},
	{"HEAD / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400}, // a HEAD refused after its request line: no content

	// fields
	{"GET / HTTP/1.1\r\nHost: a\r\nFoo : bar\r\n\r\n", 400},        // whitespace before colon
	{"GET / HTTP/1.1\r\nHost: a\r\nFoo\t: bar\r\n\r\n", 400},       // tab before colon
	{"GET / HTTP/1.1\r\nHost: a\r\nFoo: bar\r\n baz\r\n\r\n", 400}, // obs-fold
	{"GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400},                    // first field folded
	{"GET / HTTP/1.1\r\nHost: a\r\nFoo bar\r\n\r\n", 400},          // no colon
	{"GET / HTTP/1.1\r\nHost: a\r\n: bar\r\n\r\n", 400},            // empty name
	{"GET / HTTP/1.1\r\nHost: a\r\nF(o: bar\r\n\r\n", 400},         // bad name char
	{"GET / HTTP/1.1\r\nHost: a\r\nFoo: b\x00r\r\n\r\n", 400},      // NUL
	{"GET / HTTP/1.1\r\nHost: a\r\nFoo: b\x01r\r\n\r\n", 400},      // CTL
	{"GET / HTTP/1.1\r\nHost: a\r\nFoo: b\x7fr\r\n\r\n", 400},      // DEL

	// Host
	{"GET / HTTP/1.1\r\n\r\n", 400},                          // missing
	{"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400},    // duplicate
	{"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},             // space
	{"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},             // slash
	{"GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", 400},             // userinfo
	{"GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", 400},            // bad port
	{"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400},            // unclosed literal
	{"GET / HTTP/1.1\r\nHost: [:*1]:80\r\n\r\n", 400},        // neither IPv6address nor IPvFuture
	{"GET / HTTP/1.1\r\nHost: [1:2:3:4:5:6:7]\r\n\r\n", 400}, // seven pieces
	{"GET / HTTP/1.1\r\nHost: [1::2::3]\r\n\r\n", 400},       // two "::"
	{"GET / HTTP/1.1\r\nHost: [fe80::1%25eth0]\r\n\r\n", 400},
	{"GET / HTTP/1.1\r\nHost: [v1.]\r\n\r\n", 400},
	{"GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n", 400},         // bad pct-encoding
	{"GET http://a/ HTTP/1.1\r\n\r\n", 400},               // absolute-form still needs Host
	{"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400}, // duplicate in 1.0 too

	// Content-Length
	{"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", 400},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\nabc", 400},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3 3\r\n\r\nabc", 400},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc", 400},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", 400},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", 400},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 999999999\r\n\r\n", 413},

	// Transfer-Encoding
	{"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n", 400},
	{"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo\r\n\r\n", 501},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n", 400},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", 501},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", 501},

	// chunk grammar
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3x\r\nabc\r\n0\r\n\r\n", 400},                // non-hex suffix
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\r\nabc\r\n0\r\n\r\n", 400},                  // empty size
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n 3\r\nabc\r\n0\r\n\r\n", 400},                // leading space
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n", 400},                // trailing space
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n", 400},                // sign
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n", 400},               // 0x prefix
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000003\r\nabc\r\n0\r\n\r\n", 400}, // overflow
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFF\r\nabc\r\n0\r\n\r\n", 413},          // too large
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n", 400},                // no CRLF after data
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n", 400},                   // bare LF
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;\r\nabc\r\n0\r\n\r\n", 400},                // empty ext
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a=\"b\r\nabc\r\n0\r\n\r\n", 400},           // open quote
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT : v\r\n\r\n", 400},        // bad trailer
	{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: v\r\n w\r\n\r\n", 400},   // folded trailer

	// endpoint arguments
	{"GET /bytes/x HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"GET /bytes/999999999999 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"GET /status/100 HTTP/1.1\r\nHost: a\r\n\r\n", 400}, // 1xx is not a final status
	{"GET /status/600 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"GET /sleep/99999999 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"POST /bytes/1 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 405},

	// incomplete: no answer, the connection closes when the client does
	{"GET / HTTP/1.1\r\nHost: a\r\n", 0},
	{"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab", 0},
	{"", 0},
}

func TestParse(t *testing.T) {
	if len(parseTests) < 80 {
		t.Fatalf("only %d parse rows; want at least 80", len(parseTests))
	}
	for _, tt := range parseTests {
		head := strings.HasPrefix(tt.raw, "HEAD ")
		rs, all := exchange(t, nil, tt.raw, head)
		got := 0
		if len(rs) > 0 {
			got = rs[0].status
		}
		if got != tt.status {
			t.Errorf("For %q, Status = %d; want %d (response %q)", tt.raw, got, tt.status, all)
			continue
		}
		if got == 0 {
			continue
		}
		r := rs[0]
		if r.get("date") == "" {
			t.Errorf("For %q, no Date header in %q", tt.raw, all)
		}
		// Errors that break framing must close: exactly one response.
		endpointArg := strings.Contains(tt.raw, " /bytes/") || strings.Contains(tt.raw, " /status/") || strings.Contains(tt.raw, " /sleep/")
		if !endpointArg && (got >= 400 && got != 404 && got != 405 && got != 501 || got == 501 && strings.Contains(tt.raw, "Transfer-Encoding")) {
			if r.get("connection") != "close" {
				t.Errorf("For %q, Connection = %q; want close", tt.raw, r.get("connection"))
			}
			if len(rs) != 1 {
				t.Errorf("For %q, %d responses after an error; want 1", tt.raw, len(rs))
			}
		}
	}
}

func TestParseContentLength(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"42", 42, true}, {"007", 7, true},
		{"0000000000000000000", 0, true},         // 19 zeros: found by libFuzzer (FuzzDifferentialVerdict)
		{"000000000000000000000000001", 1, true}, // padded, one significant digit
		{"999999999999999999", 999999999999999999, true},
		{"1000000000000000000", 0, false}, // 19 significant digits
		{"", 0, false}, {"+1", 0, false}, {"1 ", 0, false}, {"0x10", 0, false},
	} {
		n, ok := parseContentLength([]byte(tt.in))
		if n != tt.want || ok != tt.ok {
			t.Errorf("parseContentLength(%q) = %d, %v; want %d, %v", tt.in, n, ok, tt.want, tt.ok)
		}
	}
}
