package clients

import (
	"fmt"
	"strconv"
	"strings"
)

const hexDigits = "0123456789abcdef"

// Escape renders bytes readably on one line: printable ASCII as is, `\r` `\n` `\t` `\\` as
// such (so CRLFs stay visible), every other byte as `\xNN`. The output is pure ASCII, so the
// "⟨…⟩" markers of a transcript can never be confused with data; Unescape reverses it.
func Escape(b []byte) string { return string(appendEscaped(nil, b)) }

func appendEscaped(dst, b []byte) []byte {
	for _, c := range b {
		switch {
		case c == '\r':
			dst = append(dst, `\r`...)
		case c == '\n':
			dst = append(dst, `\n`...)
		case c == '\t':
			dst = append(dst, `\t`...)
		case c == '\\':
			dst = append(dst, `\\`...)
		case c >= 0x20 && c < 0x7f:
			dst = append(dst, c)
		default:
			dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return dst
}

// Unescape turns an escaped transcript back into bytes, dropping the "⟨…⟩" markers, so a
// recorded case can be replayed.
func Unescape(s string) ([]byte, error) {
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case strings.HasPrefix(s[i:], "⟨"):
			end := strings.Index(s[i:], "⟩")
			if end < 0 {
				return nil, fmt.Errorf("clients: unterminated marker at %d", i)
			}
			i += end + len("⟩") - 1
		case c == '\\':
			if i+1 == len(s) {
				return nil, fmt.Errorf("clients: trailing backslash")
			}
			i++
			switch s[i] {
			case 'r':
				out = append(out, '\r')
			case 'n':
				out = append(out, '\n')
			case 't':
				out = append(out, '\t')
			case '\\':
				out = append(out, '\\')
			case 'x':
				if i+2 >= len(s) {
					return nil, fmt.Errorf("clients: short \\x escape at %d", i-1)
				}
				v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
				if err != nil {
					return nil, fmt.Errorf("clients: bad \\x escape at %d", i-1)
				}
				out = append(out, byte(v))
				i += 2
			default:
				return nil, fmt.Errorf("clients: unknown escape \\%c at %d", s[i], i-1)
			}
		default:
			out = append(out, c)
		}
	}
	return out, nil
}
