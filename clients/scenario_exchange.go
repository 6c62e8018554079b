package clients

import (
	"context"
	"sync"
	"time"

	"github.com/forkproof/forkproof/spec/wire"
)

// The scenario functions below (scenario_*.go) do to a server what hostile networks and
// clients do, and return plain observations; judging them is the conformance package's job.

// Request is one request of a scenario and the method its response answers (framing depends
// on it: a response to HEAD has no body).
type Request struct {
	Method string
	Bytes  []byte
}

// Exchange is what one connection of a scenario produced.
type Exchange struct {
	// DialErr is set when the connection was never established.
	DialErr error
	// SendErr is set when sending failed (the server closed or reset early).
	SendErr error
	// Observation holds the responses read, in order, then what ended reading before every
	// expected response arrived (End and Err; NoEnding and nil when all arrived) or, for
	// scenarios that watch the connection after the responses (SendWatch), what it did then
	// (End, and Extra for the bytes that arrived).
	Observation
	// Premature is how the server reacted before the request was complete (NoEnding: it
	// waited, as it should); PrematureAt is how many bytes had been sent, PrematureData what
	// arrived.
	Premature     Ending
	PrematureAt   int
	PrematureData []byte
	// Sent and Received are the connection's transcript.
	Sent, Received string
}

// Response is an alias kept short for scenario code.
type Response = wire.Response

// OK reports whether the connection was established, the request sent and every expected
// response read.
func (e *Exchange) OK() bool {
	return e.DialErr == nil && e.SendErr == nil && e.Err == nil && e.Premature == NoEnding
}

// finish reads len(methods) responses on c into e and records the transcript. (A response
// whose body runs to the close and ends in a reset is a response: spec/wire returns it.)
func (e *Exchange) finish(c *Conn, methods []string, timeout time.Duration) {
	var err error
	e.Responses, err = c.ReadResponses(methods, timeout)
	if err == nil && len(e.Responses) < len(methods) {
		err = errShortRead
	}
	e.Stop(err, timeout)
	e.Sent, e.Received = c.Transcript()
}

type scenarioError string

func (e scenarioError) Error() string { return string(e) }

const errShortRead = scenarioError("fewer responses than requests")

// peerReadWait bounds how long PartialSend waits for the server to read a piece.
const peerReadWait = 2 * time.Second

// PartialSend sends req cut at the offsets in at and reads one response: the server must
// answer as if the request had arrived whole. Between pieces it waits (when the server is on
// this host) until the server has read the piece, then watches the connection for pause
// instead of sleeping, so a server that answers (or closes) before the request is complete is
// caught in the act: Premature says how, at which offset.
func PartialSend(ctx context.Context, addr string, req Request, at []int, pause, timeout time.Duration) Exchange {
	c, err := Dial(ctx, addr)
	if err != nil {
		return Exchange{DialErr: err}
	}
	defer c.Close()
	return PartialSendOn(c, req, at, pause, timeout)
}

// PartialSendOn is PartialSend on a connection already open (a kept-alive one, after earlier
// exchanges): the transcript is the whole connection's.
func PartialSendOn(c *Conn, req Request, at []int, pause, timeout time.Duration) Exchange {
	var e Exchange
	prev := 0
	for _, cut := range append(append([]int(nil), at...), len(req.Bytes)) {
		if cut <= prev || cut > len(req.Bytes) {
			continue
		}
		if e.SendErr = c.Send(req.Bytes[prev:cut]); e.SendErr != nil {
			break
		}
		prev = cut
		if cut == len(req.Bytes) {
			break
		}
		// Let the server read this piece alone before watching it: then a server that
		// answers whatever one read returned is caught for sure, however late it started.
		WaitPeerRead(c, min(timeout, peerReadWait))
		if end, data := c.WaitEnd(pause); end != Silent {
			e.Premature, e.PrematureAt, e.PrematureData = end, cut, data
			break
		}
	}
	if e.SendErr != nil || e.Premature != NoEnding {
		e.Sent, e.Received = c.Transcript()
		return e
	}
	e.finish(c, []string{req.Method}, timeout)
	return e
}

// Pipeline sends every request in one write and reads one response per request, in order.
func Pipeline(ctx context.Context, addr string, reqs []Request, timeout time.Duration) Exchange {
	var all []byte
	methods := make([]string, len(reqs))
	for i, r := range reqs {
		all = append(all, r.Bytes...)
		methods[i] = r.Method
	}
	return exchangeOn(ctx, addr, methods, timeout, func(c *Conn) error { return c.Send(all) })
}

// HalfClose sends req, shuts the connection down for writing, and reads one response.
func HalfClose(ctx context.Context, addr string, req Request, timeout time.Duration) Exchange {
	return exchangeOn(ctx, addr, []string{req.Method}, timeout, func(c *Conn) error {
		if err := c.Send(req.Bytes); err != nil {
			return err
		}
		return c.CloseWrite()
	})
}

// exchangeOn dials addr, sends with send, and reads one response per method.
func exchangeOn(ctx context.Context, addr string, methods []string, timeout time.Duration, send func(*Conn) error) Exchange {
	var e Exchange
	c, err := Dial(ctx, addr)
	if err != nil {
		e.DialErr = err
		return e
	}
	defer c.Close()
	if e.SendErr = send(c); e.SendErr != nil {
		e.Sent, e.Received = c.Transcript()
		return e
	}
	e.finish(c, methods, timeout)
	return e
}

// KeepAlive sends the requests one after another on one connection, reading each response
// before sending the next.
func KeepAlive(ctx context.Context, addr string, reqs []Request, timeout time.Duration) Exchange {
	var e Exchange
	c, err := Dial(ctx, addr)
	if err != nil {
		e.DialErr = err
		return e
	}
	defer c.Close()
	return KeepAliveOn(c, reqs, timeout)
}

// KeepAliveOn is KeepAlive on a connection already open (so many can be opened first and
// held at once); it does not close c.
func KeepAliveOn(c *Conn, reqs []Request, timeout time.Duration) Exchange {
	var e Exchange
	var err error
	for _, r := range reqs {
		if e.SendErr = c.Send(r.Bytes); e.SendErr != nil {
			break
		}
		var resp *Response
		if resp, err = c.ReadResponse(r.Method, timeout); err != nil {
			break
		}
		e.Responses = append(e.Responses, resp)
	}
	e.Stop(err, timeout)
	e.Sent, e.Received = c.Transcript()
	return e
}

// ForEach calls f(i) for i in [0, n) with at most par calls running at once, and returns when
// every call has returned. It stops starting new calls once ctx is done.
func ForEach(ctx context.Context, n, par int, f func(i int)) {
	if par < 1 {
		par = 1
	}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(i)
		}()
	}
	wg.Wait()
}

// SendWatch sends req in one write, reads one response, then watches the connection for
// window: a server that answered before reading the whole request shows it there (a second,
// unasked-for response to the unread rest, or a reset from closing with unread bytes).
func SendWatch(ctx context.Context, addr string, req Request, timeout, window time.Duration) Exchange {
	var e Exchange
	c, err := Dial(ctx, addr)
	if err != nil {
		e.DialErr = err
		return e
	}
	defer c.Close()
	if e.SendErr = c.Send(req.Bytes); e.SendErr != nil {
		e.Sent, e.Received = c.Transcript()
		return e
	}
	e.finish(c, []string{req.Method}, timeout)
	if e.Err == nil {
		e.Watch(c, window)
		e.Sent, e.Received = c.Transcript()
	}
	return e
}
