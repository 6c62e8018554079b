package fuzz

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"

	"github.com/forkproof/forkproof/spec/wire"
)

// Response is a generated, well-framed response and the method of the request it answers.
type Response struct {
	Method  string
	Status  int
	Reason  string
	Header  []Field
	Body    []byte
	Chunked bool
	Chunks  []Chunk
	Trailer []Field
}

// Bytes renders the exact bytes of the response.
func (r *Response) Bytes() []byte {
	var b []byte
	b = append(b, "HTTP/1.1 "+strconv.Itoa(r.Status)+" "+r.Reason+"\r\n"...)
	for _, f := range r.Header {
		b = append(b, f.line()+"\r\n"...)
	}
	b = append(b, "\r\n"...)
	if !r.Chunked {
		return append(b, r.Body...)
	}
	return appendChunked(b, r.Chunks, "0", r.Trailer)
}

// bodiless reports whether the response carries no body whatever its fields say.
func (r *Response) bodiless() bool {
	return r.Method == "HEAD" || r.Status < 200 || r.Status == 204 || r.Status == 304
}

// GenResponse draws one well-framed final response.
func GenResponse(s Source) *Response {
	r := &Response{
		Method: pick(s, "resp-method", []string{"GET", "HEAD", "POST"}),
		Status: pick(s, "status", []int{200, 201, 204, 206, 301, 304, 400, 404, 408, 413, 500, 501, 503}),
	}
	if chance(s, "reason", 80) {
		r.Reason = draw(s, "reason", alpha, 1, 6)
		if chance(s, "reason-more", 30) {
			r.Reason += " " + draw(s, "reason2", fieldVchar, 1, 6)
		}
	}
	for range s.Int(0, 5, "resp-fields") {
		r.Header = append(r.Header, genField(s))
	}
	body := []byte(draw(s, "resp-body", allBytes, 0, 48))
	switch {
	case r.bodiless():
		if chance(s, "bodiless-cl", 50) {
			r.Header = insertAt(s, "cl-pos", r.Header, Field{Name: "Content-Length", Pre: " ", Value: strconv.Itoa(len(body))})
		}
	case chance(s, "resp-chunked", 40):
		r.Chunked = true
		r.Header = insertAt(s, "te-pos", r.Header, Field{Name: randomCase(s, "te-case", "Transfer-Encoding"), Pre: " ", Value: "chunked"})
		for len(body) > 0 {
			n := s.Int(1, len(body), "resp-chunk")
			r.Chunks = append(r.Chunks, Chunk{Size: hexSize(s, n), Ext: genChunkExt(s), Data: body[:n]})
			r.Body = append(r.Body, body[:n]...)
			body = body[n:]
		}
		for range s.Int(0, 2, "resp-trailers") {
			r.Trailer = append(r.Trailer, genTrailerField(s))
		}
	default:
		r.Body = body
		r.Header = insertAt(s, "cl-pos", r.Header, Field{Name: randomCase(s, "cl-case", "Content-Length"), Pre: " ", Value: strconv.Itoa(len(body))})
	}
	if r.Body == nil {
		r.Body = []byte{}
	}
	return r
}

// check says how got differs from what r sent.
func (r *Response) check(got *wire.Response) error {
	switch {
	case got.Version != "HTTP/1.1":
		return fmt.Errorf("version %q; want HTTP/1.1", got.Version)
	case got.StatusCode != r.Status:
		return fmt.Errorf("status %d; want %d", got.StatusCode, r.Status)
	case got.Reason != r.Reason:
		return fmt.Errorf("reason %q; want %q", got.Reason, r.Reason)
	case !slices.Equal(got.Header, pairs(r.Header)):
		return fmt.Errorf("header %q; want %q", got.Header, pairs(r.Header))
	case !bytes.Equal(got.Body, r.Body):
		return fmt.Errorf("body %q; want %q", got.Body, r.Body)
	case got.Chunked != r.Chunked:
		return fmt.Errorf("chunked %v; want %v", got.Chunked, r.Chunked)
	case !slices.Equal(got.Trailer, pairs(r.Trailer)):
		return fmt.Errorf("trailer %q; want %q", got.Trailer, pairs(r.Trailer))
	}
	return nil
}
