package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
)

var responseTests = []struct {
	in     string
	method string
	rule   string // "" valid, incomplete (truncated), "eof" (clean end before a byte), or the rule
	body   string
	warn   string // a substring of some warning, when one is expected
}{
	// Valid.
	{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", "GET", "", "hi", ""},
	{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "GET", "", "", ""},
	{"HTTP/1.1 200 OK\r\nContent-Length: 02\r\n\r\nhi", "GET", "", "hi", ""},
	{"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi", "GET", "", "hi", ""},
	{"HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nx", "GET", "", "x", ""},
	{"HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", "GET", "", "", ""}, // empty reason
	{"HTTP/1.1 200 Ok \t ok\r\nContent-Length: 0\r\n\r\n", "GET", "", "", ""},
	{"HTTP/1.1 200 caf\xc3\xa9\r\nContent-Length: 0\r\n\r\n", "GET", "", "", ""},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", "GET", "", "hi", ""},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nhi\r\n1\r\n!\r\n0\r\nT: v\r\n\r\n", "GET", "", "hi!", ""},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "GET", "", "", ""},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n", "GET", "", "", ""},
	{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "HEAD", "", "", ""}, // HEAD: no body
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "HEAD", "", "", ""},
	{"HTTP/1.1 204 No Content\r\n\r\n", "GET", "", "", ""},
	{"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", "GET", "", "", ""},
	{"HTTP/1.1 100 Continue\r\n\r\n", "POST", "", "", ""},
	{"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", "GET", "", "", ""},
	{"HTTP/1.1 200 Connection established\r\n\r\n", "CONNECT", "", "", ""},
	{"HTTP/1.1 200 OK\r\n\r\nto the end", "GET", "", "to the end", "delimited by close"},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz", "GET", "", "zzz", "does not end in chunked"},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n", "GET", "", "z", "not decoded"},
	{"HTTP/1.1 200 OK\r\nX: \r\nY:\r\nZ: a b\r\nContent-Length: 0\r\n\r\n", "GET", "", "", ""},
	{"HTTP/1.1 200 OK\r\nX: caf\xc3\xa9\r\nContent-Length: 0\r\n\r\n", "GET", "", "", ""},
	{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200 OK\r\n", "GET", "", "hi", ""}, // stops at the end
	{"HTTP/1.1 600 Odd\r\nContent-Length: 0\r\n\r\n", "GET", "", "", "beyond 599"},
	// Tolerated with a warning.
	{"HTTP/1.1 200 OK\nContent-Length: 2\n\nhi", "GET", "", "hi", "bare LF"},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nhi\n0\n\n", "GET", "", "hi", "bare LF"},
	{"HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n", "GET", "", "", "obs-fold"},
	{"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", "GET", "", "", "no SP after the status code"},
	// Clean end, truncation.
	{"", "GET", "eof", "", ""},
	{"H", "GET", incomplete, "", ""},
	{"HTTP/1.1 200 OK", "GET", incomplete, "", ""},
	{"HTTP/1.1 200 OK\r\n", "GET", incomplete, "", ""},
	{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhi", "GET", incomplete, "", ""},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhi", "GET", incomplete, "", ""},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n", "GET", incomplete, "", ""},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n", "GET", incomplete, "", ""},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi", "GET", incomplete, "", ""},
	// Status line.
	{"\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "GET", RuleStatusLine, "", ""},
	{"hello\r\n\r\n", "GET", RuleStatusLine, "", ""},
	{"HTTP/1.1 200 OK\r\n\r\n", "GET", "", "", "delimited by close"},
	{"http/1.1 200 OK\r\n\r\n", "GET", RuleVersion, "", ""},
	{"HTTP/1.x 200 OK\r\n\r\n", "GET", RuleVersion, "", ""},
	{"HTTP/11 200 OK\r\n\r\n", "GET", RuleStatusLine, "", ""},
	{"HTTP/1.1  200 OK\r\n\r\n", "GET", RuleStatusCode, "", ""},
	{"HTTP/1.1 20 OK\r\n\r\n", "GET", RuleStatusCode, "", ""},
	{"HTTP/1.1 2000 OK\r\n\r\n", "GET", RuleStatusLine, "", ""},
	{"HTTP/1.1 099 Low\r\n\r\n", "GET", RuleStatusCode, "", ""},
	{"HTTP/1.1 20x OK\r\n\r\n", "GET", RuleStatusCode, "", ""},
	{"HTTP/1.1 200\tOK\r\n\r\n", "GET", RuleStatusLine, "", ""},
	{"HTTP/1.1 200 O\x00K\r\n\r\n", "GET", RuleReason, "", ""},
	{"HTTP/1.1 200 O\x7fK\r\n\r\n", "GET", RuleReason, "", ""},
	{"HTTP/1.1 200 OK\rX\r\n\r\n", "GET", RuleBareCR, "", ""},
	{"HTTP/1.1 20", "GET", incomplete, "", ""},
	{"HTTP/1.1 20\r\n", "GET", RuleStatusCode, "", ""},
	// Field lines.
	{"HTTP/1.1 200 OK\r\n X: a\r\n\r\n", "GET", RuleStartWS, "", ""},
	{"HTTP/1.1 200 OK\r\nX : a\r\n\r\n", "GET", RuleSpaceColon, "", ""},
	{"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nhi", "GET", RuleSpaceColon, "", ""},
	{"HTTP/1.1 200 OK\r\n: a\r\n\r\n", "GET", RuleFieldName, "", ""},
	{"HTTP/1.1 200 OK\r\nX(y): a\r\n\r\n", "GET", RuleFieldName, "", ""},
	{"HTTP/1.1 200 OK\r\nNo colon\r\n\r\n", "GET", RuleFieldName, "", ""},
	{"HTTP/1.1 200 OK\r\nX: a\x00\r\n\r\n", "GET", RuleFieldValue, "", ""},
	{"HTTP/1.1 200 OK\r\nX: a\x1bb\r\n\r\n", "GET", RuleFieldValue, "", ""},
	{"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", "GET", RuleBareCR, "", ""},
	{"HTTP/1.1 200 OK\r\nX: a\r\n\x01b\r\n\r\n", "GET", RuleFieldName, "", ""},
	// Framing.
	{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "GET", RuleTECL, "", ""},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n", "HEAD", RuleTECL, "", ""},
	{"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n", "GET", RuleTECL, "", ""},
	{"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "GET", RuleTEHTTP10, "", ""},
	{"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nhi", "GET", RuleContentLength, "", ""},
	{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi", "GET", RuleContentLength, "", ""},
	{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nhi", "GET", RuleContentLength, "", ""},
	{"HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\nhi", "GET", RuleContentLength, "", ""},
	{"HTTP/1.1 200 OK\r\nContent-Length: 0x2\r\n\r\nhi", "GET", RuleContentLength, "", ""},
	{"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\nhi", "GET", RuleContentLength, "", ""},
	{"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551617\r\n\r\nhi", "GET", RuleContentLength, "", ""},
	{"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "HEAD", RuleContentLength, "", ""},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", "GET", RuleTEChunkedTwice, "", ""},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chu nked\r\n\r\n0\r\n\r\n", "GET", RuleTransferCoding, "", ""},
	// Chunked.
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n", "GET", RuleChunkSize, "", ""},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", "GET", RuleChunkSize, "", ""},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n", "GET", RuleChunkSize, "", ""},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;\r\nhi\r\n0\r\n\r\n", "GET", RuleChunkExt, "", ""},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi!\r\n0\r\n\r\n", "GET", RuleChunkData, "", ""},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r!0\r\n\r\n", "GET", RuleBareCR, "", ""},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT : v\r\n\r\n", "GET", RuleSpaceColon, "", ""},
}

