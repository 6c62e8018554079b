package clients

import (
	"context"
	"fmt"
	"time"
)

// Phase is the point of a conversation at which a client resets its connection.
type Phase int

const (
	// PhaseMidRequest: part of the request head was sent.
	PhaseMidRequest Phase = iota
	// PhaseAfterRequest: the whole request was sent, nothing read yet.
	PhaseAfterRequest
	// PhaseMidResponse: the first bytes of the response were read, the rest is still coming.
	PhaseMidResponse
)

func (p Phase) String() string {
	switch p {
	case PhaseMidRequest:
		return "mid-request"
	case PhaseAfterRequest:
		return "after the request"
	case PhaseMidResponse:
		return "mid-response"
	}
	return fmt.Sprintf("phase(%d)", int(p))
}

// ResetAt sends req on a new connection and resets it (RST, SO_LINGER 0) at phase. For
// PhaseMidResponse, req should ask for a large response, so the server is still writing.
// It returns an error when the connection could not be set up for the phase (dial, send, or
// no response byte within timeout for PhaseMidResponse).
func ResetAt(ctx context.Context, addr string, req Request, phase Phase, timeout time.Duration) error {
	c, err := Dial(ctx, addr)
	if err != nil {
		return err
	}
	switch phase {
	case PhaseMidRequest:
		n := len(req.Bytes) / 2
		if n == 0 {
			n = len(req.Bytes)
		}
		err = c.Send(req.Bytes[:n])
	case PhaseAfterRequest:
		err = c.Send(req.Bytes)
	case PhaseMidResponse:
		if err = c.Send(req.Bytes); err == nil {
			if end, _ := c.WaitEnd(timeout); end != Data {
				err = fmt.Errorf("no response byte arrived before the reset (%s)", end)
			}
		}
	}
	if rerr := c.Reset(); err == nil && rerr != nil {
		err = rerr
	}
	return err
}

// DialEach opens n connections concurrently, each with its own dial timeout, and returns them
// with their errors (conns[i] is nil when errs[i] is set). Used to overflow a listen backlog:
// connections beyond it do not complete their handshake in time.
func DialEach(ctx context.Context, addr string, n int, dialTimeout time.Duration) ([]*Conn, []error) {
	conns := make([]*Conn, n)
	errs := make([]error, n)
	ForEach(ctx, n, 64, func(i int) {
		dctx, cancel := context.WithTimeout(ctx, dialTimeout)
		defer cancel()
		conns[i], errs[i] = Dial(dctx, addr)
	})
	if ctx.Err() != nil {
		for i := range conns {
			if conns[i] == nil && errs[i] == nil {
				errs[i] = ctx.Err()
			}
		}
	}
	return conns, errs
}

// SendEach sends req on every open connection (nil entries are skipped) and returns the
// errors.
func SendEach(conns []*Conn, req Request) []error {
	errs := make([]error, len(conns))
	for i, c := range conns {
		if c != nil {
			errs[i] = c.Send(req.Bytes)
		}
	}
	return errs
}

// ReadEach reads one response on every open connection concurrently, then closes them all.
func ReadEach(ctx context.Context, conns []*Conn, method string, timeout time.Duration) []Exchange {
	ex := make([]Exchange, len(conns))
	ForEach(ctx, len(conns), 64, func(i int) {
		c := conns[i]
		if c == nil {
			return
		}
		ex[i].finish(c, []string{method}, timeout)
	})
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	return ex
}
