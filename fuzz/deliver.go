package fuzz

import (
	"context"
	"fmt"
	"time"

	"github.com/forkproof/forkproof/clients"
	"github.com/forkproof/forkproof/spec/wire"
)

// target is where inputs are delivered and how long each step may take.
type target struct {
	addr    string
	timeout time.Duration // per dial, write, response and watch of the connection's end
	facts
	// found, when set, says whether a finding is known already by its key; deliver skips
	// watching for a close that is known not to come, so a campaign does not wait a full
	// timeout on every such input of a target known to have the bug.
	found func(key string) bool
}

// observation is what deliver saw on one connection: facts only, judged by judge.
type observation struct {
	// sent is how many bytes of the input were written, in order; writeErr, when set, is
	// what failed the write of the bytes after them.
	sent     int
	writeErr error
	// reads are the responses read (or the errors that ended a read), in order.
	reads []read
	// reset says the plan reset the connection; serveErr is then what a fresh connection's
	// GET / got (nil: a response).
	reset    bool
	serveErr error
	// end is what happened first while the connection was watched after a response that
	// must end it (see closeWanted): its End is clients.NoEnding when it was not watched.
	end clients.Observation
	// after are the reads made once every request was answered, one of them before it had
	// arrived whole: probed says the rest probe was sent after the input first (not when
	// the input was half-closed).
	after  []read
	probed bool
	// facts are what the probes showed of the target before.
	facts
}

// facts are what a campaign's probes (probeRoot) showed of the target.
type facts struct {
	// rootStatus is the status of the answer to GET / on a fresh connection (0: not known);
	// crlfFirst says the target answers the same when an empty line comes first.
	rootStatus int
	crlfFirst  bool
	// http10 says the target answered GET / HTTP/1.1 with HTTP/1.0: it speaks HTTP/1.0,
	// and HTTP/1.1's rules on Host and field syntax are not its (as the catalogue's
	// NeedHTTP11 cases).
	http10 bool
}

// read is one read of a response.
type read struct {
	// req is the request it answers: an index into analysis.reqs, or len(analysis.reqs) for
	// the invalid or incomplete tail.
	req int
	// sent is how many bytes of the input had been written when the read began.
	sent int
	// window says it was read while watching the connection during a pause or a hold,
	// before the whole input was written.
	window bool
	resp   *wire.Response // with err set, what wire.ReadResponse returned of it (maybe nil)
	err    error
}

// dial opens a connection to t.
func (t *target) dial() (*clients.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), t.timeout)
	defer cancel()
	return clients.Dial(ctx, t.addr, clients.WithWriteTimeout(t.timeout))
}

// probe runs in, whose bytes the judge analysed as a, on a fresh connection and judges it.
func (t *target) probe(in *Input, a analysis) (result, error) {
	c, err := t.dial()
	if err != nil {
		return result{}, err
	}
	defer c.Close()
	return t.exchange(c, in, a), nil
}

// readFinal reads responses on c until a final (non-1xx) one or a 101; the whole read has
// the deadline now+timeout.
func readFinal(c *clients.Conn, method string, timeout time.Duration) (*wire.Response, error) {
	deadline := time.Now().Add(timeout)
	for {
		r, err := c.ReadResponse(method, time.Until(deadline))
		if err != nil || r.StatusCode >= 200 || r.StatusCode == 101 {
			return r, err
		}
	}
}

// ask sends req on a fresh connection and reads the final response to it.
func (t *target) ask(method, req string) (*wire.Response, error) {
	c, err := t.dial()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.Send([]byte(req)); err != nil {
		return nil, err
	}
	return readFinal(c, method, t.timeout)
}

// servingProbe is the request that checks a target still serves after a reset.
const servingProbe = "GET / HTTP/1.1\r\nHost: forkproof\r\nConnection: close\r\n\r\n"

// stillServing checks on a fresh connection that the target answers a plain request.
func (t *target) stillServing() error {
	_, err := t.ask("GET", servingProbe)
	return err
}