func TestReadResponseTable(t *testing.T) {
	if len(responseTests) < 60 {
		t.Fatalf("%d rows; the brief asks for at least 60", len(responseTests))
	}
	for _, tt := range responseTests {
		// One byte per read: framing must not depend on how the bytes arrive.
		for _, oneByte := range []bool{false, true} {
			var rd io.Reader = strings.NewReader(tt.in)
			if oneByte {
				rd = iotest.OneByteReader(rd)
			}
			resp, err := ReadResponse(bufio.NewReaderSize(rd, 16), tt.method)
			got := ruleOf(err)
			if err == io.EOF {
				got = "eof"
			}
			if got != tt.rule {
				t.Errorf("For %q (%s), rule = %q (%v); want %q", tt.in, tt.method, got, err, tt.rule)
				continue
			}
			if err != nil {
				continue
			}
			if string(resp.Body) != tt.body {
				t.Errorf("For %q (%s), Body = %q; want %q", tt.in, tt.method, resp.Body, tt.body)
			}
			if !strings.HasPrefix(tt.in, string(resp.Raw)) || len(resp.Raw) == 0 {
				t.Errorf("For %q, Raw = %q; want a prefix of the input", tt.in, resp.Raw)
			}
			if tt.warn != "" && !strings.Contains(strings.Join(resp.Warnings, "\n"), tt.warn) {
				t.Errorf("For %q, Warnings = %q; want one with %q", tt.in, resp.Warnings, tt.warn)
			}
			if tt.warn == "" && len(resp.Warnings) > 0 {
				t.Errorf("For %q, unexpected Warnings %q", tt.in, resp.Warnings)
			}
			if len(resp.Warnings) == 0 {
				checkResponseRoundTrip(t, resp, tt.method)
			}
		}
	}
}

