package fuzz

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/forkproof/forkproof/clients"
	"github.com/forkproof/forkproof/spec/wire"
)

// Requests of the judge's tests.
const (
	getKA      = "GET / HTTP/1.1\r\nHost: a\r\n\r\n" // 27 bytes
	getClose   = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
	echoReq    = "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
	noHost     = "GET / HTTP/1.1\r\n\r\n"        // invalid: rule host
	headOnly   = "GET / HTTP/1.1\r\nHost: a\r\n" // incomplete: the head never ends
	headClose  = "HEAD / HTTP/1.0\r\n\r\n"
	trailerWS  = "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\no :\r\n\r\n"  // invalid in the trailer: rule space-before-colon
	absBadHost = "GET http://a/ HTTP/1.1\r\nHost: a b\r\n\r\n"                                      // invalid: rule host
	absNoHost  = "GET http://a/ HTTP/1.1\r\n\r\n"                                                   // invalid: rule host
	badCLGet   = "GET / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n"                             // invalid: rule content-length
	badCLPost  = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n"                            // invalid: rule content-length
	sameCL     = "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\ncontent-length: 2, 2\r\n\r\nhi" // invalid: rule content-length
	hugeCL     = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\nab"     // invalid: rule content-length
	teGzip     = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"                    // invalid: rule te-not-chunked
	teNotLast  = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"           // invalid: rule te-not-chunked
	wsColon    = "GET / HTTP/1.1\r\nHost: a\r\nX : 1\r\n\r\n"                                       // invalid: rule space-before-colon
	get10      = "GET / HTTP/1.0\r\n\r\n"
	simple     = "T /\n"                                                                                          // invalid: an HTTP/0.9 request line
	teCL       = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" // invalid: rule te-cl
)

// Responses of the judge's tests.
const (
	ok200      = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
	ok200Close = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi"
	bad400     = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
	bad400End  = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
	refusal    = "HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\nConnection: close\r\n\r\n"
	switching  = "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\n"
)

// Read errors as clients.Conn returns them.
var (
	errTimeout   = fmt.Errorf("read tcp: %w", os.ErrDeadlineExceeded)
	errReset     = fmt.Errorf("read: %w", syscall.ECONNRESET)
	errPipe      = fmt.Errorf("write: %w", syscall.EPIPE)
	errTruncated = fmt.Errorf("wire: response truncated after 10 bytes: %w", io.ErrUnexpectedEOF)
	errWire      = &wire.Error{Rule: wire.RuleStatusLine, Msg: "no SP after the version"}
	errBareBody  = &wire.Error{Rule: wire.RuleStatusLine, Msg: `status line "<html>"`, StatusLine: []byte("<html>")}
)

// resp parses raw, a response to method, as deliver would have read it.
func resp(method, raw string) *wire.Response {
	r, err := wire.ReadResponse(bufio.NewReader(strings.NewReader(raw)), method)
	if err != nil {
		panic(fmt.Sprintf("test response %q: %v", raw, err))
	}
	return r
}

// answered is a read, after the whole input was sent, of the response raw to request i.
func answered(i, sent int, raw string) read { return read{req: i, sent: sent, resp: resp("GET", raw)} }

// failed is a read of the response to request i, after the whole input was sent, that err ended.
func failed(i, sent int, err error) read { return read{req: i, sent: sent, err: err} }

// early is a read during a pause or a hold, after sent bytes.
func early(rd read) read { rd.window = true; return rd }

