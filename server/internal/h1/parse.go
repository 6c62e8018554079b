package h1

// The grammar of RFC 9112 / RFC 9110, byte by byte. Functions here are pure: they take
// slices of the head and say whether they are valid.

import (
	"bytes"
	"net/netip"
)

// tchar (RFC 9110 §5.6.2).
var isTchar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// isFieldVchar: bytes allowed inside a field value (VCHAR, obs-text, SP, HTAB).
var isFieldByte = func() (t [256]bool) {
	for c := 0x21; c <= 0xff; c++ {
		t[c] = c != 0x7f
	}
	t[' '] = true
	t['\t'] = true
	return t
}()

// isTargetByte: bytes allowed in a request-target: the URI characters of RFC 3986
// (unreserved, reserved and '%'), without the fragment's '#'. Visible ASCII that no URI may
// hold (" < > \ ^ ` { | }) is refused: servers that pass it on invite cache and log confusion.
var isTargetByte = func() (t [256]bool) {
	for c := 0x21; c < 0x7f; c++ {
		t[c] = true
	}
	for _, c := range "#\"<>\\^`{|}" {
		t[c] = false
	}
	return t
}()

// validPercent reports whether every '%' in b starts a pct-encoded triplet (RFC 3986 §2.1).
func validPercent(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] == '%' {
			if i+2 >= len(b) || !isHex(b[i+1]) || !isHex(b[i+2]) {
				return false
			}
			i += 2
		}
	}
	return true
}

// regNameByte: unreserved / sub-delims / '%' (pct-encoded checked separately).
var regNameByte = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = isTchar[c] && c != '^' && c != '`' && c != '|' && c != '#' && c != '%'
	}
	for _, c := range "-._~!$&'()*+,;=" {
		t[c] = true
	}
	t['%'] = true
	return t
}()

func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !isTchar[c] {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) int64 {
	switch {
	case '0' <= c && c <= '9':
		return int64(c - '0')
	case 'a' <= c && c <= 'f':
		return int64(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int64(c-'A') + 10
	}
	return -1
}

// eqFold reports whether b equals the lower-case ASCII string s, ignoring ASCII case.
func eqFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// requestLine is the parsed request-line, as offsets into the line.
type requestLine struct {
	method, target, version [2]int
	major, minor            int
}

// parseRequestLine parses method SP request-target SP HTTP-version. It returns 0 when the
// line is valid, 400 when malformed and 505 when the major version is not 1.
func parseRequestLine(line []byte) (rl requestLine, status int) {
	sp1 := -1
	for i, c := range line {
		if c == ' ' {
			sp1 = i
			break
		}
		if !isTchar[c] {
			return rl, 400
		}
	}
	if sp1 <= 0 {
		return rl, 400
	}
	sp2 := -1
	for i := sp1 + 1; i < len(line); i++ {
		c := line[i]
		if c == ' ' {
			sp2 = i
			break
		}
		if !isTargetByte[c] {
			return rl, 400
		}
	}
	if sp2 <= sp1+1 || !validPercent(line[sp1+1:sp2]) {
		return rl, 400
	}
	v := line[sp2+1:]
	// HTTP-version = "HTTP" "/" DIGIT "." DIGIT (case-sensitive)
	if len(v) != 8 || string(v[:5]) != "HTTP/" || v[6] != '.' ||
		v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9' {
		return rl, 400
	}
	rl.method = [2]int{0, sp1}
	rl.target = [2]int{sp1 + 1, sp2}
	rl.version = [2]int{sp2 + 1, len(line)}
	rl.major, rl.minor = int(v[5]-'0'), int(v[7]-'0')
	if rl.major != 1 {
		return rl, 505
	}
	return rl, 0
}

// isHead reports whether the request line parsed into rl, valid or refused for its version
// alone (505), names the method HEAD; a malformed line (400) names none.
func (rl requestLine) isHead(line []byte) bool {
	return rl.method[1] > 0 && string(line[rl.method[0]:rl.method[1]]) == "HEAD"
}

