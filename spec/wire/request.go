package wire

import (
	"errors"
	"io"
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
// consumed. It returns an error wrapping io.ErrUnexpectedEOF when b holds only the start of a
// request, and a *Error for a grammar violation.
func ParseRequest(b []byte) (req *Request, n int, err error) {
	return nil, 0, errors.Join(errors.New("wire: ParseRequest not implemented"), io.ErrUnexpectedEOF)
}

// Bytes serialises r canonically: request line, fields as held, then the body framed by
// chunked coding when r.Chunked, else as held (the fields carry Content-Length).
func (r *Request) Bytes() []byte { return nil }
