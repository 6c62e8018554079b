package clients

import (
	"context"
	"fmt"
	"time"

	"github.com/forkproof/forkproof/spec/wire"
)

// RoundTrip sends req on a fresh connection to addr and reads one response to method within
// timeout: the plain request the probes and control checks send. Its errors wrap the cause,
// so a response that did not come in time is errors.Is(err, os.ErrDeadlineExceeded).
func RoundTrip(ctx context.Context, addr, req, method string, timeout time.Duration) (*wire.Response, error) {
	c, err := Dial(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to %s: %w", addr, err)
	}
	defer c.Close()
	if err := c.Send([]byte(req)); err != nil {
		return nil, fmt.Errorf("sending: %w", err)
	}
	r, err := c.ReadResponse(method, timeout)
	if err != nil {
		return nil, fmt.Errorf("reading the response: %w", err)
	}
	return r, nil
}