// TestJudge judges observations made up here, no network: every kind of finding an exchange
// can show, and the cases next to each that are no finding.
func TestJudge(t *testing.T) {
	n := len(getKA)
	tests := []struct {
		name      string
		in        Input
		o         observation
		kind      string
		key       string // the finding's key ("" when no finding)
		detail    string
		responses int
		reusable  bool
	}{
		// Nothing wrong.
		{name: "answered, connection reusable", in: Input{Send: []byte(getKA)},
			o: observation{sent: n, reads: []read{answered(0, n, ok200)}}, responses: 1, reusable: true},
		{name: "pipeline answered", in: Input{Send: []byte(getKA + getKA)},
			o: observation{sent: 2 * n, reads: []read{answered(0, 2*n, ok200), answered(1, 2*n, ok200)}}, responses: 2, reusable: true},
		{name: "half-closed, not reusable", in: Input{Send: []byte(getKA), HalfClose: true},
			o: observation{sent: n, reads: []read{answered(0, n, ok200)}}, responses: 1},
		{name: "still being observed", in: Input{Send: []byte(getKA + getKA)},
			o: observation{sent: 2 * n, reads: []read{answered(0, 2*n, ok200)}}, responses: 1},

		// no-response
		{name: "closed without a response", in: Input{Send: []byte(getKA)},
			o:    observation{sent: n, reads: []read{failed(0, n, io.EOF)}},
			kind: KindNoResponse, key: "no-response/valid", detail: "connection closed after request 1 of 1 (GET)"},
		{name: "reset without a response", in: Input{Send: []byte(getKA + getKA)},
			o:    observation{sent: 2 * n, reads: []read{answered(0, 2*n, ok200), failed(1, 2*n, errReset)}},
			kind: KindNoResponse, key: "no-response/valid", detail: "connection failed: read: connection reset by peer after request 2 of 2 (GET)", responses: 1},
		{name: "write failed on a valid input", in: Input{Send: []byte(getKA), SplitAt: []int{10}, Pause: time.Millisecond},
			o:    observation{sent: 10, writeErr: errPipe},
			kind: KindNoResponse, key: "no-response/paused", detail: "write failed at byte 10 of a valid input, no response before: write: broken pipe"},
		{name: "write failed after a request that closes", in: Input{Send: []byte(getClose + getKA)},
			o:         observation{sent: len(getClose), writeErr: errPipe, reads: []read{answered(0, len(getClose), ok200)}},
			responses: 1},
		{name: "write failed on an invalid input", in: Input{Send: []byte(noHost), HalfClose: true},
			o: observation{sent: 5, writeErr: errPipe, reads: []read{failed(0, 5, io.EOF)}}},
		{name: "invalid rest: a close is no finding", in: Input{Send: []byte(getKA + noHost), HalfClose: true},
			o: observation{sent: n + len(noHost), reads: []read{failed(0, n+len(noHost), io.EOF)}}},

		// hang
		{name: "no response in time", in: Input{Send: []byte(getKA)},
			o:    observation{sent: n, reads: []read{failed(0, n, errTimeout)}},
			kind: KindHang, key: "hang/valid", detail: "no response after request 1 of 1 (GET)"},
		{name: "invalid rest: silence is no finding", in: Input{Send: []byte(getKA + noHost), HalfClose: true},
			o: observation{sent: n + len(noHost), reads: []read{failed(0, n+len(noHost), errTimeout)}}},

		// ill-framed
		{name: "response the strict reader rejects", in: Input{Send: []byte(getKA)},
			o:    observation{sent: n, reads: []read{failed(0, n, errWire)}},
			kind: KindIllFramed, key: "ill-framed/valid", detail: "wire: status-line at byte 0: no SP after the version after request 1 of 1 (GET)"},
		{name: "invalid rest: ill-framed still counts", in: Input{Send: []byte(getKA + noHost), HalfClose: true, Mutation: "no-host"},
			o:    observation{sent: n + len(noHost), reads: []read{failed(0, n+len(noHost), errWire)}},
			kind: KindIllFramed, key: "ill-framed/no-host", detail: "wire: status-line at byte 0: no SP after the version after request 1 of 1 (GET)"},
		{name: "truncated response", in: Input{Send: []byte(getKA)},
			o:    observation{sent: n, reads: []read{failed(0, n, errTruncated)}},
			kind: KindIllFramed, key: "ill-framed/valid", detail: "response truncated: wire: response truncated after 10 bytes: unexpected EOF after request 1 of 1 (GET)"},
		{name: "bytes where the connection should end", in: Input{Send: []byte(getClose)},
			o:    observation{sent: len(getClose), reads: []read{answered(0, len(getClose), ok200)}, end: clients.Observation{End: clients.Data, Extra: []byte("extra")}},
			kind: KindIllFramed, key: "ill-framed/after-last", detail: `5 bytes "extra" after the response to request 1 of 1 (GET HTTP/1.1), where the connection should end`, responses: 1},
		{name: "ill-framed answer to an invalid request", in: Input{Send: []byte(noHost), HalfClose: true, Mutation: "no-host"},
			o:    observation{sent: len(noHost), reads: []read{failed(0, len(noHost), errWire)}},
			kind: KindIllFramed, key: "ill-framed/no-host", detail: "wire: status-line at byte 0: no SP after the version after an invalid request"},
		{name: "HTTP/0.9 answer to a request line without a version", in: Input{Send: []byte(simple), HalfClose: true, Mutation: "insert-lf"},
			o: observation{sent: len(simple), reads: []read{failed(0, len(simple), errBareBody)}}},
		{name: "HTTP/0.9 answer to an HTTP/1.1 request", in: Input{Send: []byte(noHost), HalfClose: true, Mutation: "no-host"},
			o:    observation{sent: len(noHost), reads: []read{failed(0, len(noHost), errBareBody)}},
			kind: KindIllFramed, key: "ill-framed/no-host", detail: `wire: status-line at byte 0: status line "<html>" after an invalid request`},
		{name: "invalid request: a close is no finding", in: Input{Send: []byte(noHost), HalfClose: true},
			o: observation{sent: len(noHost), reads: []read{failed(0, len(noHost), io.EOF)}}},
		{name: "a refusal's body after a HEAD response", in: Input{Send: []byte(headClose)},
			o:         observation{sent: len(headClose), reads: []read{{req: 0, sent: len(headClose), resp: resp("HEAD", refusal)}}, end: clients.Observation{End: clients.Data, Extra: []byte("bad")}},
			responses: 1},
		{name: "a refusal's body that ends at the close, after a HEAD response", in: Input{Send: []byte(headClose)},
			o:         observation{sent: len(headClose), reads: []read{{req: 0, sent: len(headClose), resp: resp("HEAD", "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")}}, end: clients.Observation{End: clients.Data, Extra: []byte("400 Bad Request")}},
			responses: 1},
		{name: "a 404's body after a HEAD response", in: Input{Send: []byte(headClose)},
			o:    observation{sent: len(headClose), reads: []read{{req: 0, sent: len(headClose), resp: resp("HEAD", strings.Replace(refusal, "400 Bad Request", "404 Not Found", 1))}}, end: clients.Observation{End: clients.Data, Extra: []byte("bad")}},
			kind: KindIllFramed, key: "ill-framed/after-last", responses: 1,
			detail: `3 bytes "bad" after the response to request 1 of 1 (HEAD HTTP/1.0), where the connection should end`},
		{name: "te-cl: bytes where the connection should end", in: Input{Send: []byte(teCL), Mutation: "te-cl"},
			o:    observation{sent: len(teCL), reads: []read{answered(0, len(teCL), bad400)}, end: clients.Observation{End: clients.Data, Extra: []byte("x")}},
			kind: KindIllFramed, key: "ill-framed/te-cl", detail: `1 bytes "x" after the response to a request with both Transfer-Encoding and Content-Length (400 Bad Request), where the connection should end`, responses: 1},

		// no-close
		{name: "open after Connection: close", in: Input{Send: []byte(getClose)},
			o:    observation{sent: len(getClose), reads: []read{answered(0, len(getClose), ok200)}, end: clients.Observation{End: clients.Silent, Silence: 2 * time.Second}},
			kind: KindNoClose, key: "no-close/after-last", detail: "the connection stayed open for 2s after the response to request 1 of 1 (GET HTTP/1.1); want close", responses: 1},
		{name: "open after a response that said close", in: Input{Send: []byte(getKA)},
			o:    observation{sent: n, reads: []read{answered(0, n, ok200Close)}, end: clients.Observation{End: clients.Silent, Silence: time.Second}},
			kind: KindNoClose, key: "no-close/after-last", detail: "the connection stayed open for 1s after the response to request 1 of 1 (GET HTTP/1.1), which said it would close (200 OK); want close", responses: 1},
		{name: "open after te-cl", in: Input{Send: []byte(teCL), Mutation: "te-cl"},
			o:    observation{sent: len(teCL), reads: []read{answered(0, len(teCL), bad400)}, end: clients.Observation{End: clients.Silent, Silence: 2 * time.Second}},
			kind: KindNoClose, key: "no-close/te-cl", detail: "the connection stayed open for 2s after the response to a request with both Transfer-Encoding and Content-Length (400 Bad Request); want close", responses: 1},
		{name: "open after an HTTP/1.0 response that said keep-alive", in: Input{Send: []byte(getKA)},
			o: observation{sent: n, reads: []read{answered(0, n, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi")}}, responses: 1, reusable: true},
		{name: "open after an HTTP/1.0 request, no close option sent", in: Input{Send: []byte(get10)},
			o:    observation{sent: len(get10), reads: []read{answered(0, len(get10), ok200)}, end: clients.Observation{End: clients.Silent, Silence: time.Second}},
			kind: KindNoClose, key: "no-close/after-last-http10", responses: 1,
			detail: "the connection stayed open for 1s after the response to request 1 of 1 (GET HTTP/1.0); want close"},
		{name: "closed after Connection: close", in: Input{Send: []byte(getClose)},
			o: observation{sent: len(getClose), reads: []read{answered(0, len(getClose), ok200)}, end: clients.Observation{End: clients.Closed}}, responses: 1},
		{name: "reset after Connection: close", in: Input{Send: []byte(getClose)},
			o: observation{sent: len(getClose), reads: []read{answered(0, len(getClose), ok200)}, end: clients.Observation{End: clients.Reset}}, responses: 1},
		{name: "close not watched (the campaign knows)", in: Input{Send: []byte(getClose)},
			o: observation{sent: len(getClose), reads: []read{answered(0, len(getClose), ok200)}}, responses: 1},
		{name: "half-closed: the close is not judged", in: Input{Send: []byte(getClose), HalfClose: true},
			o: observation{sent: len(getClose), reads: []read{answered(0, len(getClose), ok200)}, end: clients.Observation{End: clients.Silent}}, responses: 1},
		{name: "a close before the last request is not judged", in: Input{Send: []byte(getClose + getKA)},
			o: observation{sent: len(getClose) + n, reads: []read{answered(0, len(getClose)+n, ok200)}, end: clients.Observation{End: clients.Silent}}, responses: 1},
		{name: "closed after te-cl", in: Input{Send: []byte(teCL)},
			o: observation{sent: len(teCL), reads: []read{answered(0, len(teCL), bad400)}, end: clients.Observation{End: clients.Closed}}, responses: 1},

		// early-response: an answer before the request arrived whole is judged by what the
		// target then makes of the rest of its bytes.
		{name: "answered early, the rest read and discarded", in: Input{Send: []byte(getKA), Hold: time.Millisecond},
			o: observation{sent: n, reads: []read{early(answered(0, n-1, ok200))}, probed: true, facts: facts{rootStatus: 200},
				after: []read{answered(1, n, ok200Close), failed(1, n, io.EOF)}},
			responses: 2},
		{name: "answered early, then closed", in: Input{Send: []byte(getKA), Hold: time.Millisecond},
			o:         observation{sent: n, reads: []read{early(answered(0, n-1, ok200))}, facts: facts{rootStatus: 200}, after: []read{failed(1, n, io.EOF)}},
			responses: 1},
		{name: "answered early, then closed before the next request", in: Input{Send: []byte(getKA + getKA), SplitAt: []int{n - 3}, Pause: time.Millisecond},
			o:         observation{sent: 2 * n, reads: []read{early(answered(0, n-3, ok200)), failed(1, 2*n, io.EOF)}},
			responses: 1},
		{name: "answered early, then stopped reading", in: Input{Send: []byte(getKA + getKA), SplitAt: []int{n - 3}, Pause: time.Millisecond},
			o:         observation{sent: n - 3, writeErr: errPipe, reads: []read{early(answered(0, n-3, ok200))}},
			responses: 1},
		{name: "answered early, the rest read as a request", in: Input{Send: []byte(getKA), Hold: time.Millisecond},
			o: observation{sent: n, reads: []read{early(answered(0, n-1, ok200))}, probed: true, facts: facts{rootStatus: 200},
				after: []read{answered(1, n, bad400), answered(1, n, ok200Close)}},
			kind: KindEarlyResponse, key: "early-response/partial", responses: 3,
			detail: "request 1 answered (200 OK) after 26 of 27 bytes, before it had arrived whole; then 2 more responses (400 Bad Request, 200 OK) where 1 was due: the rest of its bytes was read as a request"},
		{name: "answered early, the rest read as the start of a request", in: Input{Send: []byte(getKA), Hold: time.Millisecond},
			o: observation{sent: n, reads: []read{early(answered(0, n-1, ok200))}, probed: true, facts: facts{rootStatus: 200},
				after: []read{answered(1, n, bad400End), failed(1, n, io.EOF)}},
			kind: KindEarlyResponse, key: "early-response/partial", responses: 2,
			detail: "request 1 answered (200 OK) after 26 of 27 bytes, before it had arrived whole; then 400 Bad Request to a GET / sent after the input, which a fresh connection answers 200: the rest of its bytes was read as the start of a request"},
		{name: "answered early, half-closed, then another response", in: Input{Send: []byte(getKA), Hold: time.Millisecond, HalfClose: true},
			o:    observation{sent: n, reads: []read{early(answered(0, n-1, ok200))}, after: []read{answered(1, n, bad400End), failed(1, n, io.EOF)}},
			kind: KindEarlyResponse, key: "early-response/partial", responses: 2,
			detail: "request 1 answered (200 OK) after 26 of 27 bytes, before it had arrived whole; then 1 more responses (400 Bad Request) where 0 was due: the rest of its bytes was read as a request"},
		{name: "answered early, the root's status not known", in: Input{Send: []byte(getKA), Hold: time.Millisecond},
			o: observation{sent: n, reads: []read{early(answered(0, n-1, ok200))}, probed: true,
				after: []read{answered(1, n, bad400End), failed(1, n, io.EOF)}},
			responses: 2},
		{name: "answered early, then ill-framed", in: Input{Send: []byte(getKA), Hold: time.Millisecond},
			o: observation{sent: n, reads: []read{early(answered(0, n-1, ok200))}, probed: true, facts: facts{rootStatus: 200},
				after: []read{failed(1, n, errWire)}},
			kind: KindEarlyResponse, key: "early-response/partial", responses: 1,
			detail: "request 1 answered (200 OK) after 26 of 27 bytes, before it had arrived whole; then bytes that do not parse as the response due (wire: status-line at byte 0: no SP after the version): the rest of its bytes was read as a request, or the early answer ran longer than it said"},
		{name: "write failed, the request being sent refused", in: Input{Send: []byte(getKA + getKA), SplitAt: []int{n + 3}},
			o:         observation{sent: n + 3, writeErr: errPipe, reads: []read{answered(0, n+3, ok200), answered(1, n+3, bad400End)}},
			responses: 2},
		{name: "write failed, no answer to the request being sent", in: Input{Send: []byte(getKA + getKA), SplitAt: []int{n + 3}},
			o:    observation{sent: n + 3, writeErr: errPipe, reads: []read{answered(0, n+3, ok200), failed(1, n+3, io.EOF)}},
			kind: KindNoResponse, key: "no-response/valid", responses: 1,
			detail: "write failed at byte 30 of a valid input, after 1 responses (200 OK), none announcing a close: write: broken pipe"},
		{name: "write failed after a response that said close", in: Input{Send: []byte(getKA + getKA), SplitAt: []int{n + 3}},
			o:         observation{sent: n + 3, writeErr: errPipe, reads: []read{answered(0, n+3, ok200Close)}},
			responses: 1},
		{name: "early refusal", in: Input{Send: []byte(getKA), Hold: time.Millisecond},
			o:         observation{sent: n, reads: []read{early(answered(0, n-1, bad400))}},
			responses: 1, reusable: true},
		{name: "early refusal that closes", in: Input{Send: []byte(getKA), Hold: time.Millisecond},
			o:         observation{sent: n - 1, reads: []read{early(answered(0, n-1, bad400End))}},
			responses: 1},
		{name: "early read failed, judged when read again", in: Input{Send: []byte(getKA), Hold: time.Millisecond},
			o:         observation{sent: n, reads: []read{early(failed(0, n-1, errTruncated)), answered(0, n, ok200)}},
			responses: 1, reusable: true},
		{name: "early read failed, and again", in: Input{Send: []byte(getKA), Hold: time.Millisecond},
			o:    observation{sent: n, reads: []read{early(failed(0, n-1, errTimeout)), failed(0, n, io.EOF)}},
			kind: KindNoResponse, key: "no-response/held", detail: "connection closed after request 1 of 1 (GET)"},
		{name: "2xx to a head that never ended", in: Input{Send: []byte(headOnly), HalfClose: true, Mutation: "truncate"},
			o:    observation{sent: len(headOnly), reads: []read{answered(0, len(headOnly), ok200)}},
			kind: KindServedIncomplete, key: "2xx-to-incomplete/head", responses: 1,
			detail: "200 OK to a request whose head never completed (the client half-closed after 25 bytes)"},
		{name: "refusal of a head that never ended", in: Input{Send: []byte(headOnly), HalfClose: true},
			o: observation{sent: len(headOnly), reads: []read{answered(0, len(headOnly), bad400)}}, responses: 1},
		{name: "incomplete and not half-closed: nothing to judge", in: Input{Send: []byte(headOnly)},
			o: observation{sent: len(headOnly)}},

		// 2xx-to-invalid
		{name: "2xx to what every server must reject", in: Input{Send: []byte(noHost), HalfClose: true, Mutation: "no-host", Must: true},
			o:    observation{sent: len(noHost), reads: []read{answered(0, len(noHost), ok200)}},
			kind: KindAcceptInvalid, key: "2xx-to-invalid/rule-host", detail: "200 OK to a request the judge rejects (no-host, rule host); every server must reject it", responses: 1},
		{name: "2xx to te-cl, which must be rejected, judged as such", in: Input{Send: []byte(teCL), Mutation: "te-cl", Must: true},
			o:    observation{sent: len(teCL), reads: []read{answered(0, len(teCL), ok200)}, end: clients.Observation{End: clients.Silent}},
			kind: KindAcceptInvalid, key: "2xx-to-invalid/rule-te-cl", detail: "200 OK to a request the judge rejects (te-cl, rule te-cl); every server must reject it", responses: 1},
		{name: "2xx to a broken trailer, which may be read after the answer", in: Input{Send: []byte(trailerWS), HalfClose: true, Mutation: "insert-space", Must: true},
			o: observation{sent: len(trailerWS), reads: []read{answered(0, len(trailerWS), ok200)}}, responses: 1},
		{name: "2xx to a bad Host with an absolute-form target, which wins", in: Input{Send: []byte(absBadHost), HalfClose: true, Mutation: "bad-host", Must: true},
			o: observation{sent: len(absBadHost), reads: []read{answered(0, len(absBadHost), ok200)}}, responses: 1},
		{name: "2xx to an absolute-form target without Host", in: Input{Send: []byte(absNoHost), HalfClose: true, Mutation: "no-host", Must: true},
			o:    observation{sent: len(absNoHost), reads: []read{answered(0, len(absNoHost), ok200)}},
			kind: KindAcceptInvalid, key: "2xx-to-invalid/rule-host", detail: "200 OK to a request the judge rejects (no-host, rule host); every server must reject it", responses: 1},
		{name: "2xx without Host from a server that speaks HTTP/1.0", in: Input{Send: []byte(noHost), HalfClose: true, Mutation: "no-host", Must: true},
			o: observation{sent: len(noHost), reads: []read{answered(0, len(noHost), ok200)}, facts: facts{http10: true}}, responses: 1},
		{name: "2xx to an invalid Content-Length on GET, which has no content semantics", in: Input{Send: []byte(badCLGet), HalfClose: true, Mutation: "bad-content-length", Must: true},
			o: observation{sent: len(badCLGet), reads: []read{answered(0, len(badCLGet), ok200)}}, responses: 1},
		{name: "2xx to an invalid Content-Length on POST", in: Input{Send: []byte(badCLPost), HalfClose: true, Mutation: "bad-content-length", Must: true},
			o:    observation{sent: len(badCLPost), reads: []read{answered(0, len(badCLPost), ok200)}},
			kind: KindAcceptInvalid, key: "2xx-to-invalid/rule-content-length", responses: 1,
			detail: "200 OK to a request the judge rejects (bad-content-length, rule content-length); every server must reject it"},
		{name: "2xx to two equal Content-Length fields, processed as one", in: Input{Send: []byte(sameCL), HalfClose: true, Mutation: "duplicate-range", Must: true},
			o: observation{sent: len(sameCL), reads: []read{answered(0, len(sameCL), ok200)}}, responses: 1},
		{name: "2xx to a Content-Length too large for the judge, still valid", in: Input{Send: []byte(hugeCL), HalfClose: true, Mutation: "insert-lf", Must: true},
			o: observation{sent: len(hugeCL), reads: []read{answered(0, len(hugeCL), ok200)}}, responses: 1},
		{name: "2xx to a coding the server does not know, without chunked (§6.1 SHOULD)", in: Input{Send: []byte(teGzip), HalfClose: true, Mutation: "chunked-not-last", Must: true},
			o: observation{sent: len(teGzip), reads: []read{answered(0, len(teGzip), ok200)}}, responses: 1},
		{name: "2xx to chunked not last", in: Input{Send: []byte(teNotLast), HalfClose: true, Mutation: "chunked-not-last", Must: true},
			o:    observation{sent: len(teNotLast), reads: []read{answered(0, len(teNotLast), ok200)}},
			kind: KindAcceptInvalid, key: "2xx-to-invalid/rule-te-not-chunked", responses: 1,
			detail: "200 OK to a request the judge rejects (chunked-not-last, rule te-not-chunked); every server must reject it"},
		{name: "2xx to whitespace before a colon after two empty lines", in: Input{Send: []byte("\r\n\r\n" + wsColon), HalfClose: true, Mutation: "space-before-colon", Must: true},
			o:    observation{sent: 4 + len(wsColon), reads: []read{answered(0, 4+len(wsColon), ok200)}},
			kind: KindAcceptInvalid, key: "2xx-to-invalid/rule-space-before-colon", responses: 1,
			detail: "200 OK to a request the judge rejects (space-before-colon, rule space-before-colon); every server must reject it"},
		{name: "2xx to what servers may accept", in: Input{Send: []byte(noHost), HalfClose: true, Mutation: "insert-cr"},
			o: observation{sent: len(noHost), reads: []read{answered(0, len(noHost), ok200)}}, responses: 1},
		{name: "refusal of an invalid request", in: Input{Send: []byte(noHost), HalfClose: true, Must: true},
			o: observation{sent: len(noHost), reads: []read{answered(0, len(noHost), bad400)}}, responses: 1},

		// echo-mismatch
		{name: "/echo returns another body", in: Input{Send: []byte(echoReq), Echo: true},
			o:    observation{sent: len(echoReq), reads: []read{{req: 0, sent: len(echoReq), resp: resp("POST", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabd")}}},
			kind: KindEchoMismatch, key: "echo-mismatch/any", detail: `200 OK from POST /echo (request 1 of 1) carries 3 bytes "abd"; the request body was 3 bytes "abc"`, responses: 1},
		{name: "/echo returns the body", in: Input{Send: []byte(echoReq), Echo: true},
			o: observation{sent: len(echoReq), reads: []read{{req: 0, sent: len(echoReq), resp: resp("POST", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc")}}}, responses: 1, reusable: true},
		{name: "/echo not checked", in: Input{Send: []byte(echoReq)},
			o: observation{sent: len(echoReq), reads: []read{{req: 0, sent: len(echoReq), resp: resp("POST", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabd")}}}, responses: 1, reusable: true},

		// dead-after-reset
		{name: "no answer after a reset", in: Input{Send: []byte(getKA), ResetAt: 10},
			o:    observation{sent: 10, reset: true, serveErr: io.EOF},
			kind: KindResetKills, key: "dead-after-reset/any", detail: "after a connection was reset at byte 10 of 27, a fresh connection got no answer to GET /: EOF"},
		{name: "served after a reset", in: Input{Send: []byte(getKA), ResetAt: 10},
			o: observation{sent: 10, reset: true}, responses: 1},

		// A tunnel ends what is judged.
		{name: "nothing judged after a 101", in: Input{Send: []byte(getKA + getKA)},
			o: observation{sent: 2 * n, reads: []read{answered(0, 2*n, switching), failed(1, 2*n, errTimeout)}}, responses: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := analyze(tt.in.Send)
			got := judge(&tt.in, a, &tt.o)
			if got.kind != tt.kind || got.detail != tt.detail {
				t.Errorf("judge = %q (%s); want %q (%s)", got.kind, got.detail, tt.kind, tt.detail)
			}
			if got.responses != tt.responses || got.reusable != tt.reusable {
				t.Errorf("judge: %d responses, reusable %v; want %d, %v", got.responses, got.reusable, tt.responses, tt.reusable)
			}
			if tt.kind != "" {
				if key := findingKey(got, &tt.in, a); key != tt.key {
					t.Errorf("finding key %q; want %q", key, tt.key)
				}
			}
		})
	}
}

// The judge's inputs are what the tests above say they are.
func TestJudgeTestInputs(t *testing.T) {
	for _, c := range []struct {
		send string
		tail int
		rule string
		reqs int
	}{
		{getKA, tailNone, "", 1},
		{getClose, tailNone, "", 1},
		{echoReq, tailNone, "", 1},
		{noHost, tailInvalid, wire.RuleHost, 0},
		{getKA + noHost, tailInvalid, wire.RuleHost, 1},
		{headOnly, tailIncomplete, "", 0},
		{teCL, tailInvalid, wire.RuleTECL, 0},
		{simple, tailInvalid, wire.RuleBareLF, 0},
		{headClose, tailNone, "", 1},
		{trailerWS, tailInvalid, wire.RuleSpaceColon, 0},
		{absBadHost, tailInvalid, wire.RuleHost, 0},
		{absNoHost, tailInvalid, wire.RuleHost, 0},
		{badCLGet, tailInvalid, wire.RuleContentLength, 0},
		{badCLPost, tailInvalid, wire.RuleContentLength, 0},
		{sameCL, tailInvalid, wire.RuleContentLength, 0},
		{hugeCL, tailInvalid, wire.RuleContentLength, 0},
		{teGzip, tailInvalid, wire.RuleTENotChunked, 0},
		{teNotLast, tailInvalid, wire.RuleTENotChunked, 0},
		{wsColon, tailInvalid, wire.RuleSpaceColon, 0},
		{get10, tailNone, "", 1},
	} {
		a := analyze([]byte(c.send))
		if a.tail != c.tail || a.rule != c.rule || len(a.reqs) != c.reqs {
			t.Errorf("analyze(%q): tail %d rule %q, %d requests; want %d %q, %d", c.send, a.tail, a.rule, len(a.reqs), c.tail, c.rule, c.reqs)
		}
	}
}
