package clients

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/forkproof/forkproof/spec/wire"
)

// SlowObservation is what a slow client saw while it dripped bytes at the server.
type SlowObservation struct {
	// Cut reports that the server ended the conversation (closed, reset or answered) before
	// the limit; After is when.
	Cut   bool
	After time.Duration
	// End is how: Closed, Reset or Data (the server answered, e.g. 408); Silent when the
	// limit passed with the server still waiting.
	End Ending
	// Response is the server's answer when it sent one and it could be read.
	Response *wire.Response
	// Dripped counts the bytes sent after the opening bytes.
	Dripped        int
	Err            error // dial failure
	Sent, Received string
}

// Slowloris opens a connection, sends the start of a request head and then one more header
// byte every interval, forever, until the server ends the connection or limit passes.
// hanging, when not nil, is called once the server has held the connection for one interval
// (so a probe started then runs while the server is busy with the slow client).
func Slowloris(ctx context.Context, addr, host string, every, limit time.Duration, hanging func()) SlowObservation {
	head := []byte("GET / HTTP/1.1\r\nHost: " + host + "\r\n")
	return drip(ctx, addr, head, func(i int) byte {
		// Endless, valid header fields: "X-Slow-0: a\r\n", one byte at a time.
		const field = "X-Slow: a\r\n"
		return field[i%len(field)]
	}, "GET", every, limit, hanging)
}

// SlowBody sends a complete request head announcing a large body to path with POST, then one
// body byte every interval, until the server ends the connection or limit passes. hanging is
// as for Slowloris.
func SlowBody(ctx context.Context, addr, host, path string, every, limit time.Duration, hanging func()) SlowObservation {
	head := []byte(fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain\r\nContent-Length: 1000000\r\n\r\n", path, host))
	return drip(ctx, addr, head, func(int) byte { return 'b' }, "POST", every, limit, hanging)
}

// drip sends head, then next(i) every interval, watching between bytes for the server to end
// the connection. Watching and writing alternate on one goroutine: WaitEnd is the pause.
func drip(ctx context.Context, addr string, head []byte, next func(int) byte, method string, every, limit time.Duration, hanging func()) SlowObservation {
	var o SlowObservation
	signal := func() {
		if hanging != nil {
			hanging()
			hanging = nil
		}
	}
	defer signal() // whatever happens, whoever waits for the hang is released
	c, err := Dial(ctx, addr)
	if err != nil {
		o.Err = err
		return o
	}
	defer c.Close()
	start := time.Now()
	sendErr := c.Send(head)
	for sendErr == nil && time.Since(start) < limit && ctx.Err() == nil {
		end, data := c.WaitEnd(every)
		if end != Silent {
			o.Cut, o.End, o.After = true, end, time.Since(start)
			if end == Data {
				o.Response = parseLoose(data, method)
			}
			break
		}
		signal()
		sendErr = c.Send([]byte{next(o.Dripped)})
		if sendErr == nil {
			o.Dripped++
		}
	}
	if sendErr != nil && !o.Cut {
		// The server closed or reset while we wrote: see how it ended.
		end, data := c.WaitEnd(every)
		if end == Silent {
			end = Reset
		}
		o.Cut, o.End, o.After = true, end, time.Since(start)
		if end == Data {
			o.Response = parseLoose(data, method)
		}
	}
	if !o.Cut {
		o.End, o.After = Silent, time.Since(start)
	}
	o.Sent, o.Received = c.Transcript()
	return o
}

// parseLoose reads a response from bytes already received; nil when they are not one.
func parseLoose(data []byte, method string) *wire.Response {
	r, err := wire.ReadResponse(bufio.NewReader(bytes.NewReader(data)), method)
	if err != nil {
		return nil
	}
	return r
}

// SlowRead sends req (which should ask the server to close, so the body ends at EOF) on a
// connection with a small receive buffer, reads the answer chunk bytes at a time every
// interval, and parses what arrived as one response.
func SlowRead(ctx context.Context, addr string, req Request, recvBuf, chunk int, every, timeout time.Duration) Exchange {
	var e Exchange
	c, err := Dial(ctx, addr, WithRecvBuffer(recvBuf))
	if err != nil {
		e.DialErr = err
		return e
	}
	defer c.Close()
	if e.SendErr = c.Send(req.Bytes); e.SendErr != nil {
		e.Sent, e.Received = c.Transcript()
		return e
	}
	data, err := c.ReadSlowly(chunk, every, timeout)
	if len(data) > 0 {
		r, perr := wire.ReadResponse(bufio.NewReader(bytes.NewReader(data)), req.Method)
		if perr == nil {
			e.Responses = []*wire.Response{r}
		} else if err == nil {
			err = perr
		}
	}
	if len(e.Responses) == 0 && err == nil {
		err = errShortRead
	}
	if len(e.Responses) == 1 {
		err = nil
	}
	e.Stop(err, timeout)
	e.Sent, _ = c.Transcript()
	e.Received = fmt.Sprintf("%d bytes read slowly", len(data))
	return e
}