// probeRoot asks the target, on fresh connections, the status of its answer to GET / (0 when
// it gives none), which the answer to the rest probe is compared with, and whether an empty
// line before it changes that answer (RFC 9112 §2.2: a server SHOULD ignore one).
func (t *target) probeRoot() {
	r, err := t.ask("GET", servingProbe)
	if err != nil {
		return
	}
	t.rootStatus, t.http10 = r.StatusCode, r.Version == "HTTP/1.0"
	r, err = t.ask("GET", "\r\n"+servingProbe)
	t.crlfFirst = err == nil && r.StatusCode == t.rootStatus
}

// restProbe is sent after an input one of whose requests was answered before it had arrived
// whole: its answer shows whether the target read the rest of that request as a request.
// An empty line goes first when the target ignores it, so that bytes left over from the
// request make a request line no server takes for a GET.
func (t *target) restProbe() string {
	if t.crlfFirst {
		return "\r\n" + servingProbe
	}
	return servingProbe
}

// echoProbe is the body of the request that asks whether the target has /echo.
const echoProbe = "forkproof-echo-probe"

// hasEcho reports whether POST /echo returns the request body, byte for byte.
func (t *target) hasEcho() bool {
	r, err := t.ask("POST", fmt.Sprintf("POST /echo HTTP/1.1\r\nHost: forkproof\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(echoProbe), echoProbe))
	return err == nil && r.StatusCode == 200 && string(r.Body) == echoProbe
}

// delivery is one run of deliver.
type delivery struct {
	t   *target
	c   *clients.Conn
	in  *Input
	a   analysis
	o   *observation
	got int // requests answered so far: the next response answers a.reqs[got]
}

// deliver sends in, whose bytes the judge analysed as a, on c as its plan says (splits,
// pauses, a withheld last byte, a reset, a half-close) and records what came back: the
// responses, one per request, then, when the last one must end the connection, how it ended.
// It stops as soon as judge has a finding (as a person would stop at the first bug), when
// the connection is over (closed, a tunnel, a read failed) or when the plan is done.
func (t *target) deliver(c *clients.Conn, in *Input, a analysis) *observation {
	d := &delivery{t: t, c: c, in: in, a: a, o: &observation{facts: t.facts}}
	if d.send() {
		return d.o
	}
	if d.o.writeErr != nil {
		// The target stopped reading: what it answered before tells whether it had to,
		// and so may an answer to the request it stopped reading (a refusal, or one that
		// announced the close).
		if !d.readAnswers() && d.got < len(d.a.reqs) {
			d.read(d.got, false)
		}
		return d.o
	}
	if in.ResetAt > 0 {
		c.Reset()
		d.o.reset = true
		d.o.serveErr = t.stillServing()
		return d.o
	}
	if in.HalfClose {
		c.CloseWrite()
	}
	switch {
	case d.readAnswers():
	case judge(in, a, d.o).early != nil:
		d.readRest()
	default:
		d.readTail()
	}
	return d.o
}

// over reports whether what was observed so far shows a finding.
func (d *delivery) over() bool { return judge(d.in, d.a, d.o).kind != "" }

// plan returns the offsets after which the input's writes are cut (the last is the end:
// where the connection is reset, or the input's length) and whether the last byte is
// withheld for a while.
func plan(in *Input, a analysis) (cuts []int, hold bool) {
	end := len(in.Send)
	if in.ResetAt > 0 && in.ResetAt < end {
		end = in.ResetAt
	}
	cuts = clipSplits(in.SplitAt, end)
	hold = in.Hold > 0 && in.ResetAt <= 0 && end > 1 && a.valid()
	if hold && (len(cuts) == 0 || cuts[len(cuts)-1] < end-1) {
		cuts = append(cuts, end-1)
	}
	return append(cuts, end), hold
}

// send writes the input piece by piece, watching the connection in the pauses and the hold;
// it reports whether the exchange is over.
func (d *delivery) send() bool {
	cuts, hold := plan(d.in, d.a)
	end := cuts[len(cuts)-1]
	for _, cut := range cuts {
		if cut <= d.o.sent {
			continue
		}
		if err := d.c.Send(d.in.Send[d.o.sent:cut]); err != nil {
			// The server may close after rejecting the start of an invalid input, or after
			// answering a request that asked it to close; judge tells which, once the
			// answers to the requests sent whole are read.
			d.o.writeErr = err
			return false
		}
		d.o.sent = cut
		switch {
		case cut == end:
		case hold && cut == end-1:
			if d.watch(time.Now().Add(d.in.Hold)) {
				return true
			}
		case d.in.Pause > 0:
			time.Sleep(d.in.Pause) // the delivery plan's pause, not synchronisation
			if d.watch(time.Now().Add(time.Millisecond)) {
				return true
			}
		}
	}
	return false
}

// watch reads the responses that arrive before until, in the middle of the input; it
// reports whether the exchange is over.
func (d *delivery) watch(until time.Time) bool {
	complete := 0
	for _, r := range d.a.reqs {
		if r.end <= d.o.sent {
			complete++
		}
	}
	// Once every request is answered, nothing more is due before the rest is sent.
	for d.got < len(d.a.reqs) && d.c.Readable(max(time.Until(until), 0)) {
		// A response to a request not yet sent whole: only a valid input is watched for
		// that (an invalid one may be answered as soon as it is seen).
		early := d.got >= complete
		if early && !d.a.valid() {
			return false
		}
		r, err := d.read(d.got, true)
		switch {
		case err != nil:
			// An early response that fails to read is read again, and judged, as the
			// response to its request after the input is sent.
			return !early
		case d.over():
			return true
		}
		d.got++
		if d.a.reqs[d.got-1].close || hasClose(r) {
			return true
		}
	}
	return false
}

// read reads the final response to request i (or to the tail, when i is len(a.reqs)) and
// records it.
func (d *delivery) read(i int, window bool) (*wire.Response, error) {
	var method string
	if i < len(d.a.reqs) {
		method = d.a.reqs[i].method
	} else {
		method = tailMethod(d.in.Send[lastEnd(d.a):])
	}
	r, err := readFinal(d.c, method, d.t.timeout)
	d.o.reads = append(d.o.reads, read{req: i, sent: d.o.sent, window: window, resp: r, err: err})
	return r, err
}

// readAnswers reads the responses to the requests not yet answered; it reports whether the
// exchange is over.
func (d *delivery) readAnswers() bool {
	for d.got < len(d.a.reqs) && d.a.reqs[d.got].end <= d.o.sent {
		r, err := d.read(d.got, false)
		d.got++
		switch {
		case err != nil || d.over() || r.Tunnel:
			return true
		case d.a.reqs[d.got-1].close || hasClose(r):
			d.watchEnd()
			return true
		}
	}
	return false
}

// readRest, after every request was answered and one of them before it had arrived whole,
// sends the rest probe (unless the input was half-closed) and reads what comes back, up to two
// responses: judgeRest tells from them what the target made of the rest of that request.
func (d *delivery) readRest() {
	if !d.in.HalfClose {
		if d.c.Send([]byte(d.t.restProbe())) != nil {
			return // closed: the target owed nothing more
		}
		d.o.probed = true
	}
	for range 2 {
		r, err := readFinal(d.c, "GET", d.t.timeout)
		d.o.after = append(d.o.after, read{req: len(d.a.reqs), sent: d.o.sent, resp: r, err: err})
		if err != nil {
			return
		}
	}
}

// readTail reads the response to an invalid tail, or to an incomplete one the target saw
// end (half-close); a target rightly waits for the rest of an incomplete tail otherwise.
func (d *delivery) readTail() {
	switch {
	case d.a.tail == tailNone, d.a.tail == tailIncomplete && !d.in.HalfClose:
		return
	}
	if _, err := d.read(len(d.a.reqs), false); err == nil {
		d.watchEnd()
	}
}

// watchEnd watches the connection after the last response read, when that response must
// end it, unless a campaign already knows the target keeps such connections open.
func (d *delivery) watchEnd() {
	class, _ := closeWanted(d.in, d.a, d.o.reads[len(d.o.reads)-1])
	if class == "" || d.t.found != nil && d.t.found(KindNoClose+"/"+class) {
		return
	}
	d.o.end.Watch(d.c, d.t.timeout)
}
