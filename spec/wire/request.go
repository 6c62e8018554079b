package wire

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// Request is one request as parsed by the strict grammar.
type Request struct {
	Method, Target, Version string
	Header                  [][2]string // received order, names as sent
	Body                    []byte      // decoded
	Chunked                 bool
	Trailer                 [][2]string
	Raw                     []byte // exactly the bytes consumed
}

// ParseRequest parses one complete request at the start of b; n is the number of bytes
// consumed (leading empty lines included). It returns an error wrapping io.ErrUnexpectedEOF
// when b holds only the start of a request, and a *Error for a grammar violation.
//
// The grammar is strict in one precise sense: it accepts exactly what every conforming server
// must accept (RFC 9112, RFC 9110), and rejects whatever a conforming server may reject. So:
//   - CRLF only: a bare LF or a bare CR anywhere is an error; so is obs-fold.
//   - Empty lines (CRLF) before the request line are skipped.
//   - The request-target must be in the form its method allows: origin-form for any method,
//     absolute-form for any method, authority-form only for CONNECT, "*" only for OPTIONS.
//   - Host: an HTTP/1.1 request needs exactly one; any request has at most one; its value must
//     be uri-host [":" port] (empty is allowed).
//   - Content-Length: exactly one field line whose value is 1*DIGIT. A repeated field or a list
//     of identical values ("5, 5") is an error, because RFC 9110 §8.6 lets a recipient reject it.
//   - Transfer-Encoding: only "chunked", once, and only in HTTP/1.1 without Content-Length
//     (a server may answer any other coding with 501; TE with CL or in HTTP/1.0 is faulty framing).
//   - Field values hold no CTL (NUL included): a server may reject them.
//
// Grammar inside a line is judged once the line's CRLF has arrived; a bare CR or LF is reported
// as soon as it is seen.
func ParseRequest(b []byte) (req *Request, n int, err error) {
	src := &byteSrc{b: b}
	p := &parser{src: src}
	req, err = p.request()
	if err != nil {
		if err == io.ErrUnexpectedEOF {
			err = fmt.Errorf("wire: incomplete request (%d bytes): %w", len(b), io.ErrUnexpectedEOF)
		}
		return nil, 0, err
	}
	req.Raw = bytes.Clone(b[:src.off])
	req.Body = append([]byte{}, req.Body...) // never nil, never aliasing b
	return req, src.off, nil
}

func (p *parser) request() (*Request, error) {
	var line []byte
	var off int
	for {
		off = p.src.offset()
		b, err := p.line(false)
		if err != nil {
			return nil, err
		}
		if len(b) > 0 {
			line = b
			break
		}
	}
	req, err := parseRequestLine(line, off)
	if err != nil {
		return nil, err
	}
	if req.Header, err = p.fields(true); err != nil {
		return nil, err
	}
	if err := p.checkHost(req); err != nil {
		return nil, err
	}
	length, chunked, err := p.requestFraming(req)
	if err != nil {
		return nil, err
	}
	switch {
	case chunked:
		req.Chunked = true
		req.Body, req.Trailer, err = p.chunked()
	default:
		req.Body, err = p.src.take(length)
	}
	if err != nil {
		return nil, err
	}
	return req, nil
}

func parseRequestLine(b []byte, off int) (*Request, error) {
	sp1 := bytes.IndexByte(b, ' ')
	if sp1 < 0 {
		return nil, errAt(RuleRequestLine, off, "no SP in request line")
	}
	sp2 := bytes.IndexByte(b[sp1+1:], ' ')
	if sp2 < 0 {
		return nil, errAt(RuleRequestLine, off+sp1, "request line has one SP; want method SP target SP version")
	}
	sp2 += sp1 + 1
	method, target, version := b[:sp1], b[sp1+1:sp2], b[sp2+1:]
	if i := bytes.IndexByte(version, ' '); i >= 0 {
		return nil, errAt(RuleRequestLine, off+sp2+1+i, "more than two SP in request line")
	}
	if len(method) == 0 {
		return nil, errAt(RuleMethod, off, "empty method")
	}
	for i, c := range method {
		if !isTchar(c) {
			return nil, errAt(RuleMethod, off+i, "%s in method", describeByte(c))
		}
	}
	if err := checkTarget(string(method), target, off+sp1+1); err != nil {
		return nil, err
	}
	if !isVersion(version) {
		return nil, errAt(RuleVersion, off+sp2+1, "version %q; want HTTP/DIGIT.DIGIT", version)
	}
	return &Request{Method: string(method), Target: string(target), Version: string(version)}, nil
}