// splitField splits a field line into name and value with OWS trimmed. lenient accepts
// whitespace between name and colon (the lenient-ws fault). ok is false for any violation.
func splitField(line []byte, lenient bool) (name, value []byte, ok bool) {
	colon := -1
	for i, c := range line {
		if c == ':' {
			colon = i
			break
		}
	}
	if colon <= 0 {
		return nil, nil, false
	}
	name = line[:colon]
	if lenient {
		name = trimOWS(name)
	}
	if !isToken(name) {
		return nil, nil, false
	}
	value = trimOWS(line[colon+1:])
	for _, c := range value {
		if !isFieldByte[c] {
			return nil, nil, false
		}
	}
	return name, value, true
}

// validHost checks a Host value: uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986). The
// empty value is valid.
func validHost(v []byte) bool {
	if len(v) == 0 {
		return true
	}
	var port []byte
	if v[0] == '[' {
		end := -1
		for i, c := range v {
			if c == ']' {
				end = i
				break
			}
		}
		if end < 2 || !validIPLiteral(v[1:end]) {
			return false
		}
		rest := v[end+1:]
		if len(rest) > 0 {
			if rest[0] != ':' {
				return false
			}
			port = rest[1:]
		}
	} else {
		host := v
		for i := len(v) - 1; i >= 0; i-- {
			if v[i] == ':' {
				host, port = v[:i], v[i+1:]
				break
			}
		}
		for _, c := range host {
			if !regNameByte[c] {
				return false
			}
		}
		if !validPercent(host) {
			return false
		}
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validIPLiteral checks what is between the brackets of an IP-literal (RFC 3986 §3.2.2): an
// IPv6address without a zone, or IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ).
func validIPLiteral(b []byte) bool {
	if len(b) > 0 && (b[0] == 'v' || b[0] == 'V') {
		dot := bytes.IndexByte(b, '.')
		if dot < 2 || dot == len(b)-1 {
			return false
		}
		for _, c := range b[1:dot] {
			if !isHex(c) {
				return false
			}
		}
		for _, c := range b[dot+1:] {
			if !regNameByte[c] && c != ':' || c == '%' {
				return false
			}
		}
		return true
	}
	a, err := netip.ParseAddr(string(b))
	return err == nil && a.Is6() && a.Zone() == ""
}

// parseContentLength parses 1*DIGIT without sign, space or overflow. Leading zeros are
// digits like any other (RFC 9110 §8.6 grammar): only the significant ones count towards the
// 18 that always fit an int64, so "0000000000000000000" is 0, not too large.
func parseContentLength(v []byte) (int64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	significant := 0
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > 0 || c != '0' {
			significant++
		}
		if significant > 18 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseChunkLine parses chunk-size [ chunk-ext ] (RFC 9112 §7.1.1). It rejects an empty or
// non-hex size, a size of more than 15 hex digits, and malformed extensions. lenient (the
// bad-chunked fault) takes the leading hex digits and ignores the rest of the line.
func parseChunkLine(line []byte, lenient bool) (int64, bool) {
	i := 0
	if lenient {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
	}
	var n int64
	start := i
	for i < len(line) && isHex(line[i]) {
		if i-start >= 15 {
			return 0, false
		}
		n = n<<4 | unhex(line[i])
		i++
	}
	if i == start {
		return 0, false
	}
	if lenient {
		return n, true
	}
	return n, validChunkExt(line[i:])
}

// validChunkExt: *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] ).
func validChunkExt(b []byte) bool {
	i := 0
	ws := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
	}
	tok := func() bool {
		s := i
		for i < len(b) && isTchar[b[i]] {
			i++
		}
		return i > s
	}
	for i < len(b) {
		ws()
		if i >= len(b) || b[i] != ';' {
			return false
		}
		i++
		ws()
		if !tok() {
			return false
		}
		save := i
		ws()
		if i < len(b) && b[i] == '=' {
			i++
			ws()
			if i < len(b) && b[i] == '"' {
				i++
				closed := false
				for i < len(b) {
					c := b[i]
					if c == '"' {
						closed = true
						i++
						break
					}
					if c == '\\' {
						i++
						if i >= len(b) || !isFieldByte[b[i]] {
							return false
						}
					} else if !isFieldByte[c] {
						return false
					}
					i++
				}
				if !closed {
					return false
				}
			} else if !tok() {
				return false
			}
		} else {
			i = save
		}
	}
	return true
}
