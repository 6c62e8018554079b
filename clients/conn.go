// Package clients is forkproof's raw HTTP/1.1 client: explicit control of every byte and
// syscall (split sends, drips, half-close, resets, tiny receive buffers), a transcript of
// everything sent and received, and outcomes that tell a response from a clean close, a reset
// and a timeout.
package clients

import (
	"context"
	"errors"
	"time"

	"github.com/forkproof/forkproof/spec/wire"
)

// Conn is one TCP connection to the target, recording a transcript.
type Conn struct{}

// Option configures Dial.
type Option func(*dialConfig)

type dialConfig struct {
	recvBuf int
}

// WithRecvBuffer sets SO_RCVBUF to n before connecting (a small value makes a slow reader).
func WithRecvBuffer(n int) Option { return func(c *dialConfig) { c.recvBuf = n } }

var errTODO = errors.New("clients: not implemented")

// Dial opens a TCP connection to addr.
func Dial(ctx context.Context, addr string, opts ...Option) (*Conn, error) { return nil, errTODO }

// DialMany opens n connections to addr at once.
func DialMany(ctx context.Context, addr string, n int) ([]*Conn, error) { return nil, errTODO }

// Send writes b in one write.
func (c *Conn) Send(b []byte) error { return errTODO }

// SendSplit writes b in pieces cut at the offsets in at, pausing between pieces.
func (c *Conn) SendSplit(b []byte, at []int, pause time.Duration) error { return errTODO }

// Drip writes b n bytes at a time, one piece every interval, until done or stop is closed.
func (c *Conn) Drip(b []byte, n int, every time.Duration, stop <-chan struct{}) error {
	return errTODO
}

// CloseWrite half-closes the connection: shutdown(SHUT_WR).
func (c *Conn) CloseWrite() error { return errTODO }

// Reset closes the connection with SO_LINGER 0: the peer sees RST.
func (c *Conn) Reset() error { return errTODO }

// Close closes the connection.
func (c *Conn) Close() error { return errTODO }

// ReadResponse reads one response with the strict reader.
func (c *Conn) ReadResponse(method string, timeout time.Duration) (*wire.Response, error) {
	return nil, errTODO
}

// ReadResponses reads up to len(methods) responses, stopping at the first error.
func (c *Conn) ReadResponses(methods []string, timeout time.Duration) ([]*wire.Response, error) {
	return nil, errTODO
}

// End is how a connection behaved while watched.
type End int

const (
	EndTimeout End = iota // still open and silent
	EndFIN                // the peer closed cleanly
	EndRST                // the peer reset the connection
	EndData               // bytes arrived
)

// WaitEnd watches the connection for window and reports what happened.
func (c *Conn) WaitEnd(window time.Duration) (End, []byte) { return EndTimeout, nil }

// ReadSlowly reads up to n bytes at a time, one read every interval, until EOF or error.
func (c *Conn) ReadSlowly(n int, every time.Duration, timeout time.Duration) ([]byte, error) {
	return nil, errTODO
}

// Kind classifies the outcome of a read.
type Kind int

const (
	KindResponse Kind = iota
	KindFIN
	KindRST
	KindTimeout
	KindIllFramed
	KindTruncated
)

// Classify maps an error from ReadResponse to a Kind; nil is KindResponse.
func Classify(err error) Kind { return KindResponse }

// Transcript returns the escaped bytes sent and received, with markers.
func (c *Conn) Transcript() (sent, received string) { return "", "" }

// Escape renders b readably, keeping \r\n visible.
func Escape(b []byte) string { return "" }

// SplitEvery returns split offsets every k bytes of b.
func SplitEvery(b []byte, k int) []int { return nil }
