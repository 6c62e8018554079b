package clients

const hexDigits = "0123456789abcdef"

// Escape renders bytes readably on one line: printable ASCII as is, `\r` `\n` `\t` `\\` as
// such (so CRLFs stay visible), every other byte as `\xNN`. The output is pure ASCII, so the
// "⟨…⟩" markers of a transcript can never be confused with data.
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
