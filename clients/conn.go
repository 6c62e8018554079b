// Package clients is forkproof's raw HTTP/1.1 client: explicit control of every byte and
// syscall (split sends, drips, half-close, resets, tiny receive buffers), a transcript of
// everything sent and received, and outcomes that tell a response from a clean close, a reset
// and a timeout. It judges responses with the strict reader of spec/wire.
package clients

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/forkproof/forkproof/spec/wire"
)

// Conn is one TCP connection to the target, recording a transcript. Its methods may be called
// from two goroutines at once (one sending, one reading); the transcript stays consistent.
type Conn struct {
	nc  *net.TCPConn
	br  *bufio.Reader // over the recording reader; keeps bytes read past one response
	cfg dialConfig

	mu       sync.Mutex
	sent     []byte // escaped transcript, with markers
	received []byte
	ended    bool          // ⟨close⟩ or ⟨reset⟩ already recorded
	readWait time.Duration // the deadline of the current read, for the ⟨timeout⟩ marker
	// a run of identical timeout markers: the marker, where it starts and ends, how many
	repeatMark                   string
	repeatAt, repeatEnd, repeatN int
}

// Option configures Dial.
type Option func(*dialConfig)

type dialConfig struct {
	recvBuf      int
	writeTimeout time.Duration
}

// WithRecvBuffer sets SO_RCVBUF to n bytes before connecting, so the TCP window is small from
// the handshake on: with it, a client that reads slowly makes the server block in write.
func WithRecvBuffer(n int) Option { return func(c *dialConfig) { c.recvBuf = n } }

// WithWriteTimeout sets the deadline of each write call to d after its start (default 5s):
// a server that stops reading fails the write with a timeout after d.
func WithWriteTimeout(d time.Duration) Option { return func(c *dialConfig) { c.writeTimeout = d } }

// Dial opens a TCP connection to addr. ctx bounds the connect.
func Dial(ctx context.Context, addr string, opts ...Option) (*Conn, error) {
	cfg := dialConfig{writeTimeout: 5 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	d := net.Dialer{}
	if cfg.recvBuf > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, cfg.recvBuf)
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("clients: dial %s: %w", addr, err)
	}
	tc := nc.(*net.TCPConn)
	if err := tc.SetNoDelay(true); err != nil {
		tc.Close()
		return nil, fmt.Errorf("clients: TCP_NODELAY on %s: %w", addr, err)
	}
	c := &Conn{nc: tc, cfg: cfg}
	c.br = bufio.NewReaderSize(recorder{c}, 64<<10)
	return c, nil
}

// NetConn returns the underlying connection, for the rare test that needs a socket option
// this package does not wrap.
func (c *Conn) NetConn() *net.TCPConn { return c.nc }

// Send writes b in one write call.
func (c *Conn) Send(b []byte) error {
	return c.write(b)
}

// SendSplit writes b in pieces cut at the offsets in at (ascending, inside b), one write call
// per piece, pausing between pieces. TCP_NODELAY is on, so each write leaves as its own
// segment; a zero pause still makes separate writes. The transcript marks each cut
// "⟨split⟩", or "⟨pause 50ms⟩" when pause > 0.
func (c *Conn) SendSplit(b []byte, at []int, pause time.Duration) error {
	pieces, err := cut(b, at)
	if err != nil {
		return err
	}
	return c.sendPieces(pieces, func(int) error {
		c.markSent(pauseMarker(pause))
		if pause > 0 {
			time.Sleep(pause) // the pause is the behaviour under test, not synchronisation
		}
		return nil
	})
}

func pauseMarker(d time.Duration) string {
	if d > 0 {
		return "⟨pause " + d.String() + "⟩"
	}
	return "⟨split⟩"
}

// sendPieces writes each piece with its own write call, calling between(i) after piece i
// (not after the last).
func (c *Conn) sendPieces(pieces [][]byte, between func(i int) error) error {
	for i, p := range pieces {
		if i > 0 {
			if err := between(i - 1); err != nil {
				return err
			}
		}
		if err := c.write(p); err != nil {
			return err
		}
	}
	return nil
}

