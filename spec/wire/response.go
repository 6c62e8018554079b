// Package wire is the judge's own strict HTTP/1.1 grammar (RFC 9112, RFC 9110): a request
// parser and a response reader that reject anything ambiguous. It shares no code with the
// reference server's parser, so the two can disagree and the disagreement shows.
package wire

import (
	"bufio"
	"errors"
	"strings"
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
	// Warnings lists lenient deviations that did not make the framing ambiguous.
	Warnings []string
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

// ReadResponse reads one response from r (skeleton; implementation follows).
func ReadResponse(r *bufio.Reader, method string) (*Response, error) {
	return nil, errors.New("wire: ReadResponse not implemented")
}

// Bytes serialises r canonically.
func (r *Response) Bytes() []byte { return nil }
