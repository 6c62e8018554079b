// Package wire is the judge's own strict HTTP/1.1 grammar (RFC 9112, RFC 9110): a request
// parser and a response reader that reject anything ambiguous. It shares no code with the
// reference server's parser, so the two can disagree and the disagreement shows.
package wire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// Response is one response as read by the strict reader.
type Response struct {
	Version    string      // "HTTP/1.1"
	StatusCode int         // 200
	Reason     string      // "OK"
	Header     [][2]string // fields in received order, names as sent
	Body       []byte      // decoded (chunked coding removed)
	Chunked    bool
	Trailer    [][2]string
	Raw        []byte // the exact bytes of this response on the wire
	// Warnings lists lenient deviations that did not make the framing ambiguous: a bare LF
	// line terminator, obs-fold, a missing SP after the status code, a body delimited by the
	// connection's close, a transfer coding the reader does not decode.
	Warnings []string
	// Tunnel is set on a 2xx answer to CONNECT: what follows on the connection is no longer
	// HTTP. The same holds after a 101.
	Tunnel bool
	// CloseDelimited is set when the body ran to the end of the connection.
	CloseDelimited bool
}

// Get returns the values of every field named name (case-insensitive), in order.
func (r *Response) Get(name string) []string {
	var v []string
	for _, f := range r.Header {
		if strings.EqualFold(f[0], name) {
			v = append(v, f[1])
		}
	}
	return v
}

// ReadResponse reads one response from r strictly (RFC 9112 §4, §6.3). method is the method
// of the request it answers: a response to HEAD, a 1xx, 204 or 304 has no body, and a 2xx to
// CONNECT starts a tunnel (no body; Tunnel set). A 1xx is returned like any response; the
// caller reads again for the final one.
//
// Framing errors are *Error (ill-framed): Transfer-Encoding with Content-Length (rule te-cl),
// Transfer-Encoding in HTTP/1.0 (te-http10), a Content-Length that is not one field of 1*DIGIT
// (content-length; a list of identical values included), bad chunk grammar, bare CR, CTLs in
// fields, whitespace before a colon. Tolerated with a warning, as RFC 9112 lets a client:
// bare LF line terminators, obs-fold, a status line without the SP before an empty reason,
// a Transfer-Encoding not ending in chunked (the body then runs to the close), a body
// delimited by the close.
//
// Other errors: io.EOF when the connection ended cleanly before the first byte;
// io.ErrUnexpectedEOF (wrapped) when it ended inside the response; the reader's own error
// (a timeout, a reset) otherwise. When an error comes after the status line, the returned
// Response holds what was read so far (for reports); otherwise it is nil.
func ReadResponse(r *bufio.Reader, method string) (*Response, error) {
	src := &bufSrc{r: r}
	p := &parser{src: src, lenient: true}
	resp, err := p.response(method)
	if resp != nil {
		resp.Raw = src.raw
		resp.Warnings = p.warnings
	}
	if err != nil {
		switch {
		case errors.Is(err, io.EOF) && src.n == 0:
			return nil, io.EOF
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			err = fmt.Errorf("wire: response truncated after %d bytes: %w", src.n, io.ErrUnexpectedEOF)
		}
		return resp, err
	}
	return resp, nil
}