// cut splits b at the offsets in at.
func cut(b []byte, at []int) ([][]byte, error) {
	var pieces [][]byte
	prev := 0
	for _, o := range at {
		if o <= prev || o >= len(b) {
			return nil, fmt.Errorf("clients: split offset %d not inside (%d, %d)", o, prev, len(b))
		}
		pieces = append(pieces, b[prev:o])
		prev = o
	}
	return append(pieces, b[prev:]), nil
}

// Drip writes b n bytes at a time, one piece every interval, until all of b is sent or stop is
// closed (then it returns nil with the rest unsent). A write error (the server closed or reset
// the connection) is returned at once.
func (c *Conn) Drip(b []byte, n int, every time.Duration, stop <-chan struct{}) error {
	if n <= 0 {
		return fmt.Errorf("clients: drip size %d; want > 0", n)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for len(b) > 0 {
		k := min(n, len(b))
		if err := c.write(b[:k]); err != nil {
			return err
		}
		b = b[k:]
		if len(b) == 0 {
			break
		}
		select {
		case <-stop:
			return nil
		case <-t.C:
			c.markSent(pauseMarker(every))
		}
	}
	return nil
}

func (c *Conn) write(b []byte) error {
	if err := c.nc.SetWriteDeadline(time.Now().Add(c.cfg.writeTimeout)); err != nil {
		return err
	}
	n, err := c.nc.Write(b)
	c.mu.Lock()
	c.sent = appendEscaped(c.sent, b[:n])
	c.mu.Unlock()
	return err
}

func (c *Conn) markSent(m string) {
	c.mu.Lock()
	c.sent = append(c.sent, m...)
	c.mu.Unlock()
}

// CloseWrite half-closes the connection: shutdown(SHUT_WR), the server reads EOF.
func (c *Conn) CloseWrite() error {
	c.markSent("⟨shutdown wr⟩")
	return c.nc.CloseWrite()
}

// Reset closes the connection with SO_LINGER 0: the kernel sends RST instead of FIN and
// drops whatever is unsent.
func (c *Conn) Reset() error {
	c.markSent("⟨reset⟩")
	if err := c.nc.SetLinger(0); err != nil {
		c.nc.Close()
		return err
	}
	return c.nc.Close()
}

// Close closes the connection normally (FIN). Closing twice is harmless.
func (c *Conn) Close() error {
	err := c.nc.Close()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// ReadResponse reads one response with the strict reader; the whole read has the deadline
// now+timeout. Errors are those of wire.ReadResponse; Classify sorts them. Bytes read past the
// response stay buffered for the next read on c.
func (c *Conn) ReadResponse(method string, timeout time.Duration) (*wire.Response, error) {
	if err := c.setReadDeadline(timeout); err != nil {
		return nil, err
	}
	return wire.ReadResponse(c.br, method)
}

// ReadResponses reads one response per method, in order, stopping at the first error (the
// responses read so far are returned with it). Each read has its own deadline of timeout.
// A 1xx interim response counts as one response like any other, so a caller expecting
// "100 then 200" passes the method twice.
func (c *Conn) ReadResponses(methods []string, timeout time.Duration) ([]*wire.Response, error) {
	var out []*wire.Response
	for _, m := range methods {
		r, err := c.ReadResponse(m, timeout)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (c *Conn) setReadDeadline(d time.Duration) error {
	c.mu.Lock()
	c.readWait = d
	c.mu.Unlock()
	return c.nc.SetReadDeadline(time.Now().Add(d))
}

// WaitEnd watches the connection for window and reports what happens first: Closed, Reset,
// Data (the bytes are returned) or Silent for the whole window. Bytes already buffered (read
// past the last response) count as data arriving. Other read errors are reported as Reset:
// the connection is unusable either way.
func (c *Conn) WaitEnd(window time.Duration) (Ending, []byte) {
	if n := c.br.Buffered(); n > 0 {
		b := make([]byte, n)
		io.ReadFull(c.br, b)
		return Data, b
	}
	if err := c.setReadDeadline(window); err != nil {
		return Reset, nil
	}
	buf := make([]byte, 64<<10)
	n, err := c.br.Read(buf)
	if n > 0 {
		return Data, buf[:n]
	}
	switch end := Classify(err); end {
	case Closed, Silent:
		return end, nil
	}
	return Reset, nil
}

// Readable reports whether bytes are buffered or arrive within window, without consuming
// them: the next read returns them. A close, a reset or silence for the whole window is
// false (WaitEnd tells them apart).
func (c *Conn) Readable(window time.Duration) bool {
	if c.br.Buffered() > 0 {
		return true
	}
	if err := c.setReadDeadline(window); err != nil {
		return false
	}
	_, err := c.br.Peek(1)
	return err == nil
}

// ReadSlowly reads at most n bytes per read call, waiting every between reads, until EOF,
// an error, or timeout passing without a byte arriving. It returns everything read; the error
// is nil when the stream ended cleanly (EOF). Combine with WithRecvBuffer to make the server
// block in write.
func (c *Conn) ReadSlowly(n int, every time.Duration, timeout time.Duration) ([]byte, error) {
	if n <= 0 {
		return nil, fmt.Errorf("clients: read size %d; want > 0", n)
	}
	var out []byte
	buf := make([]byte, n)
	for {
		if err := c.setReadDeadline(timeout); err != nil {
			return out, err
		}
		k, err := c.br.Read(buf)
		out = append(out, buf[:k]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		time.Sleep(every) // the slowness is the behaviour under test, not synchronisation
	}
}

// recorder is the reading side of the transcript: every byte read from the socket, and how
// the stream ended.
type recorder struct{ c *Conn }

func (r recorder) Read(p []byte) (int, error) {
	n, err := r.c.nc.Read(p)
	c := r.c
	c.mu.Lock()
	defer c.mu.Unlock()
	c.received = appendEscaped(c.received, p[:n])
	if err != nil && !c.ended {
		switch Classify(err) {
		case Closed:
			c.received = append(c.received, "⟨close⟩"...)
			c.ended = true
		case Reset:
			c.received = append(c.received, "⟨reset⟩"...)
			c.ended = true
		case Silent:
			c.markTimeout()
		}
	}
	return n, err
}

// markTimeout records a read that timed out. Polling loops time out many times in a row; the
// transcript says so once with a count ("⟨timeout 100ms ×19⟩") rather than nineteen times.
// Called with c.mu held.
func (c *Conn) markTimeout() {
	m := "timeout " + c.readWait.String()
	if c.repeatMark == m && c.repeatEnd == len(c.received) {
		c.repeatN++
		c.received = append(c.received[:c.repeatAt], fmt.Sprintf("⟨%s ×%d⟩", m, c.repeatN)...)
	} else {
		c.repeatMark, c.repeatAt, c.repeatN = m, len(c.received), 1
		c.received = append(c.received, "⟨"+m+"⟩"...)
	}
	c.repeatEnd = len(c.received)
}

// Classify maps an error from ReadResponse (or any read on a Conn) to the Ending it shows;
// nil is NoEnding (a response was read).
func Classify(err error) Ending {
	var we *wire.Error
	var ne net.Error
	switch {
	case err == nil:
		return NoEnding
	case errors.As(err, &we):
		return IllFramed
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Truncated
	case errors.Is(err, io.EOF):
		return Closed
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return Reset
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return Silent
	}
	return Failed
}

// Transcript returns what was sent and received so far, escaped (see Escape), with markers:
// "⟨split⟩", "⟨pause 50ms⟩", "⟨shutdown wr⟩", "⟨reset⟩" in sent; "⟨close⟩", "⟨reset⟩",
// "⟨timeout 300ms⟩" in received. Received holds every byte read, garbage included.
func (c *Conn) Transcript() (sent, received string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.sent), string(c.received)
}

// SplitEvery returns the offsets that cut b into pieces of k bytes (the last may be shorter),
// for SendSplit. k <= 0 gives no offsets.
func SplitEvery(b []byte, k int) []int {
	if k <= 0 {
		return nil
	}
	var at []int
	for o := k; o < len(b); o += k {
		at = append(at, o)
	}
	return at
}
