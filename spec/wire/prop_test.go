package wire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

const tchars = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

func genToken(maxLen int) *rapid.Generator[string] {
	return rapid.StringOfN(rapid.SampledFrom([]rune(tchars)), 1, maxLen, -1)
}

// genFieldValue: field-vchar (obs-text included) with inner SP/HTAB, no outer whitespace.
func genFieldValue() *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		n := rapid.IntRange(0, 20).Draw(t, "value-len")
		var b []byte
		for i := range n {
			c := rapid.ByteRange(0x20, 0xff).Draw(t, "value-byte")
			if c == 0x7f || (c == ' ' && (i == 0 || i == n-1)) {
				c = 'v'
			}
			if c == ' ' && rapid.Bool().Draw(t, "tab") {
				c = '\t'
			}
			b = append(b, c)
		}
		return string(b)
	})
}

// genFields draws fields whose names cannot be framing or Host fields.
func genFields(label string) *rapid.Generator[[][2]string] {
	return rapid.Custom(func(t *rapid.T) [][2]string {
		n := rapid.IntRange(0, 6).Draw(t, label+"-count")
		var fs [][2]string
		for range n {
			fs = append(fs, [2]string{"X-" + genToken(12).Draw(t, label+"-name"), genFieldValue().Draw(t, label+"-value")})
		}
		return fs
	})
}

func genTarget() *rapid.Generator[string] {
	const pchars = "abcXYZ019-._~!$&'()*+,;=:@/?"
	return rapid.Custom(func(t *rapid.T) string {
		switch rapid.IntRange(0, 2).Draw(t, "target-form") {
		case 0:
			return "/" + rapid.StringOfN(rapid.SampledFrom([]rune(pchars+"%")), 0, 20, -1).
				Filter(func(s string) bool { return !strings.Contains(s, "%") }).Draw(t, "path")
		case 1:
			return "http://" + rapid.StringMatching(`[a-z][a-z0-9.-]{0,10}(:[0-9]{1,5})?`).Draw(t, "authority") +
				"/" + rapid.StringMatching(`[a-z0-9/%]{0,10}`).Filter(func(s string) bool { return !strings.Contains(s, "%") }).Draw(t, "abs-path") +
				rapid.SampledFrom([]string{"", "?q=%20x"}).Draw(t, "query")
		default:
			return "/p%" + fmt.Sprintf("%02X", rapid.ByteRange(0, 255).Draw(t, "pct"))
		}
	})
}

func genBody() *rapid.Generator[[]byte] {
	return rapid.SliceOfN(rapid.Byte(), 0, 300)
}

// GenRequest draws a valid request; its Bytes are what a client would send.
func genRequest() *rapid.Generator[*Request] {
	return rapid.Custom(func(t *rapid.T) *Request {
		r := &Request{
			Method:  rapid.SampledFrom([]string{"GET", "POST", "PUT", "DELETE", "PATCH", genToken(8).Draw(t, "method")}).Draw(t, "method-pick"),
			Target:  genTarget().Draw(t, "target"),
			Version: rapid.SampledFrom([]string{"HTTP/1.1", "HTTP/1.0"}).Draw(t, "version"),
		}
		if r.Version == "HTTP/1.1" || rapid.Bool().Draw(t, "host-in-1.0") {
			r.Header = append(r.Header, [2]string{rapid.SampledFrom([]string{"Host", "host", "HOST"}).Draw(t, "host-name"),
				rapid.SampledFrom([]string{"example.com", "a:8080", "[::1]:1", "127.0.0.1", ""}).Draw(t, "host")})
		}
		r.Header = append(r.Header, genFields("field").Draw(t, "fields")...)
		r.Body = genBody().Draw(t, "body")
		switch {
		case r.Version == "HTTP/1.1" && rapid.Bool().Draw(t, "chunked"):
			r.Chunked = true
			r.Header = append(r.Header, [2]string{"Transfer-Encoding", "chunked"})
			r.Trailer = genFields("trailer").Draw(t, "trailer")
		case len(r.Body) > 0 || rapid.Bool().Draw(t, "cl-zero"):
			r.Header = append(r.Header, [2]string{"Content-Length", fmt.Sprint(len(r.Body))})
		default:
			r.Body = []byte{}
		}
		return r
	})
}

func TestRequestRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		want := genRequest().Draw(t, "request")
		b := want.Bytes()
		got, n, err := ParseRequest(b)
		if err != nil {
			t.Fatalf("ParseRequest(%q): %v", b, err)
		}
		if n != len(b) || !bytes.Equal(got.Raw, b) {
			t.Fatalf("ParseRequest(%q) consumed %d of %d bytes", b, n, len(b))
		}
		if d := diffRequest(got, want); d != "" {
			t.Fatalf("ParseRequest(%q) changed %s: %+v", b, d, got)
		}
		// Every strict prefix is incomplete, never a request: what a server must wait on.
		cut := rapid.IntRange(0, len(b)-1).Draw(t, "cut")
		if _, _, err := ParseRequest(b[:cut]); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("ParseRequest(prefix %q) = %v; want incomplete", b[:cut], err)
		}
	})
}

func genResponse() *rapid.Generator[*Response] {
	return rapid.Custom(func(t *rapid.T) *Response {
		r := &Response{
			Version:    rapid.SampledFrom([]string{"HTTP/1.1", "HTTP/1.0"}).Draw(t, "version"),
			StatusCode: rapid.SampledFrom([]int{100, 101, 200, 201, 204, 301, 304, 400, 404, 500, 503, rapid.IntRange(100, 599).Draw(t, "code")}).Draw(t, "status"),
			Reason:     rapid.SampledFrom([]string{"", "OK", "Not Found", "x\ty z", "caf\xc3\xa9"}).Draw(t, "reason"),
			Body:       []byte{},
		}
		r.Header = genFields("field").Draw(t, "fields")
		code := r.StatusCode
		if code < 200 || code == 204 || code == 304 {
			return r
		}
		r.Body = genBody().Draw(t, "body")
		switch rapid.IntRange(0, 2).Draw(t, "framing") {
		case 0:
			r.Header = append(r.Header, [2]string{"Content-Length", fmt.Sprint(len(r.Body))})
		case 1:
			if r.Version == "HTTP/1.1" {
				r.Chunked = true
				r.Header = append(r.Header, [2]string{"transfer-encoding", "chunked"})
				r.Trailer = genFields("trailer").Draw(t, "trailer")
				break
			}
			r.Header = append(r.Header, [2]string{"Content-Length", fmt.Sprint(len(r.Body))})
		default:
			r.CloseDelimited = true
		}
		return r
	})
}

func TestResponseRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		want := genResponse().Draw(t, "response")
		b := want.Bytes()
		got, err := ReadResponse(bufio.NewReader(bytes.NewReader(b)), "GET")
		if err != nil {
			t.Fatalf("ReadResponse(%q): %v", b, err)
		}
		if !bytes.Equal(got.Raw, b) {
			t.Fatalf("ReadResponse(%q) consumed %q", b, got.Raw)
		}
		if d := diffResponse(got, want); d != "" {
			t.Fatalf("ReadResponse(%q) changed %s: %+v", b, d, got)
		}
		if got.CloseDelimited != want.CloseDelimited || (len(got.Warnings) > 0) != want.CloseDelimited {
			t.Fatalf("ReadResponse(%q): CloseDelimited %v, Warnings %q; want close-delimited %v", b, got.CloseDelimited, got.Warnings, want.CloseDelimited)
		}
		// A strict prefix is truncated, unless the body runs to the close anyway.
		cut := rapid.IntRange(1, len(b)-1).Draw(t, "cut")
		_, err = ReadResponse(bufio.NewReader(bytes.NewReader(b[:cut])), "GET")
		headEnd := bytes.Index(b, []byte("\r\n\r\n")) + 4
		if want.CloseDelimited && cut >= headEnd {
			if err != nil {
				t.Fatalf("close-delimited prefix %q: %v", b[:cut], err)
			}
		} else if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("ReadResponse(prefix %q) = %v; want truncated", b[:cut], err)
		}
	})
}