// checkTarget checks request-target = origin-form / absolute-form / authority-form /
// asterisk-form (RFC 9112 §3.2), each only for the methods that may use it.
func checkTarget(method string, t []byte, off int) error {
	switch {
	case len(t) == 0:
		return errAt(RuleTarget, off, "empty request-target")
	case string(t) == "*":
		if method != "OPTIONS" {
			return errAt(RuleTarget, off, "asterisk-form with %s; only OPTIONS may use it", method)
		}
		return nil
	case method == "CONNECT":
		// authority-form = uri-host ":" port, port required.
		i := bytes.LastIndexByte(t, ':')
		if i < 0 || i == len(t)-1 || !allDigits(t[i+1:]) {
			return errAt(RuleTarget, off, "CONNECT target %q is not host:port", t)
		}
		if i == 0 {
			return errAt(RuleTarget, off, "CONNECT target %q has an empty host", t)
		}
		if err := checkURIHost(t[:i]); err != "" {
			return errAt(RuleTarget, off, "CONNECT target %q: %s", t, err)
		}
		return nil
	case t[0] == '/':
		return checkPathQuery(t, off)
	}
	// absolute-form: scheme ":" hier-part [ "?" query ].
	colon := bytes.IndexByte(t, ':')
	if colon <= 0 || !isScheme(t[:colon]) {
		return errAt(RuleTarget, off, "request-target %q is in no valid form", t)
	}
	rest := t[colon+1:]
	scheme := strings.ToLower(string(t[:colon]))
	if strings.HasPrefix(string(rest), "//") {
		auth := rest[2:]
		end := bytes.IndexAny(auth, "/?")
		path := []byte{}
		if end >= 0 {
			auth, path = auth[:end], auth[end:]
		}
		if i := bytes.LastIndexByte(auth, '@'); i >= 0 {
			if !allIn(auth[:i], isUserinfo) {
				return errAt(RuleTarget, off, "bad userinfo in %q", t)
			}
			auth = auth[i+1:]
		}
		if msg := checkHostPort(auth); msg != "" {
			return errAt(RuleTarget, off, "authority of %q: %s", t, msg)
		}
		if (scheme == "http" || scheme == "https") && hostOf(auth) == "" {
			return errAt(RuleTarget, off, "%s URI %q with an empty host", scheme, t)
		}
		if len(path) == 0 {
			return nil
		}
		return checkPathQuery(path, off+colon+3+len(auth))
	}
	if scheme == "http" || scheme == "https" {
		return errAt(RuleTarget, off, "%s URI %q without an authority", scheme, t)
	}
	return checkPathQuery(rest, off+colon+1)
}

func isScheme(s []byte) bool {
	if len(s) == 0 || !isAlpha(s[0]) {
		return false
	}
	for _, c := range s {
		if !isAlpha(c) && !isDigit(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func allDigits(s []byte) bool { return allIn(s, isDigit) }

func allIn(s []byte, ok func(byte) bool) bool {
	for _, c := range s {
		if !ok(c) {
			return false
		}
	}
	return true
}

func isUnreserved(c byte) bool {
	return isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~'
}

func isSubDelim(c byte) bool { return strings.IndexByte("!$&'()*+,;=", c) >= 0 }

func isUserinfo(c byte) bool { return isUnreserved(c) || isSubDelim(c) || c == ':' || c == '%' }

// checkPathQuery checks *( pchar / "/" / "?" ) with valid pct-encoding.
func checkPathQuery(t []byte, off int) error {
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case isUnreserved(c), isSubDelim(c), c == ':', c == '@', c == '/', c == '?':
		case c == '%':
			if i+2 >= len(t) || !isHex(t[i+1]) || !isHex(t[i+2]) {
				return errAt(RuleTarget, off+i, "'%%' not followed by two hex digits")
			}
			i += 2
		default:
			return errAt(RuleTarget, off+i, "%s in request-target", describeByte(c))
		}
	}
	return nil
}

// hostOf returns the host part of host [":" port].
func hostOf(hp []byte) string {
	if len(hp) > 0 && hp[0] == '[' {
		if i := bytes.IndexByte(hp, ']'); i >= 0 {
			return string(hp[:i+1])
		}
		return string(hp)
	}
	if i := bytes.LastIndexByte(hp, ':'); i >= 0 {
		return string(hp[:i])
	}
	return string(hp)
}

// checkHostPort checks uri-host [ ":" port ]; it returns what is wrong, or "".
func checkHostPort(hp []byte) string {
	host := []byte(hostOf(hp))
	rest := hp[len(host):]
	if len(rest) > 0 {
		if rest[0] != ':' || !allDigits(rest[1:]) {
			return fmt.Sprintf("port %q is not digits", rest)
		}
	}
	return checkURIHost(host)
}

// checkURIHost checks uri-host = IP-literal / IPv4address / reg-name (RFC 3986 §3.2.2).
func checkURIHost(h []byte) string {
	if len(h) > 0 && h[0] == '[' {
		if len(h) < 3 || h[len(h)-1] != ']' {
			return fmt.Sprintf("IP-literal %q not closed", h)
		}
		if in := string(h[1 : len(h)-1]); !isIPv6(in) && !isIPvFuture(in) {
			return fmt.Sprintf("bad IP-literal %q: neither IPv6address nor IPvFuture", h)
		}
		return ""
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case isUnreserved(c), isSubDelim(c):
		case c == '%' && i+2 < len(h) && isHex(h[i+1]) && isHex(h[i+2]):
			i += 2
		default:
			return fmt.Sprintf("%s in host", describeByte(c))
		}
	}
	return ""
}

