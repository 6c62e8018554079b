package fuzz

import "testing"

// TestCharClasses checks the character classes written out as constants against their
// definitions.
func TestCharClasses(t *testing.T) {
	var all, vchar, ctl []byte
	for c := 0; c < 256; c++ {
		all = append(all, byte(c))
		if c >= 0x21 && c <= 0x7e || c >= 0x80 {
			vchar = append(vchar, byte(c))
		}
		if c < 0x20 && c != 0 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			ctl = append(ctl, byte(c))
		}
	}
	for _, tc := range []struct{ name, got, want string }{
		{"allBytes", allBytes, string(all)},
		{"fieldVchar", fieldVchar, string(vchar)},
		{"ctls", ctls, string(ctl)},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q; want %q", tc.name, tc.got, tc.want)
		}
	}
}

// TestSpecial checks that special and mustReject tell the listed names and rules from others.
func TestSpecial(t *testing.T) {
	for _, n := range []string{"Host", "content-length", "Transfer-Encoding", "TE", "Connection"} {
		if !special(n) {
			t.Errorf("special(%q) = false", n)
		}
	}
	for _, n := range []string{"Accept", "X-Host", "", "hosts"} {
		if special(n) {
			t.Errorf("special(%q) = true", n)
		}
	}
	for _, m := range Mutations {
		if m.Must && !mustReject(m.Rule) {
			t.Errorf("mutation %s must be rejected, but mustReject(%q) = false", m.Name, m.Rule)
		}
	}
}
