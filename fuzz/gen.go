// Package fuzz finds the HTTP/1.1 bugs nobody wrote a case for: rapid generators of valid
// requests, targeted invalid mutations and delivery plans; the properties the judge and the
// reference server must keep; and a black-box campaign engine that fuzzes any target over
// loopback and writes minimised reproducers.
package fuzz

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Source is where generators take their random choices from. Properties draw from a
// *rapid.T (labelled draws that shrink; the adapter lives in rapid_test.go so that rapid, whose
// initialisation costs about a millisecond, is not linked into the forkproof binary and paid by
// every forked child of the reference server); the campaign draws from math/rand (fast, seeded).
type Source interface {
	// Int returns a value in [lo, hi]; label names the draw.
	Int(lo, hi int, label string) int
}

// RandSource draws from a seeded PCG generator.
func RandSource(seed uint64) Source {
	return randSource{rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

type randSource struct{ r *rand.Rand }

func (s randSource) Int(lo, hi int, _ string) int { return lo + s.r.IntN(hi-lo+1) }

func pick[T any](s Source, label string, options []T) T {
	return options[s.Int(0, len(options)-1, label)]
}

func chance(s Source, label string, percent int) bool {
	return s.Int(0, 99, label) < percent
}

// draw builds a string of length in [lo, hi] from alphabet.
func draw(s Source, label, alphabet string, lo, hi int) string {
	n := s.Int(lo, hi, label+"-len")
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[s.Int(0, len(alphabet)-1, label)]
	}
	return string(b)
}

// Character classes of RFC 9110 / RFC 3986.
const (
	alpha      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	digit      = "0123456789"
	hexdig     = "0123456789abcdefABCDEF"
	tchar      = "!#$%&'*+-.^_`|~" + digit + alpha
	unreserved = alpha + digit + "-._~"
	subDelims  = "!$&'()*+,;="
	pchar      = unreserved + subDelims + ":@"
	qdtext     = "\t !#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~"
)

// fieldVchar is every visible character plus obs-text (%x80-FF): what a field value may hold
// besides interior SP and HTAB. Constants, not built at init: package init runs in every
// forked child of the reference server.
const fieldVchar = "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~" +
	"\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d\x9e\x9f" +
	"\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac\xad\xae\xaf\xb0\xb1\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xbb\xbc\xbd\xbe\xbf" +
	"\xc0\xc1\xc2\xc3\xc4\xc5\xc6\xc7\xc8\xc9\xca\xcb\xcc\xcd\xce\xcf\xd0\xd1\xd2\xd3\xd4\xd5\xd6\xd7\xd8\xd9\xda\xdb\xdc\xdd\xde\xdf" +
	"\xe0\xe1\xe2\xe3\xe4\xe5\xe6\xe7\xe8\xe9\xea\xeb\xec\xed\xee\xef\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9\xfa\xfb\xfc\xfd\xfe\xff"

// Field is one header or trailer field line as sent: Name, OWS, Value, OWS.
type Field struct {
	Name  string
	Pre   string // OWS between the colon and the value
	Value string // the value without surrounding whitespace
	Post  string // OWS after the value
}

func (f Field) line() string { return f.Name + ":" + f.Pre + f.Value + f.Post }

// Chunk is one chunk of a chunked body as sent.
type Chunk struct {
	Size string // hex as sent: any case, maybe leading zeros
	Ext  string // ";name=value..." as sent, possibly empty
	Data []byte
}

// Request is a generated request: everything needed to render its exact bytes and to know
// what a correct parser reads back.
type Request struct {
	Leading int // empty lines before the request line (RFC 9112 §2.2 lets servers skip them)
	Method  string
	Target  string
	Version string
	Header  []Field // every field line in order, including Host and framing fields
	Body    []byte  // the decoded body
	Chunked bool
	Chunks  []Chunk // the data chunks (Chunked only)
	LastExt string  // extension of the last chunk
	LastZ   string  // the last chunk's size as sent ("0", "000")
	Trailer []Field
}

// Head renders the request line and the header section, ending with the empty line.
func (r *Request) Head() []byte {
	var b strings.Builder
	for range r.Leading {
		b.WriteString("\r\n")
	}
	b.WriteString(r.Method + " " + r.Target + " " + r.Version + "\r\n")
	for _, f := range r.Header {
		b.WriteString(f.line() + "\r\n")
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

// FramedBody renders the body as sent: raw for Content-Length, chunked otherwise.
func (r *Request) FramedBody() []byte {
	if !r.Chunked {
		return r.Body
	}
	return appendChunked(nil, r.Chunks, r.LastZ+r.LastExt, r.Trailer)
}

// appendChunked renders a chunked body: the data chunks, the last chunk's line (its size and
// extensions), the trailer fields and the empty line.
func appendChunked(b []byte, chunks []Chunk, last string, trailer []Field) []byte {
	for _, c := range chunks {
		b = append(b, c.Size+c.Ext+"\r\n"...)
		b = append(b, c.Data...)
		b = append(b, "\r\n"...)
	}
	b = append(b, last+"\r\n"...)
	for _, f := range trailer {
		b = append(b, f.line()+"\r\n"...)
	}
	return append(b, "\r\n"...)
}

// Bytes renders the exact bytes of the request.
func (r *Request) Bytes() []byte { return append(r.Head(), r.FramedBody()...) }

// Fields returns the header fields as a parser reports them: names as sent, values trimmed.
func (r *Request) Fields() [][2]string { return pairs(r.Header) }

// TrailerFields returns the trailer fields as a parser reports them.
func (r *Request) TrailerFields() [][2]string { return pairs(r.Trailer) }

func pairs(fs []Field) [][2]string {
	var p [][2]string
	for _, f := range fs {
		p = append(p, [2]string{f.Name, f.Value})
	}
	return p
}

// ReqOptions narrows what GenRequest produces.
type ReqOptions struct {
	// Methods to choose from; empty means a mix of the registered methods and random tokens.
	Methods []string
	// Path, when set, is the path of every origin-form or absolute-form target (e.g.
	// "/reflect"), with a random query appended; no authority-form or asterisk targets.
	Path string
	// MaxBody bounds the body size (default 64).
	MaxBody int
	// NoHTTP10 keeps every request HTTP/1.1.
	NoHTTP10 bool
	// Close lets some requests carry "Connection: close" (RFC 9112 §9.6: the server closes
	// after answering them).
	Close bool
}

var registeredMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"}

// special reports whether a field name carries semantics a generated field must not change
// by accident.
func special(name string) bool {
	switch strings.ToLower(name) {
	case "host", "content-length", "transfer-encoding", "connection", "expect", "upgrade", "te",
		"trailer", "keep-alive", "proxy-connection", "content-encoding", "content-range":
		return true
	}
	return false
}

var commonNames = []string{"Accept", "Accept-Language", "User-Agent", "Cache-Control", "X-Request-Id",
	"Content-Type", "Cookie", "Referer", "If-None-Match", "X-Forwarded-For", "Authorization", "Via"}

func randomCase(s Source, label, name string) string {
	if !chance(s, label, 30) {
		return name
	}
	b := []byte(name)
	for i, c := range b {
		switch s.Int(0, 2, label+"-char") {
		case 0:
			b[i] = strings.ToLower(string(c))[0]
		case 1:
			b[i] = strings.ToUpper(string(c))[0]
		}
	}
	return string(b)
}

func genFieldName(s Source) string {
	if chance(s, "name-common", 60) {
		return randomCase(s, "name-case", pick(s, "name", commonNames))
	}
	for {
		n := draw(s, "name-token", tchar, 1, 12)
		if !special(n) {
			return n
		}
	}
}

func genOWS(s Source, label string) string {
	if !chance(s, label, 25) {
		return ""
	}
	return draw(s, label, " \t", 1, 3)
}

// genFieldValue draws a value from the legal grammar: field-vchar (VCHAR and obs-text), with
// interior SP and HTAB, never starting or ending with whitespace.
func genFieldValue(s Source) string {
	switch s.Int(0, 3, "value-kind") {
	case 0:
		return ""
	case 1:
		return draw(s, "value-plain", alpha+digit+"-_./=", 1, 20)
	}
	n := s.Int(1, 24, "value-len")
	b := make([]byte, n)
	for i := range b {
		if i > 0 && i < n-1 && chance(s, "value-ws", 15) {
			b[i] = " \t"[s.Int(0, 1, "value-ws-char")]
			continue
		}
		b[i] = fieldVchar[s.Int(0, len(fieldVchar)-1, "value-char")]
	}
	return string(b)
}

func genField(s Source) Field {
	return Field{Name: genFieldName(s), Pre: genOWS(s, "pre-ows"), Value: genFieldValue(s), Post: genOWS(s, "post-ows")}
}

func genHost(s Source) string {
	h := genHostName(s)
	if chance(s, "host-port", 30) {
		h += ":" + strconv.Itoa(s.Int(1, 65535, "port"))
	}
	return h
}

func genHostName(s Source) string {
	h := draw(s, "host", "abcdefghijklmnopqrstuvwxyz0123456789", 1, 10)
	if chance(s, "host-dot", 50) {
		h += "." + draw(s, "host-tld", "abcdefghijklmnopqrstuvwxyz", 2, 4)
	}
	return h
}

func genPath(s Source) string {
	var b strings.Builder
	for range s.Int(0, 3, "segments") {
		b.WriteString("/" + draw(s, "segment", pchar, 0, 8))
	}
	if b.Len() == 0 {
		b.WriteString("/")
	}
	return b.String()
}

func genQuery(s Source) string {
	if !chance(s, "query", 40) {
		return ""
	}
	return "?" + draw(s, "query-chars", pchar+"/?", 0, 16)
}

func genTarget(s Source, method string, o ReqOptions) string {
	path := o.Path
	if path == "" {
		if method == "CONNECT" {
			return genHostName(s) + ":" + strconv.Itoa(s.Int(1, 65535, "connect-port"))
		}
		if method == "OPTIONS" && chance(s, "asterisk", 30) {
			return "*"
		}
		path = genPath(s)
	}
	t := path + genQuery(s)
	if chance(s, "absolute-form", 15) {
		scheme := pick(s, "scheme", []string{"http", "https", "HTTP"})
		t = scheme + "://" + genHost(s) + t
	}
	return t
}

func genMethod(s Source, o ReqOptions) string {
	if len(o.Methods) > 0 {
		return pick(s, "method", o.Methods)
	}
	if chance(s, "method-registered", 80) {
		return pick(s, "method", registeredMethods)
	}
	return draw(s, "method-token", tchar, 1, 10)
}

func genChunkExt(s Source) string {
	var b strings.Builder
	for range s.Int(0, 2, "exts") {
		b.WriteString(";" + draw(s, "ext-name", tchar, 1, 6))
		switch s.Int(0, 2, "ext-val-kind") {
		case 1:
			b.WriteString("=" + draw(s, "ext-token", tchar, 1, 6))
		case 2:
			b.WriteString(`="` + draw(s, "ext-quoted", qdtext, 0, 6) + `"`)
		}
	}
	return b.String()
}

func hexSize(s Source, n int) string {
	h := strconv.FormatInt(int64(n), 16)
	if chance(s, "size-upper", 30) {
		h = strings.ToUpper(h)
	}
	return strings.Repeat("0", s.Int(0, 2, "size-zeros")) + h
}

func genTrailerField(s Source) Field {
	f := genField(s)
	if strings.EqualFold(f.Name, "Authorization") || strings.EqualFold(f.Name, "Content-Type") || strings.EqualFold(f.Name, "Cookie") {
		f.Name = "X-Trailer"
	}
	return f
}

// insertAt puts f at a random position of fs.
func insertAt(s Source, label string, fs []Field, f Field) []Field {
	i := s.Int(0, len(fs), label)
	fs = append(fs, Field{})
	copy(fs[i+1:], fs[i:])
	fs[i] = f
	return fs
}

// GenRequest draws one valid HTTP/1.1 request.
func GenRequest(s Source, o ReqOptions) *Request {
	if o.MaxBody == 0 {
		o.MaxBody = 64
	}
	r := &Request{Version: "HTTP/1.1"}
	if chance(s, "leading-crlf", 10) {
		r.Leading = s.Int(1, 2, "leading")
	}
	r.Method = genMethod(s, o)
	r.Target = genTarget(s, r.Method, o)
	if !o.NoHTTP10 && chance(s, "http10", 10) {
		r.Version = "HTTP/1.0"
	}
	for range s.Int(0, 6, "fields") {
		r.Header = append(r.Header, genField(s))
	}
	host := Field{Name: randomCase(s, "host-case", "Host"), Pre: pick(s, "host-ows", []string{" ", "", "  ", "\t"}), Value: genHost(s)}
	r.Header = insertAt(s, "host-pos", r.Header, host)
	if o.Close && chance(s, "conn-close", 8) {
		r.Header = insertAt(s, "close-pos", r.Header, Field{Name: randomCase(s, "close-case", "Connection"), Pre: " ", Value: "close"})
	}

	switch framing := s.Int(0, 2, "framing"); {
	case framing == 1 || (framing == 2 && r.Version == "HTTP/1.0"):
		r.Body = []byte(draw(s, "body", allBytes, 0, o.MaxBody))
		cl := Field{Name: randomCase(s, "cl-case", "Content-Length"), Pre: " ", Value: strconv.Itoa(len(r.Body))}
		r.Header = insertAt(s, "cl-pos", r.Header, cl)
	case framing == 2:
		r.Chunked = true
		te := Field{Name: randomCase(s, "te-case", "Transfer-Encoding"), Pre: " ", Value: randomCase(s, "chunked-case", "chunked")}
		r.Header = insertAt(s, "te-pos", r.Header, te)
		for range s.Int(0, 4, "chunks") {
			data := []byte(draw(s, "chunk-data", allBytes, 1, max(1, o.MaxBody/4)))
			r.Chunks = append(r.Chunks, Chunk{Size: hexSize(s, len(data)), Ext: genChunkExt(s), Data: data})
			r.Body = append(r.Body, data...)
		}
		r.LastZ = strings.Repeat("0", s.Int(1, 3, "last-zeros"))
		r.LastExt = genChunkExt(s)
		for range s.Int(0, 2, "trailers") {
			r.Trailer = append(r.Trailer, genTrailerField(s))
		}
	}
	if r.Body == nil {
		r.Body = []byte{}
	}
	return r
}

// closes reports whether the connection may end after r's response: HTTP/1.0 (without
// keep-alive, which generated requests never send) or a "close" option.
func (r *Request) closes() bool {
	if r.Version == "HTTP/1.0" {
		return true
	}
	for _, f := range r.Header {
		if strings.EqualFold(f.Name, "Connection") && strings.Contains(strings.ToLower(f.Value), "close") {
			return true
		}
	}
	return false
}

// allBytes is every byte value, 0x00 to 0xff.
const allBytes = "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f" +
	"\x20\x21\x22\x23\x24\x25\x26\x27\x28\x29\x2a\x2b\x2c\x2d\x2e\x2f\x30\x31\x32\x33\x34\x35\x36\x37\x38\x39\x3a\x3b\x3c\x3d\x3e\x3f" +
	"\x40\x41\x42\x43\x44\x45\x46\x47\x48\x49\x4a\x4b\x4c\x4d\x4e\x4f\x50\x51\x52\x53\x54\x55\x56\x57\x58\x59\x5a\x5b\x5c\x5d\x5e\x5f" +
	"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f\x70\x71\x72\x73\x74\x75\x76\x77\x78\x79\x7a\x7b\x7c\x7d\x7e\x7f" +
	"\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d\x9e\x9f" +
	"\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac\xad\xae\xaf\xb0\xb1\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xbb\xbc\xbd\xbe\xbf" +
	"\xc0\xc1\xc2\xc3\xc4\xc5\xc6\xc7\xc8\xc9\xca\xcb\xcc\xcd\xce\xcf\xd0\xd1\xd2\xd3\xd4\xd5\xd6\xd7\xd8\xd9\xda\xdb\xdc\xdd\xde\xdf" +
	"\xe0\xe1\xe2\xe3\xe4\xe5\xe6\xe7\xe8\xe9\xea\xeb\xec\xed\xee\xef\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9\xfa\xfb\xfc\xfd\xfe\xff"

// Plan is how a sequence of requests is delivered on one connection (the write cuts are
// drawn by Splits once the length is known).
type Plan struct {
	Depth     int           // requests pipelined back to back before reading
	Pause     time.Duration // between pieces
	HalfClose bool          // shutdown(SHUT_WR) after the last piece
}

// GenPlan draws a delivery plan; maxDepth bounds the pipelining depth.
func GenPlan(s Source, maxDepth int) Plan {
	p := Plan{Depth: s.Int(1, max(1, maxDepth), "depth")}
	if chance(s, "half-close", 15) {
		p.HalfClose = true
	}
	if chance(s, "pause", 20) {
		p.Pause = time.Duration(s.Int(1, 3, "pause-ms")) * time.Millisecond
	}
	return p
}

// Splits draws up to k sorted distinct split offsets inside (0, n).
func Splits(s Source, n, k int) []int {
	if n < 2 {
		return nil
	}
	seen := map[int]bool{}
	var at []int
	for range s.Int(0, k, "splits") {
		o := s.Int(1, n-1, "split-at")
		if !seen[o] {
			seen[o] = true
			at = append(at, o)
		}
	}
	slices.Sort(at)
	return at
}