// isIPvFuture: IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ).
func isIPvFuture(s string) bool {
	if len(s) < 4 || s[0] != 'v' && s[0] != 'V' {
		return false
	}
	ver, rest, ok := strings.Cut(s[1:], ".")
	return ok && ver != "" && allIn([]byte(ver), isHex) && rest != "" &&
		allIn([]byte(rest), func(c byte) bool { return isUnreserved(c) || isSubDelim(c) || c == ':' })
}

// isIPv6 is RFC 3986's IPv6address: eight 16-bit pieces (h16, 1-4 hex digits; the last two
// may be an IPv4address), or at most seven around one "::".
func isIPv6(s string) bool {
	left, right, elided := strings.Cut(s, "::")
	n, ok := h16s(left, !elided)
	if !elided {
		return ok && n == 8
	}
	m, ok2 := h16s(right, true)
	return ok && ok2 && n+m <= 7
}

// h16s counts the pieces of *( h16 ":" ) h16 ("" is none), whose last may be an IPv4address
// (two pieces) when v4.
func h16s(s string, v4 bool) (int, bool) {
	if s == "" {
		return 0, true
	}
	parts := strings.Split(s, ":")
	for i, p := range parts {
		if v4 && i == len(parts)-1 && strings.Contains(p, ".") {
			return len(parts) + 1, isIPv4(p)
		}
		if p == "" || len(p) > 4 || !allIn([]byte(p), isHex) {
			return 0, false
		}
	}
	return len(parts), true
}

// isIPv4: IPv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet, a dec-octet 0-255
// without leading zeros.
func isIPv4(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 3 || !allDigits([]byte(p)) || len(p) > 1 && p[0] == '0' ||
			len(p) == 3 && p > "255" {
			return false
		}
	}
	return true
}

// checkHost applies RFC 9112 §3.2: one Host in HTTP/1.1, never more than one, always valid.
func (p *parser) checkHost(r *Request) error {
	var hosts, at []int
	for i, f := range r.Header {
		if strings.EqualFold(f[0], "Host") {
			hosts, at = append(hosts, i), append(at, p.at(i))
		}
	}
	switch {
	case len(hosts) > 1:
		return errAt(RuleHost, at[1], "%d Host fields", len(hosts))
	case len(hosts) == 0 && r.Version != "HTTP/1.0":
		// HTTP/1.2 and later minors are served as the highest 1.x the server has (RFC 9112
		// §2.3), 1.1, so they need Host as much as 1.1 does.
		return errAt(RuleHost, p.src.offset(), "%s request without Host", r.Version)
	case len(hosts) == 1:
		v := r.Header[hosts[0]][1]
		if msg := checkHostPort([]byte(v)); msg != "" {
			return errAt(RuleHost, at[0], "Host %q: %s", v, msg)
		}
	}
	return nil
}

// requestFraming applies RFC 9112 §6.1-§6.3 to a request's fields.
func (p *parser) requestFraming(r *Request) (length int64, chunked bool, err error) {
	cls, clAt, tes, teAt := p.framingFields(r.Header)
	if len(tes) > 0 {
		switch {
		case len(cls) > 0:
			return 0, false, errAt(RuleTECL, max(clAt[0], teAt[0]), "Transfer-Encoding together with Content-Length")
		case r.Version == "HTTP/1.0":
			return 0, false, errAt(RuleTEHTTP10, teAt[0], "Transfer-Encoding in an HTTP/1.0 request")
		}
		codings, err := parseCodings(tes)
		if err != nil {
			return 0, false, at(err, teAt[0])
		}
		n := 0
		for _, c := range codings {
			if c == "chunked" {
				n++
			}
		}
		switch {
		case len(codings) == 0 || codings[len(codings)-1] != "chunked":
			return 0, false, errAt(RuleTENotChunked, teAt[0], "Transfer-Encoding %q does not end in chunked", strings.Join(tes, ", "))
		case n > 1:
			return 0, false, errAt(RuleTEChunkedTwice, teAt[0], "chunked applied %d times", n)
		case len(codings) > 1:
			return 0, false, errAt(RuleTEUnknown, teAt[0], "coding %q besides chunked", codings[0])
		}
		return 0, true, nil
	}
	switch len(cls) {
	case 0:
		return 0, false, nil
	case 1:
		n, err := parseContentLength(cls[0])
		return n, false, at(err, clAt[0])
	}
	return 0, false, errAt(RuleContentLength, clAt[1], "%d Content-Length fields", len(cls))
}

