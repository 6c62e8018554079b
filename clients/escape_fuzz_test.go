package clients

import (
	"bytes"
	"testing"
)

// FuzzEscapeRoundTrip: Escape loses nothing. It has a file of its own so that the libFuzzer
// build (go-118-fuzz-build swaps the harness file's testing import for its shim) does not take
// the connection tests, which need a real testing.TB, with it.
func FuzzEscapeRoundTrip(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\n\x00\xff⟨split⟩\\x41"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := unescape(Escape(b))
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("unescape(Escape(%q)) = %q, %v", b, got, err)
		}
	})
}