func checkResponseRoundTrip(t interface {
	Helper()
	Fatalf(string, ...any)
}, resp *Response, method string) {
	t.Helper()
	b := resp.Bytes()
	br := bufio.NewReader(bytes.NewReader(b))
	again, err := ReadResponse(br, method)
	if err != nil {
		t.Fatalf("re-reading %q: %v", b, err)
	}
	if !bytes.Equal(again.Raw, b) {
		t.Fatalf("re-reading %q consumed %q", b, again.Raw)
	}
	if d := diffResponse(resp, again); d != "" {
		t.Fatalf("round trip of %q changed %s", b, d)
	}
}

func diffResponse(a, b *Response) string {
	switch {
	case a.Version != b.Version || a.StatusCode != b.StatusCode || a.Reason != b.Reason:
		return "the status line"
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

func TestReadResponseSequence(t *testing.T) {
	in := "HTTP/1.1 100 Continue\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc" +
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n" // answers a HEAD
	br := bufio.NewReader(strings.NewReader(in))
	var raw []byte
	for i, m := range []string{"POST", "POST", "GET", "HEAD"} {
		r, err := ReadResponse(br, m)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		raw = append(raw, r.Raw...)
	}
	if string(raw) != in {
		t.Errorf("Raw of all responses = %q; want the input", raw)
	}
	if _, err := ReadResponse(br, "GET"); err != io.EOF {
		t.Errorf("after the last response: %v; want io.EOF", err)
	}
}

// A reader error (a timeout, a reset) comes back as it is, after the status line with the
// partial response.
func TestReadResponseReaderError(t *testing.T) {
	boom := errors.New("boom")
	rd := io.MultiReader(strings.NewReader("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhi"), iotest.ErrReader(boom))
	resp, err := ReadResponse(bufio.NewReader(rd), "GET")
	if !errors.Is(err, boom) {
		t.Fatalf("err %v; want the reader's error", err)
	}
	if resp == nil || resp.StatusCode != 200 {
		t.Errorf("partial response %+v; want the status line read so far", resp)
	}
	if _, err := ReadResponse(bufio.NewReader(iotest.ErrReader(boom)), "GET"); !errors.Is(err, boom) {
		t.Errorf("err %v; want the reader's error", err)
	}
}

// A body delimited by the close may end with a reset (a server closing with our unread bytes
// in its buffer): the response is returned, with a warning. A reset inside a body of known
// length is still an error.
func TestReadResponseCloseDelimitedReset(t *testing.T) {
	reset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	for _, tt := range []struct {
		head, body string
		wantErr    bool
	}{
		{"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n", "", false},
		{"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n", "400 Bad Request", false},
		{"HTTP/1.1 400 Bad Request\r\nContent-Length: 20\r\n\r\n", "400 Bad Request", true},
	} {
		rd := io.MultiReader(strings.NewReader(tt.head+tt.body), iotest.ErrReader(reset))
		resp, err := ReadResponse(bufio.NewReader(rd), "GET")
		if tt.wantErr {
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("For %q, err = %v; want the reset", tt.head, err)
			}
			continue
		}
		if err != nil || resp == nil || string(resp.Body) != tt.body || len(resp.Warnings) == 0 {
			t.Errorf("For %q, got %+v, %v; want the response with body %q and a warning", tt.head, resp, err, tt.body)
		}
	}
}

func TestReadResponseHeaderLimit(t *testing.T) {
	long := "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", MaxHeaderBytes) + "\r\n\r\n"
	_, err := ReadResponse(bufio.NewReader(strings.NewReader(long)), "GET")
	if ruleOf(err) != RuleTooLong {
		t.Errorf("err %v; want %s", err, RuleTooLong)
	}
	many := "HTTP/1.1 200 OK\r\n" + strings.Repeat("X: a\r\n", MaxHeaderBytes/6+1) + "\r\n"
	_, err = ReadResponse(bufio.NewReader(strings.NewReader(many)), "GET")
	if ruleOf(err) != RuleTooLong {
		t.Errorf("err %v; want %s", err, RuleTooLong)
	}
}

func TestLooksLikeStatusLine(t *testing.T) {
	for _, tt := range []struct {
		line string
		want bool
	}{
		{"HTTP/1.a 200 Ok", true},
		{"HTTP/1.10 200 Ok", true},
		{"HTTPS/1.1 200 Ok", true},
		{"UNKNOWN 400 Bad Request", true},
		{"HTTP/1.1  200", true},
		{"b HTTP/1.1 404 Not Found", true},
		{"HTTP/2.0", true},
		{"hello from forkproof interop", false},
		{"<!DOCTYPE HTML>", false},
		{"<HTML><HEAD><TITLE>404 Not Found</TITLE>", false},
		{"", false},
	} {
		if got := LooksLikeStatusLine([]byte(tt.line)); got != tt.want {
			t.Errorf("For %q, LooksLikeStatusLine = %v; want %v", tt.line, got, tt.want)
		}
	}
}