func (p *parser) response(method string) (*Response, error) {
	line, err := p.line(true)
	if err != nil {
		return nil, err
	}
	resp, err := p.statusLine(line)
	if err != nil {
		if we, ok := err.(*Error); ok {
			we.StatusLine = bytes.Clone(line)
		}
		return nil, err
	}
	if resp.Header, err = p.fields(true); err != nil {
		return resp, err
	}
	code := resp.StatusCode
	cls, clAt, tes, teAt := p.framingFields(resp.Header)
	// A sender must never send both, whatever the status: an intermediary could pick either.
	if len(tes) > 0 && len(cls) > 0 {
		return resp, errAt(RuleTECL, max(clAt[0], teAt[0]), "Transfer-Encoding together with Content-Length")
	}
	var length int64 = -1
	if len(cls) > 1 {
		return resp, errAt(RuleContentLength, clAt[1], "%d Content-Length fields %q", len(cls), cls)
	}
	if len(cls) == 1 {
		if length, err = parseContentLength(cls[0]); err != nil {
			return resp, at(err, clAt[0])
		}
	}
	if len(tes) > 0 && resp.Version == "HTTP/1.0" {
		return resp, errAt(RuleTEHTTP10, teAt[0], "Transfer-Encoding in an HTTP/1.0 response")
	}
	resp.Body = []byte{}
	switch {
	case code < 200 || code == 204 || code == 304:
		if code == 101 {
			resp.Tunnel = true
		}
		return resp, nil
	case method == "HEAD":
		return resp, nil
	case method == "CONNECT" && code < 300:
		resp.Tunnel = true
		return resp, nil
	}
	if len(tes) > 0 {
		codings, err := parseCodings(tes)
		if err != nil {
			return resp, at(err, teAt[0])
		}
		n := 0
		for _, c := range codings {
			if c == "chunked" {
				n++
			}
		}
		switch {
		case n > 1:
			return resp, errAt(RuleTEChunkedTwice, teAt[0], "chunked applied %d times", n)
		case len(codings) > 0 && codings[len(codings)-1] == "chunked":
			if len(codings) > 1 {
				p.warn("transfer codings %q not decoded", codings[:len(codings)-1])
			}
			resp.Chunked = true
			resp.Body, resp.Trailer, err = p.chunked()
			return resp, err
		}
		p.warn("Transfer-Encoding %q does not end in chunked: body delimited by close", strings.Join(tes, ", "))
		return resp, p.toEOF(resp)
	}
	if length >= 0 {
		resp.Body, err = p.src.take(length)
		return resp, err
	}
	p.warn("no Content-Length or Transfer-Encoding: body delimited by close")
	return resp, p.toEOF(resp)
}

func (p *parser) toEOF(resp *Response) error {
	resp.CloseDelimited = true
	b, err := p.src.(*bufSrc).rest()
	resp.Body = b
	if errors.Is(err, syscall.ECONNRESET) {
		// The body runs to the end of the connection, and a reset is an end: servers reset
		// when they close with our unread bytes in their buffer (after a 400, say). The
		// response is complete as far as anyone can tell; the body may be cut short.
		p.warn("body delimited by close ended with a reset: it may be cut short")
		return nil
	}
	return err
}

// statusLine parses HTTP-version SP 3DIGIT SP reason-phrase.
func (p *parser) statusLine(b []byte) (*Response, error) {
	if len(b) < 12 || b[8] != ' ' {
		if len(b) >= 8 && isVersion(b[:8]) && len(b) < 12 {
			return nil, errAt(RuleStatusCode, 9, "status line %q too short", b)
		}
		return nil, errAt(RuleStatusLine, 0, "status line %q; want HTTP/x.y SP 3DIGIT SP reason", clip(b))
	}
	if !isVersion(b[:8]) {
		return nil, errAt(RuleVersion, 0, "version %q; want HTTP/DIGIT.DIGIT", b[:8])
	}
	if !allDigits(b[9:12]) {
		return nil, errAt(RuleStatusCode, 9, "status code %q is not 3 digits", b[9:12])
	}
	code, _ := strconv.Atoi(string(b[9:12]))
	if code < 100 {
		return nil, errAt(RuleStatusCode, 9, "status code %d below 100", code)
	}
	resp := &Response{Version: string(b[:8]), StatusCode: code}
	if code > 599 {
		p.warn("status code %d beyond 599", code)
	}
	switch {
	case len(b) == 12:
		p.warn("no SP after the status code")
		return resp, nil
	case b[12] != ' ':
		return nil, errAt(RuleStatusLine, 12, "%s after the status code; want SP", describeByte(b[12]))
	}
	reason := b[13:]
	for i, c := range reason {
		if !isFieldVchar(c) && !isWS(c) {
			return nil, errAt(RuleReason, 13+i, "%s in reason phrase", describeByte(c))
		}
	}
	resp.Reason = string(reason)
	return resp, nil
}

// HTTP09Answer reports whether err is ReadResponse's refusal of bytes whose first line is
// not a status line of any shape: an HTTP/0.9 answer, a bare body.
func HTTP09Answer(err error) bool {
	var we *Error
	return errors.As(err, &we) && we.StatusLine != nil && we.Offset == 0 && !LooksLikeStatusLine(we.StatusLine)
}

// LooksLikeStatusLine reports whether line, though not a valid status-line, has its shape: one
// of its first two words names an HTTP version, or the second is a 3-digit code ("HTTP/1.a 200
// Ok", "UNKNOWN 400 Bad Request", "b HTTP/1.1 404"). Such a line is a broken status line, not
// the first line of an HTTP/0.9 body.
func LooksLikeStatusLine(line []byte) bool {
	words := bytes.Fields(line)
	for i, w := range words[:min(2, len(words))] {
		if bytes.Contains(bytes.ToUpper(w), []byte("HTTP/")) {
			return true
		}
		if i == 1 && len(w) == 3 && allDigits(w) {
			return true
		}
	}
	return false
}

