package spec

import (
	"bytes"
	"strings"
	"testing"
)

// The cases of RFC 9112 §2, §3 and §5 rest on quoted sentences: the deciding one first, and
// the case's level is its keyword (issue 9).
func TestMessageCasesQuoteTheirSentence(t *testing.T) {
	for _, c := range Catalogue() {
		if !strings.HasPrefix(c.ID, "rfc9112/2.") && !strings.HasPrefix(c.ID, "rfc9112/3") && !strings.HasPrefix(c.ID, "rfc9112/5/") {
			continue
		}
		if len(c.Sentences) == 0 {
			t.Errorf("%s (%s): no sentence", c.ID, c.Title)
			continue
		}
		if got, want := c.Level, c.Sentences[0].Keyword; got != want {
			t.Errorf("%s: Level = %s; want %s, the keyword of %s", c.ID, got, want, c.Sentences[0])
		}
		for _, s := range c.Sentences {
			if s.Keyword != None && !strings.Contains(s.Text, string(s.Keyword)) {
				t.Errorf("%s: %s quoted as %s but the text has no %s", c.ID, s.Ref, s.Keyword, s.Keyword)
			}
		}
	}
}

// Field names with bytes 0x80 and 0xFF carry those single bytes, not their UTF-8 encodings.
func TestFieldNameHighBytes(t *testing.T) {
	for _, c := range Catalogue() {
		for _, tt := range []struct {
			title string
			b     byte
		}{{"field name containing 0x80", 0x80}, {"field name containing 0xFF", 0xff}} {
			if c.Title != tt.title || !strings.HasPrefix(c.ID, "rfc9112/5/") {
				continue
			}
			if want := []byte{'X', '-', 'B', 'a', 'd', tt.b, 'N'}; !bytes.Contains(c.Steps[0].Send, want) {
				t.Errorf("%s: sends %q; want the single byte 0x%02X in the name", c.ID, c.Steps[0].Send, tt.b)
			}
		}
	}
}
