package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzParseRequest: no panic; an accepted request consumed a prefix of the input that is its
// Raw, and its canonical bytes parse back to the same parts; a rejection is an incomplete
// request or a *Error with a rule.
func FuzzParseRequest(f *testing.F) {
	for _, tt := range requestTests {
		f.Add([]byte(tt.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, n, err := ParseRequest(b)
		if err != nil {
			var e *Error
			if !errors.Is(err, io.ErrUnexpectedEOF) && !(errors.As(err, &e) && e.Rule != "") {
				t.Fatalf("ParseRequest(%q): error %v is neither incomplete nor a rule", b, err)
			}
			return
		}
		if n <= 0 || n > len(b) || !bytes.Equal(req.Raw, b[:n]) {
			t.Fatalf("ParseRequest(%q): n = %d, Raw = %q", b, n, req.Raw)
		}
		checkRequestRoundTrip(t, req)
	})
}

var fuzzMethods = []string{"GET", "HEAD", "POST", "CONNECT"}

// FuzzReadResponse: no panic; an accepted response's Raw is a prefix of the input, and its
// canonical bytes read back to the same parts.
func FuzzReadResponse(f *testing.F) {
	for _, tt := range responseTests {
		for i, m := range fuzzMethods {
			if m == tt.method {
				f.Add([]byte(tt.in), uint8(i))
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, m uint8) {
		method := fuzzMethods[int(m)%len(fuzzMethods)]
		resp, err := ReadResponse(bufio.NewReaderSize(bytes.NewReader(b), 16), method)
		if err != nil {
			var e *Error
			if err != io.EOF && !errors.Is(err, io.ErrUnexpectedEOF) && !(errors.As(err, &e) && e.Rule != "") {
				t.Fatalf("ReadResponse(%q): error %v is not EOF, truncation or a rule", b, err)
			}
			return
		}
		if !bytes.HasPrefix(b, resp.Raw) || len(resp.Raw) == 0 {
			t.Fatalf("ReadResponse(%q): Raw = %q, not a prefix", b, resp.Raw)
		}
		checkResponseRoundTrip(t, resp, method)
	})
}
