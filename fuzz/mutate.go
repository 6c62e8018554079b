package fuzz

import (
	"slices"
	"strconv"
	"strings"

	"github.com/forkproof/forkproof/spec/wire"
)

// Mutation is one targeted way to make a valid request invalid, with the outcome it calls for.
type Mutation struct {
	Name string
	// Rule is the wire.Error Rule the judge must reject the result with.
	Rule string
	// Status lists what the reference server answers, before closing the connection.
	Status []int
	// Must is set when RFC 9112/9110 require every server to reject the result: a 2xx to it
	// is a bug in any target. Without it a lenient server may legally accept it (obs-fold,
	// bare LF, CTLs a server may replace with SP...).
	Must bool
	// apply mutates a copy of r and renders it.
	apply func(s Source, r *Request) []byte
}

// Invalid is a valid request after one targeted mutation.
type Invalid struct {
	Mutation *Mutation
	Bytes    []byte
}

func (r *Request) clone() *Request {
	c := *r
	c.Header = slices.Clone(r.Header)
	c.Trailer = slices.Clone(r.Trailer)
	c.Chunks = slices.Clone(r.Chunks)
	return &c
}

// renderLines renders the request with the header section given as raw lines (no CRLF).
func renderLines(r *Request, line string, fields []string, body []byte) []byte {
	var b []byte
	for range r.Leading {
		b = append(b, "\r\n"...)
	}
	b = append(b, line+"\r\n"...)
	for _, f := range fields {
		b = append(b, f+"\r\n"...)
	}
	b = append(b, "\r\n"...)
	return append(b, body...)
}

func (r *Request) requestLine() string { return r.Method + " " + r.Target + " " + r.Version }

func (r *Request) lines() []string {
	var ls []string
	for _, f := range r.Header {
		ls = append(ls, f.line())
	}
	return ls
}

// ordinary returns the indexes of header fields with no framing or Host role.
func (r *Request) ordinary() []int {
	var is []int
	for i, f := range r.Header {
		if !special(f.Name) {
			is = append(is, i)
		}
	}
	return is
}

// anyField picks a field index, preferring ordinary ones; Host always exists.
func anyField(s Source, r *Request) int {
	if is := r.ordinary(); len(is) > 0 {
		return is[s.Int(0, len(is)-1, "field")]
	}
	return s.Int(0, len(r.Header)-1, "field")
}

// insertInValue inserts c inside the value of f, which it first makes at least two bytes long
// so that there is an inside.
func insertInValue(s Source, f Field, c string) Field {
	if len(f.Value) < 2 {
		f.Value = "ab"
	}
	i := s.Int(1, len(f.Value)-1, "value-pos")
	f.Value = f.Value[:i] + c + f.Value[i:]
	return f
}

// dropFraming removes Content-Length and Transfer-Encoding fields.
func (r *Request) dropFraming() {
	r.Header = slices.DeleteFunc(r.Header, func(f Field) bool {
		n := strings.ToLower(f.Name)
		return n == "content-length" || n == "transfer-encoding"
	})
}

// makeChunked turns r into a chunked request with at least one data chunk.
func (r *Request) makeChunked(s Source) {
	if r.Chunked && len(r.Chunks) > 0 {
		return
	}
	r.dropFraming()
	r.Version = "HTTP/1.1"
	r.Chunked = true
	data := []byte(draw(s, "chunk-data", allBytes, 1, 8))
	r.Chunks = []Chunk{{Size: strconv.FormatInt(int64(len(data)), 16), Data: data}}
	r.Body = data
	r.LastZ = "0"
	r.Header = insertAt(s, "te-pos", r.Header, Field{Name: "Transfer-Encoding", Pre: " ", Value: "chunked"})
}

func (r *Request) setHeaderLine(i int, line string) []byte {
	ls := r.lines()
	ls[i] = line
	return renderLines(r, r.requestLine(), ls, r.FramedBody())
}

