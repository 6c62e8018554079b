package wire

import (
	"bytes"
	"fmt"
)

// Rules: the Rule of every *Error this package returns is one of these. They name the grammar
// element where the input went wrong, so a mutation-based test can check that an input was
// rejected for the reason it was built to break.
const (
	RuleBareCR         = "bare-cr"            // CR not followed by LF
	RuleBareLF         = "bare-lf"            // LF not preceded by CR (requests only; a response warns)
	RuleRequestLine    = "request-line"       // not method SP target SP version
	RuleMethod         = "method"             // method is not a token
	RuleTarget         = "target"             // request-target in no valid form, or a form the method forbids
	RuleVersion        = "version"            // not "HTTP/" DIGIT "." DIGIT
	RuleStatusLine     = "status-line"        // not version SP 3DIGIT SP reason
	RuleStatusCode     = "status-code"        // not three digits, or below 100
	RuleReason         = "reason"             // reason-phrase holds a CTL
	RuleFieldName      = "field-name"         // empty or not a token, or no colon
	RuleSpaceColon     = "space-before-colon" // whitespace between field name and colon
	RuleFieldValue     = "field-value"        // CTL (NUL included) in a field value
	RuleObsFold        = "obs-fold"           // a field line continued on the next line
	RuleStartWS        = "start-line-ws"      // whitespace-led line right after the start line
	RuleHost           = "host"               // Host missing (HTTP/1.1), repeated, or invalid
	RuleContentLength  = "content-length"     // not one field of 1*DIGIT, or overflowing
	RuleTECL           = "te-cl"              // Transfer-Encoding together with Content-Length
	RuleTEHTTP10       = "te-http10"          // Transfer-Encoding in an HTTP/1.0 message
	RuleTENotChunked   = "te-not-chunked"     // request coding list does not end in chunked
	RuleTEUnknown      = "te-unknown"         // a request coding other than chunked
	RuleTEChunkedTwice = "te-chunked-twice"   // chunked applied more than once
	RuleTransferCoding = "transfer-coding"    // Transfer-Encoding value is not a coding list
	RuleChunkSize      = "chunk-size"         // chunk size not 1*HEXDIG, or overflowing
	RuleChunkExt       = "chunk-ext"          // chunk extension grammar
	RuleChunkData      = "chunk-data"         // chunk data not followed by CRLF
	RuleTooLong        = "too-long"           // a line or header section beyond the reader's limit
)

// MaxHeaderBytes bounds the header section (and the trailer section) the response reader
// accepts, so a server that streams garbage cannot make the judge grow without bound.
const MaxHeaderBytes = 1 << 20

// maxChunkHexDigits keeps chunk sizes well inside int64.
const maxChunkHexDigits = 15

// isTchar reports whether c may appear in a token (RFC 9110 §5.6.2).
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

