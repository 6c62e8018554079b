package clients

import (
	"fmt"
	"time"

	"github.com/forkproof/forkproof/spec/wire"
)

// Ending is how a connection stopped giving responses: what ended a read, or what happened
// first while the connection was watched after the responses. It is the one vocabulary of
// observed ends that the catalogue's interpreter, the robustness scenarios and the fuzzer
// share. (What an outcome of the catalogue expects is spec.End: an expectation, not an
// observation.)
type Ending int

const (
	NoEnding  Ending = iota // nothing ended it: every response wanted was read, and the end was not watched
	Closed                  // the peer closed cleanly (FIN; io.EOF before any byte of a response)
	Reset                   // the peer reset the connection (ECONNRESET, EPIPE, ECONNABORTED)
	Silent                  // still open and silent until the deadline
	Data                    // bytes arrived while the end was watched
	IllFramed               // the strict reader rejected the bytes (*wire.Error)
	Truncated               // the connection closed inside a response (io.ErrUnexpectedEOF)
	Failed                  // anything else (e.g. the connection was closed locally)
)

// String names an ending in the words of a watch: "close", "reset", "timeout", "data".
func (e Ending) String() string {
	switch e {
	case NoEnding:
		return "none"
	case Closed:
		return "close"
	case Reset:
		return "reset"
	case Silent:
		return "timeout"
	case Data:
		return "data"
	case IllFramed:
		return "ill-framed response"
	case Truncated:
		return "truncated response"
	case Failed:
		return "error"
	}
	return fmt.Sprintf("ending %d", int(e))
}

// WhyStopped names an ending in the words of a read that wanted a response: "close without
// a response" where String says "close"; NoEnding is "response" (one was read).
func (e Ending) WhyStopped() string {
	switch e {
	case NoEnding:
		return "response"
	case Closed:
		return "close without a response"
	}
	return e.String()
}

// Observation is what a connection did: the responses read, in order, then how it ended.
type Observation struct {
	// Responses holds the responses read, in order.
	Responses []*wire.Response
	// End is what stopped the responses: the read that failed (Err says why), or, after every
	// response wanted was read, what happened first while the end was watched (Watch).
	End Ending
	// Err is the error that ended reading; nil when the end was watched or not observed.
	Err error
	// Extra holds the bytes that arrived while the end was watched, for Data.
	Extra []byte
	// Silence is how long the connection was observed silent and open, for Silent.
	Silence time.Duration
}

// Stop records err, returned by a read that waited up to wait, as what ended reading.
func (o *Observation) Stop(err error, wait time.Duration) {
	o.Err, o.End = err, Classify(err)
	if o.End == Silent {
		o.Silence = wait
	}
}

// Watch watches c for window after the responses and records what happens first: a close,
// a reset, bytes (Extra), or silence for the whole window.
func (o *Observation) Watch(c *Conn, window time.Duration) {
	o.End, o.Extra = c.WaitEnd(window)
	if o.End == Silent {
		o.Silence = window
	}
}