// framingFields collects the Content-Length and Transfer-Encoding values and the offsets of
// their field lines.
func (p *parser) framingFields(h [][2]string) (cls []string, clAt []int, tes []string, teAt []int) {
	for i, f := range h {
		switch {
		case strings.EqualFold(f[0], "Content-Length"):
			cls, clAt = append(cls, f[1]), append(clAt, p.at(i))
		case strings.EqualFold(f[0], "Transfer-Encoding"):
			tes, teAt = append(tes, f[1]), append(teAt, p.at(i))
		}
	}
	return
}

// at sets the offset of a field-level *Error (found with no position) to the field's line.
func at(err error, off int) error {
	if e, ok := err.(*Error); ok {
		e.Offset = off
	}
	return err
}

// parseContentLength parses Content-Length = 1*DIGIT, keeping it inside int64.
func parseContentLength(v string) (int64, error) {
	if v == "" {
		return 0, errAt(RuleContentLength, 0, "empty Content-Length")
	}
	var n int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !isDigit(c) {
			return 0, errAt(RuleContentLength, 0, "Content-Length %q is not 1*DIGIT", v)
		}
		if n > (1<<63-1-int64(c-'0'))/10 {
			return 0, errAt(RuleContentLength, 0, "Content-Length %q overflows", v)
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

// parseCodings splits Transfer-Encoding values into lower-case coding names, checking
// transfer-coding = token *( OWS ";" OWS transfer-parameter ) loosely (parameters as tokens
// or quoted-strings). Empty list elements are skipped (RFC 9110 §5.6.1).
func parseCodings(values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		for _, el := range strings.Split(v, ",") {
			el = strings.Trim(el, " \t")
			if el == "" {
				continue
			}
			name, params, _ := strings.Cut(el, ";")
			name = strings.TrimRight(name, " \t")
			if !isToken([]byte(name)) {
				return nil, errAt(RuleTransferCoding, 0, "transfer coding %q is not a token", name)
			}
			if params != "" {
				if err := parseChunkExt([]byte(";"+params), 0); err != nil {
					return nil, errAt(RuleTransferCoding, 0, "transfer coding parameters %q", params)
				}
			}
			out = append(out, strings.ToLower(name))
		}
	}
	return out, nil
}

// Bytes serialises r canonically: request line, fields "Name: value" as held, an empty line,
// then the body: as one chunk, the last chunk and the trailer when r.Chunked, else as it is
// (the fields are expected to carry the matching Content-Length). Parsing the result gives
// back the same Method, Target, Version, Header, Body, Chunked and Trailer.
func (r *Request) Bytes() []byte {
	var w bytes.Buffer
	w.WriteString(r.Method)
	w.WriteByte(' ')
	w.WriteString(r.Target)
	w.WriteByte(' ')
	w.WriteString(r.Version)
	w.WriteString("\r\n")
	writeFields(&w, r.Header)
	w.WriteString("\r\n")
	if r.Chunked {
		writeChunked(&w, r.Body, r.Trailer)
	} else {
		w.Write(r.Body)
	}
	return w.Bytes()
}

// byteSrc reads a message from a byte slice; running out of bytes is io.ErrUnexpectedEOF.
type byteSrc struct {
	b   []byte
	off int
}

func (s *byteSrc) offset() int { return s.off }

func (s *byteSrc) line() ([]byte, bool, error) {
	start := s.off
	for i := start; i < len(s.b); i++ {
		switch s.b[i] {
		case '\n':
			s.off = i + 1
			if i > start && s.b[i-1] == '\r' {
				return s.b[start : i-1], false, nil
			}
			return s.b[start:i], true, nil
		case '\r':
			if i+1 < len(s.b) && s.b[i+1] != '\n' {
				return nil, false, errAt(RuleBareCR, i, "CR followed by %s", describeByte(s.b[i+1]))
			}
		}
	}
	return nil, false, io.ErrUnexpectedEOF
}

func (s *byteSrc) take(n int64) ([]byte, error) {
	if n > int64(len(s.b)-s.off) {
		return nil, io.ErrUnexpectedEOF
	}
	b := s.b[s.off : s.off+int(n) : s.off+int(n)]
	s.off += int(n)
	return b, nil
}

func (s *byteSrc) byte1() (byte, error) {
	if s.off >= len(s.b) {
		return 0, io.ErrUnexpectedEOF
	}
	s.off++
	return s.b[s.off-1], nil
}