func isToken(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	for _, c := range s {
		if !isTchar(c) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isWS(c byte) bool { return c == ' ' || c == '\t' }

// isFieldVchar: VCHAR / obs-text.
func isFieldVchar(c byte) bool { return c > 0x20 && c != 0x7f }

func describeByte(c byte) string {
	switch c {
	case 0:
		return "NUL"
	case '\t':
		return "HTAB"
	case ' ':
		return "SP"
	case 0x7f:
		return "DEL"
	}
	if c < 0x20 {
		return fmt.Sprintf("CTL 0x%02x", c)
	}
	return fmt.Sprintf("%q", c)
}

// isVersion checks HTTP-version = "HTTP/" DIGIT "." DIGIT (case-sensitive).
func isVersion(v []byte) bool {
	return len(v) == 8 && bytes.HasPrefix(v, []byte("HTTP/")) && isDigit(v[5]) && v[6] == '.' && isDigit(v[7])
}

// source is where a message comes from: a byte slice (requests) or a bufio.Reader (responses).
type source interface {
	// line returns the next line without its terminator; bareLF reports a line ended by LF
	// alone. A CR anywhere but right before the LF is a bare-cr *Error.
	line() (content []byte, bareLF bool, err error)
	// take returns the next n bytes.
	take(n int64) ([]byte, error)
	// byte1 returns the next byte.
	byte1() (byte, error)
	// offset is the number of bytes consumed so far.
	offset() int
}

// parser holds what the request and response grammars share: fields and chunked coding.
type parser struct {
	src source
	// lenient accepts, with a warning, what RFC 9112 lets a client tolerate in a response:
	// a bare LF line terminator and obs-fold.
	lenient  bool
	warnings []string
	// headerBytes counts the bytes of the current header or trailer section against the limit.
	headerBytes int
	sawBareLF   bool
	// fieldOff holds the offset of each field line of the last section read, so that
	// framing errors can point at the field that caused them.
	fieldOff []int
}

// at returns the offset of field i of the last section read.
func (p *parser) at(i int) int {
	if i >= 0 && i < len(p.fieldOff) {
		return p.fieldOff[i]
	}
	return p.src.offset()
}

func (p *parser) warn(format string, args ...any) {
	p.warnings = append(p.warnings, fmt.Sprintf(format, args...))
}

// line reads one line, applying the line-terminator policy.
func (p *parser) line(limited bool) ([]byte, error) {
	start := p.src.offset()
	b, bareLF, err := p.src.line()
	if err != nil {
		return nil, err
	}
	if limited {
		p.headerBytes += p.src.offset() - start
		if p.headerBytes > MaxHeaderBytes {
			return nil, errAt(RuleTooLong, start, "header section longer than %d bytes", MaxHeaderBytes)
		}
	}
	if bareLF {
		if !p.lenient {
			return nil, errAt(RuleBareLF, p.src.offset()-1, "line ends in LF without CR")
		}
		if !p.sawBareLF {
			p.warn("bare LF line terminator (first at byte %d)", p.src.offset()-1)
		}
		p.sawBareLF = true
	}
	return b, nil
}

// fields reads field lines up to and including the empty line that ends the section.
// afterStart says the section directly follows a start line (whitespace-led first line).
func (p *parser) fields(afterStart bool) ([][2]string, error) {
	var out [][2]string
	p.headerBytes = 0
	p.fieldOff = p.fieldOff[:0]
	first := true
	for {
		off := p.src.offset()
		b, err := p.line(true)
		if err != nil {
			return out, err
		}
		if len(b) == 0 {
			return out, nil
		}
		if isWS(b[0]) {
			switch {
			case first && afterStart:
				return out, errAt(RuleStartWS, off, "whitespace-led line after the start line")
			case len(out) == 0 || !p.lenient:
				return out, errAt(RuleObsFold, off, "field line continued on a line that starts with %s", describeByte(b[0]))
			}
			// RFC 9112 §5.2: a user agent replaces obs-fold with SP.
			if err := checkValue(b, off); err != nil {
				return out, err
			}
			p.warn("obs-fold at byte %d", off)
			last := &out[len(out)-1]
			cont := string(trimOWS(b))
			switch {
			case last[1] == "":
				last[1] = cont
			case cont != "":
				last[1] += " " + cont
			}
			first = false
			continue
		}
		first = false
		name, value, err := parseFieldLine(b, off)
		if err != nil {
			return out, err
		}
		out = append(out, [2]string{name, value})
		p.fieldOff = append(p.fieldOff, off)
	}
}

// parseFieldLine splits field-name ":" OWS field-value OWS.
func parseFieldLine(b []byte, off int) (name, value string, err error) {
	colon := bytes.IndexByte(b, ':')
	if colon < 0 {
		return "", "", errAt(RuleFieldName, off, "field line without a colon")
	}
	n := b[:colon]
	if len(n) == 0 {
		return "", "", errAt(RuleFieldName, off, "empty field name")
	}
	for i, c := range n {
		if !isTchar(c) {
			if isWS(c) && len(bytes.TrimRight(n[i:], " \t")) == 0 {
				return "", "", errAt(RuleSpaceColon, off+i, "whitespace between field name and colon")
			}
			return "", "", errAt(RuleFieldName, off+i, "%s in field name", describeByte(c))
		}
	}
	v := b[colon+1:]
	if err := checkValue(v, off+colon+1); err != nil {
		return "", "", err
	}
	return string(n), string(trimOWS(v)), nil
}

func checkValue(v []byte, off int) error {
	for i, c := range v {
		if !isFieldVchar(c) && !isWS(c) {
			return errAt(RuleFieldValue, off+i, "%s in field value", describeByte(c))
		}
	}
	return nil
}

func trimOWS(b []byte) []byte { return bytes.Trim(b, " \t") }

// chunked decodes a chunked body and its trailer section (RFC 9112 §7.1).
func (p *parser) chunked() (body []byte, trailer [][2]string, err error) {
	body = []byte{}
	for {
		off := p.src.offset()
		b, err := p.line(false)
		if err != nil {
			return body, nil, err
		}
		size, err := parseChunkSize(b, off)
		if err != nil {
			return body, nil, err
		}
		if size == 0 {
			trailer, err = p.fields(false)
			return body, trailer, err
		}
		data, err := p.src.take(size)
		if err != nil {
			return body, nil, err
		}
		body = append(body, data...)
		if err := p.chunkEnd(); err != nil {
			return body, nil, err
		}
	}
}

// chunkEnd consumes the CRLF after chunk data. It looks at one byte at a time so that data
// of the wrong length is reported as soon as it shows, not when a later LF arrives.
func (p *parser) chunkEnd() error {
	off := p.src.offset()
	c, err := p.src.byte1()
	if err != nil {
		return err
	}
	switch {
	case c == '\r':
		c, err = p.src.byte1()
		if err != nil {
			return err
		}
		if c != '\n' {
			return errAt(RuleBareCR, off, "chunk data followed by CR then %s", describeByte(c))
		}
		return nil
	case c == '\n' && p.lenient:
		if !p.sawBareLF {
			p.warn("bare LF line terminator (first at byte %d, after chunk data)", off)
		}
		p.sawBareLF = true
		return nil
	case c == '\n':
		return errAt(RuleBareLF, off, "chunk data ended by LF without CR")
	}
	return errAt(RuleChunkData, off, "chunk data longer than its size: %s where CRLF belongs", describeByte(c))
}

// parseChunkSize parses chunk-size [ chunk-ext ] (the line without its CRLF).
func parseChunkSize(b []byte, off int) (int64, error) {
	i := 0
	var size int64
	for i < len(b) && isHex(b[i]) {
		if i == maxChunkHexDigits {
			return 0, errAt(RuleChunkSize, off, "chunk size longer than %d hex digits", maxChunkHexDigits)
		}
		size = size<<4 | int64(unhex(b[i]))
		i++
	}
	if i == 0 {
		if len(b) == 0 {
			return 0, errAt(RuleChunkSize, off, "empty chunk-size line")
		}
		return 0, errAt(RuleChunkSize, off, "%s where a hex digit belongs", describeByte(b[0]))
	}
	if err := parseChunkExt(b[i:], off+i); err != nil {
		return 0, err
	}
	return size, nil
}

func unhex(c byte) byte {
	switch {
	case isDigit(c):
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// parseChunkExt checks *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] ).
func parseChunkExt(b []byte, off int) error {
	i := 0
	skip := func() {
		for i < len(b) && isWS(b[i]) {
			i++
		}
	}
	token := func() bool {
		j := i
		for i < len(b) && isTchar(b[i]) {
			i++
		}
		return i > j
	}
	for {
		skip()
		if i == len(b) {
			if i > 0 && isWS(b[i-1]) {
				return errAt(RuleChunkExt, off+i-1, "whitespace at the end of a chunk-size line")
			}
			return nil
		}
		if b[i] != ';' {
			if i == 0 {
				return errAt(RuleChunkSize, off, "%s after the chunk size", describeByte(b[0]))
			}
			return errAt(RuleChunkExt, off+i, "%s where ';' belongs", describeByte(b[i]))
		}
		i++
		skip()
		if !token() {
			return errAt(RuleChunkExt, off+i, "chunk extension without a name")
		}
		j := i
		skip()
		if i == len(b) || b[i] != '=' {
			i = j
			continue
		}
		i++
		skip()
		if i < len(b) && b[i] == '"' {
			n, err := quotedString(b[i:], off+i)
			if err != nil {
				return err
			}
			i += n
			continue
		}
		if !token() {
			return errAt(RuleChunkExt, off+i, "chunk extension value neither token nor quoted-string")
		}
	}
}

// quotedString returns the length of the quoted-string at the start of b.
func quotedString(b []byte, off int) (int, error) {
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			i++
			if i == len(b) || !(isWS(b[i]) || isFieldVchar(b[i])) {
				return 0, errAt(RuleChunkExt, off+i, "bad quoted-pair")
			}
		case !(isWS(c) || isFieldVchar(c)):
			return 0, errAt(RuleChunkExt, off+i, "%s in quoted-string", describeByte(c))
		}
	}
	return 0, errAt(RuleChunkExt, off, "unterminated quoted-string")
}

// writeChunked appends body as one chunk (none when empty), the last chunk and the trailer.
func writeChunked(w *bytes.Buffer, body []byte, trailer [][2]string) {
	if len(body) > 0 {
		fmt.Fprintf(w, "%x\r\n", len(body))
		w.Write(body)
		w.WriteString("\r\n")
	}
	w.WriteString("0\r\n")
	writeFields(w, trailer)
	w.WriteString("\r\n")
}

func writeFields(w *bytes.Buffer, fields [][2]string) {
	for _, f := range fields {
		w.WriteString(f[0])
		w.WriteString(": ")
		w.WriteString(f[1])
		w.WriteString("\r\n")
	}
}