var nonTokenNameChars = []string{`"`, "(", ")", ",", "/", ";", "<", "=", ">", "?", "@", "[", `\`, "]", "{", "}", "\x01", "\x7f", "\x80"}

// ctls are the control characters other than HTAB, LF and CR, and DEL.
const ctls = "\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f"

// Mutations lists every targeted mutation.
var Mutations = []*Mutation{
	{Name: "space-before-colon", Rule: wire.RuleSpaceColon, Status: []int{400}, Must: true,
		apply: func(s Source, r *Request) []byte {
			i := anyField(s, r)
			f := r.Header[i]
			return r.setHeaderLine(i, f.Name+pick(s, "ws", []string{" ", "\t", "  "})+":"+f.Pre+f.Value+f.Post)
		}},
	{Name: "obs-fold", Rule: wire.RuleObsFold, Status: []int{400},
		apply: func(s Source, r *Request) []byte {
			i := anyField(s, r)
			ls := r.lines()
			ls[i] += "\r\n" + pick(s, "fold-ws", []string{" ", "\t", "   "}) + draw(s, "fold", alpha, 1, 6)
			return renderLines(r, r.requestLine(), ls, r.FramedBody())
		}},
	{Name: "bare-lf", Rule: wire.RuleBareLF, Status: []int{400},
		apply: func(s Source, r *Request) []byte {
			i := anyField(s, r)
			ls := r.lines()
			ls[i] += "\n" + "X-Lf: " + draw(s, "lf-value", alpha, 1, 4)
			return renderLines(r, r.requestLine(), ls, r.FramedBody())
		}},
	{Name: "bare-cr", Rule: wire.RuleBareCR, Status: []int{400},
		apply: func(s Source, r *Request) []byte {
			i := anyField(s, r)
			return r.setHeaderLine(i, insertInValue(s, r.Header[i], "\r").line())
		}},
	{Name: "nul-in-value", Rule: wire.RuleFieldValue, Status: []int{400},
		apply: func(s Source, r *Request) []byte {
			i := anyField(s, r)
			return r.setHeaderLine(i, insertInValue(s, r.Header[i], "\x00").line())
		}},
	{Name: "ctl-in-value", Rule: wire.RuleFieldValue, Status: []int{400},
		apply: func(s Source, r *Request) []byte {
			i := anyField(s, r)
			return r.setHeaderLine(i, insertInValue(s, r.Header[i], string(ctls[s.Int(0, len(ctls)-1, "ctl")])).line())
		}},
	{Name: "bad-name-char", Rule: wire.RuleFieldName, Status: []int{400},
		apply: func(s Source, r *Request) []byte {
			i := anyField(s, r)
			f := r.Header[i]
			at := s.Int(0, len(f.Name), "name-pos")
			f.Name = f.Name[:at] + pick(s, "name-char", nonTokenNameChars) + f.Name[at:]
			return r.setHeaderLine(i, f.line())
		}},
	{Name: "empty-name", Rule: wire.RuleFieldName, Status: []int{400},
		apply: func(s Source, r *Request) []byte {
			ls := r.lines()
			i := s.Int(0, len(ls), "line-pos")
			ls = slices.Insert(ls, i, ":"+pick(s, "empty-name-value", []string{" x", "", " a: b"}))
			return renderLines(r, r.requestLine(), ls, r.FramedBody())
		}},
	{Name: "no-host", Rule: wire.RuleHost, Status: []int{400}, Must: true,
		apply: func(s Source, r *Request) []byte {
			r.Version = "HTTP/1.1"
			if r.Chunked {
				r.Header = slices.DeleteFunc(r.Header, func(f Field) bool { return strings.EqualFold(f.Name, "Transfer-Encoding") })
				r.Chunked = false
				r.Body = nil
			}
			r.Header = slices.DeleteFunc(r.Header, func(f Field) bool { return strings.EqualFold(f.Name, "Host") })
			return r.Bytes()
		}},
	{Name: "dup-host", Rule: wire.RuleHost, Status: []int{400}, Must: true,
		apply: func(s Source, r *Request) []byte {
			r.Header = insertAt(s, "host2-pos", r.Header, Field{Name: "Host", Pre: " ", Value: genHost(s)})
			return r.Bytes()
		}},
	{Name: "bad-host", Rule: wire.RuleHost, Status: []int{400}, Must: true,
		apply: func(s Source, r *Request) []byte {
			for i, f := range r.Header {
				if strings.EqualFold(f.Name, "Host") {
					r.Header[i].Value = pick(s, "bad-host", []string{"a b", "a/b", "[::1", "a@b", "a:b:c", "a:x", "a%zz", "\"a\""})
				}
			}
			return r.Bytes()
		}},
	{Name: "te-and-cl", Rule: wire.RuleTECL, Status: []int{400},
		apply: func(s Source, r *Request) []byte {
			r.makeChunked(s)
			r.Header = insertAt(s, "cl-pos", r.Header, Field{Name: "Content-Length", Pre: " ", Value: strconv.Itoa(len(r.FramedBody()))})
			return r.Bytes()
		}},
	{Name: "bad-content-length", Rule: wire.RuleContentLength, Status: []int{400}, Must: true,
		apply: func(s Source, r *Request) []byte {
			body := r.FramedBody()
			r.dropFraming()
			r.Chunked = false
			v := pick(s, "bad-cl", []string{"1x", "-1", "+1", "0x10", "1 2", "1,2", "abc", "", "1.0"})
			r.Header = insertAt(s, "cl-pos", r.Header, Field{Name: "Content-Length", Pre: " ", Value: v})
			return renderLines(r, r.requestLine(), r.lines(), body)
		}},
	{Name: "conflicting-content-length", Rule: wire.RuleContentLength, Status: []int{400}, Must: true,
		apply: func(s Source, r *Request) []byte {
			body := r.FramedBody()
			r.dropFraming()
			r.Chunked = false
			n := len(body)
			r.Header = insertAt(s, "cl-pos", r.Header, Field{Name: "Content-Length", Pre: " ", Value: strconv.Itoa(n)})
			r.Header = insertAt(s, "cl2-pos", r.Header, Field{Name: "Content-Length", Pre: " ", Value: strconv.Itoa(n + s.Int(1, 9, "cl-delta"))})
			return renderLines(r, r.requestLine(), r.lines(), body)
		}},
	// A broken chunked body is a grammar error (RFC 9112 §2.2: SHOULD 400), and a server may
	// answer a request whose response does not depend on its body before reading the body:
	// a 2xx to it is no proof the body was accepted, so neither is Must.
	{Name: "bad-chunk-size", Rule: wire.RuleChunkSize, Status: []int{400},
		apply: func(s Source, r *Request) []byte {
			r.makeChunked(s)
			r.Chunks[0].Size = pick(s, "bad-size", []string{"zz", "-1", "", "g", "0x5", "fffffffffffffffff", "+1"})
			r.Chunks[0].Ext = ""
			return r.Bytes()
		}},
	{Name: "chunk-data-overrun", Rule: wire.RuleChunkData, Status: []int{400},
		apply: func(s Source, r *Request) []byte {
			r.makeChunked(s)
			r.Chunks[0].Data = append(slices.Clone(r.Chunks[0].Data), "XY"...)
			return r.Bytes()
		}},
	{Name: "bad-version", Rule: wire.RuleVersion, Status: []int{400},
		apply: func(s Source, r *Request) []byte {
			r.Version = pick(s, "bad-version", []string{"HTTP/1.x", "HTTP/11", "http/1.1", "HTTP/1.1.1", "HTTP1.1", "HTTP/A.1", "HTTP/1.", "HTTPS/1.1"})
			return r.Bytes()
		}},
	{Name: "empty-target", Rule: wire.RuleTarget, Status: []int{400},
		apply: func(s Source, r *Request) []byte {
			return renderLines(r, r.Method+"  "+r.Version, r.lines(), r.FramedBody())
		}},
	{Name: "space-in-target", Rule: wire.RuleRequestLine, Status: []int{400},
		apply: func(s Source, r *Request) []byte {
			return renderLines(r, r.Method+" /a b "+r.Version, r.lines(), r.FramedBody())
		}},
	{Name: "start-line-ws", Rule: wire.RuleStartWS, Status: []int{400},
		apply: func(s Source, r *Request) []byte {
			ls := append([]string{pick(s, "ws", []string{" ", "\t"}) + "X-Folded: 1"}, r.lines()...)
			return renderLines(r, r.requestLine(), ls, r.FramedBody())
		}},
	{Name: "chunked-not-last", Rule: wire.RuleTENotChunked, Status: []int{400, 501}, Must: true,
		apply: func(s Source, r *Request) []byte {
			r.makeChunked(s)
			for i, f := range r.Header {
				if strings.EqualFold(f.Name, "Transfer-Encoding") {
					r.Header[i].Value = pick(s, "codings", []string{"chunked, gzip", "gzip", "chunked, identity", "identity"})
				}
			}
			return r.Bytes()
		}},
	{Name: "te-http10", Rule: wire.RuleTEHTTP10, Status: []int{400},
		apply: func(s Source, r *Request) []byte {
			r.makeChunked(s)
			r.Version = "HTTP/1.0"
			return r.Bytes()
		}},
	{Name: "bad-method", Rule: wire.RuleMethod, Status: []int{400},
		apply: func(s Source, r *Request) []byte {
			at := s.Int(0, len(r.Method), "method-pos")
			r.Method = r.Method[:at] + pick(s, "method-char", []string{"(", "@", "\x00", "\x7f", "[", "/", ","}) + r.Method[at:]
			return r.Bytes()
		}},
}

// GenInvalid draws a valid request and applies one targeted mutation to it.
func GenInvalid(s Source, o ReqOptions) *Invalid {
	r := GenRequest(s, o)
	m := Mutations[s.Int(0, len(Mutations)-1, "mutation")]
	return &Invalid{Mutation: m, Bytes: m.apply(s, r)}
}

// mustReject reports whether rule is one of the judge's rules whose violation every server
// must reject (RFC 9112 §3.2, §5.1, §6.3): a 2xx to a request broken this way is a
// bug in the target.
func mustReject(rule string) bool {
	switch rule {
	case wire.RuleSpaceColon, wire.RuleHost, wire.RuleContentLength, wire.RuleTENotChunked:
		return true
	}
	return false
}