func clip(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

// Bytes serialises r canonically: status line (the SP before the reason always present),
// fields "Name: value", an empty line, and the body, as one chunk plus trailer when
// r.Chunked. Reading the result back (with the same method) gives the same parts.
func (r *Response) Bytes() []byte {
	var w bytes.Buffer
	fmt.Fprintf(&w, "%s %03d %s\r\n", r.Version, r.StatusCode, r.Reason)
	writeFields(&w, r.Header)
	w.WriteString("\r\n")
	if r.Chunked {
		writeChunked(&w, r.Body, r.Trailer)
	} else {
		w.Write(r.Body)
	}
	return w.Bytes()
}

// bufSrc reads a response from a bufio.Reader, recording every byte consumed.
type bufSrc struct {
	r   *bufio.Reader
	raw []byte
	n   int
}

func (s *bufSrc) offset() int { return s.n }

func (s *bufSrc) consume(b []byte) {
	s.raw = append(s.raw, b...)
	s.n += len(b)
}

func (s *bufSrc) line() ([]byte, bool, error) {
	start := len(s.raw)
	for {
		frag, err := s.r.ReadSlice('\n')
		s.consume(frag)
		if err == bufio.ErrBufferFull {
			if len(s.raw)-start > MaxHeaderBytes {
				return nil, false, errAt(RuleTooLong, start, "line longer than %d bytes", MaxHeaderBytes)
			}
			continue
		}
		line := s.raw[start:]
		if err != nil {
			// A bare CR already visible is reported even though the line never ended.
			if i := bytes.IndexByte(line, '\r'); i >= 0 && i+1 < len(line) {
				return nil, false, errAt(RuleBareCR, start+i, "CR followed by %s", describeByte(line[i+1]))
			}
			return nil, false, err
		}
		content, bareLF := line[:len(line)-1], true
		if len(content) > 0 && content[len(content)-1] == '\r' {
			content, bareLF = content[:len(content)-1], false
		}
		if i := bytes.IndexByte(content, '\r'); i >= 0 {
			// line is longer than content, so the byte after the CR exists.
			return nil, false, errAt(RuleBareCR, start+i, "CR followed by %s", describeByte(line[i+1]))
		}
		return content, bareLF, nil
	}
}

// take reads n body bytes straight into raw and returns the part of raw they occupy (capped,
// so appending to it copies): body bytes are copied once, not into a buffer and then into raw.
func (s *bufSrc) take(n int64) ([]byte, error) {
	start := len(s.raw)
	for int64(len(s.raw)-start) < n {
		left := n - int64(len(s.raw)-start)
		if len(s.raw) == cap(s.raw) {
			// Grow with what arrives, not with what n promises: n may be absurd.
			s.raw = slices.Grow(s.raw, int(min(left, int64(max(cap(s.raw), 64<<10)))))
		}
		end := len(s.raw) + int(min(left, int64(cap(s.raw)-len(s.raw))))
		k, err := s.r.Read(s.raw[len(s.raw):end])
		s.raw = s.raw[:len(s.raw)+k]
		s.n += k
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return s.raw[start:len(s.raw):len(s.raw)], err
		}
	}
	return s.raw[start:len(s.raw):len(s.raw)], nil
}

func (s *bufSrc) byte1() (byte, error) {
	c, err := s.r.ReadByte()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, err
	}
	s.consume([]byte{c})
	return c, nil
}

// rest reads to the end of the stream straight into raw, like take; a clean EOF is success.
func (s *bufSrc) rest() ([]byte, error) {
	start := len(s.raw)
	for {
		if len(s.raw) == cap(s.raw) {
			// Grow only when more comes: a body that filled raw exactly ends without a copy.
			if _, err := s.r.Peek(1); err != nil {
				if err == io.EOF {
					err = nil
				}
				return s.raw[start:len(s.raw):len(s.raw)], err
			}
			s.raw = slices.Grow(s.raw, max(cap(s.raw), 32<<10))
		}
		k, err := s.r.Read(s.raw[len(s.raw):cap(s.raw)])
		s.raw = s.raw[:len(s.raw)+k]
		s.n += k
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return s.raw[start:len(s.raw):len(s.raw)], err
		}
	}
}
