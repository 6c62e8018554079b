//go:build libfuzzer

package fuzz

import "testing"

// The libFuzzer build of the generator properties (go-118-fuzz-build builds with the tag
// libfuzzer; generated_fuzz_test.go has the go test -fuzz ones, driven by rapid): the same
// checks, each draw taken from the fuzzer's bytes, so that libFuzzer's mutations of the bytes
// are mutations of the choices the generators make.

func FuzzGeneratedRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { checkValidRequest(t, &byteSource{data: data}) })
}

func FuzzGeneratedInvalid(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { checkInvalidRequest(t, &byteSource{data: data}) })
}

// byteSource draws from a byte string, eight bytes a draw at most, and zeros once it runs out
// (as rapid does), so that every input is a complete sequence of choices.
type byteSource struct{ data []byte }

func (s *byteSource) Int(lo, hi int, label string) int {
	if hi <= lo {
		return lo
	}
	span := uint64(hi - lo)
	var v uint64
	for bits := span; bits > 0; bits >>= 8 {
		v <<= 8
		if len(s.data) > 0 {
			v |= uint64(s.data[0])
			s.data = s.data[1:]
		}
	}
	if span < ^uint64(0) {
		v %= span + 1
	}
	return lo + int(v)
}
