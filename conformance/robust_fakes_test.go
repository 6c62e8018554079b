package conformance

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/forkproof/forkproof/internal/fakenet"

	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/targets"
)

// Small HTTP/1.1 fakes for the robustness proof: a server that is right about the endpoints the
// scenarios use (GET|HEAD /, 404 elsewhere, POST /echo, GET /bytes/N, 400 for a field name with
// a space) and wrong in one planted way each. Every read has a deadline; cleanup closes every
// connection and waits for every goroutine.

// miniFault is the one thing a mini fake gets wrong.
type miniFault struct {
	// reverse answers the requests that arrived together in reverse order.
	reverse bool
	// staleEcho echoes the first body the connection carried for every later POST (a buffer
	// kept across requests).
	staleEcho bool
	// quitOnEOF gives up without answering when the client has half-closed after its request.
	quitOnEOF bool
	// maxConns, when > 0, serves that many connections at a time and resets every other
	// connection that arrives meanwhile. (2 rather than 1: a client that connects right after
	// closing its last connection must not meet a handler that has not seen the close yet.)
	maxConns int
	// dieAfterResets stops accepting (closes the listener) once this many connections have
	// ended in a reset: the server that crashes after enough ECONNRESETs.
	dieAfterResets int
	// closeEach answers every request with Connection: close and closes: a server that does
	// not persist, as RFC 9112 §9.3 lets it (not a fault).
	closeEach bool
	// closeSilently closes after every response without announcing it (RFC 9112 §9.6's
	// SHOULD, graded elsewhere).
	closeSilently bool
}

// miniIdle bounds every wait of a mini fake for a client's bytes.
const miniIdle = 10 * time.Second

// miniFake starts a mini fake with fault on 127.0.0.1; it stops with the test.
func miniFake(t *testing.T, fault miniFault) *targets.Target {
	t.Helper()
	var busy, resets atomic.Int32
	srv := fakenet.New(t)
	var opts fakenet.Options
	if fault.maxConns > 0 {
		opts.Admit = func(c net.Conn) bool {
			if int(busy.Add(1)) > fault.maxConns {
				busy.Add(-1)
				c.(*net.TCPConn).SetLinger(0)
				c.Close()
				return false
			}
			return true
		}
	}
	srv.Serve(func(c net.Conn) {
		if fault.maxConns > 0 {
			defer busy.Add(-1)
		}
		err := miniServe(c, fault)
		if fault.dieAfterResets > 0 && isResetErr(err) && int(resets.Add(1)) == fault.dieAfterResets {
			srv.StopAccepting()
		}
	}, opts)
	return &targets.Target{Addr: srv.Addr()}
}

func isResetErr(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// miniRequest is one parsed request.
type miniRequest struct {
	method, target string
	close, bad     bool
	body           []byte
}

// miniRead reads one request; io.EOF when the client closed between requests.
func miniRead(c net.Conn, br *bufio.Reader) (*miniRequest, error) {
	c.SetReadDeadline(time.Now().Add(miniIdle))
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	f := strings.Fields(line)
	if len(f) != 3 {
		return &miniRequest{bad: true}, nil
	}
	r := &miniRequest{method: f[0], target: f[1]}
	n := 0
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		l = strings.TrimRight(l, "\r\n")
		if l == "" {
			break
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok || strings.ContainsAny(name, " \t") {
			r.bad = true
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "content-length":
			if n, err = strconv.Atoi(value); err != nil || n < 0 || n > 8<<20 {
				r.bad = true
			}
		case "connection":
			r.close = strings.EqualFold(value, "close")
		case "transfer-encoding":
			r.bad = true // not needed by the scenarios that use this fake
		}
	}
	if r.bad {
		return r, nil
	}
	r.body = make([]byte, n)
	if _, err := io.ReadFull(br, r.body); err != nil {
		return nil, err
	}
	return r, nil
}

// miniAnswer writes the response to r; echo is the body /echo returns.
func miniAnswer(w io.Writer, r *miniRequest, echo []byte) error {
	status, body := 200, []byte("ok")
	switch {
	case r.bad:
		status, body = 400, nil
	case r.target == "/echo" && r.method == "POST":
		body = echo
	case strings.HasPrefix(r.target, "/bytes/"):
		n, err := strconv.Atoi(strings.TrimPrefix(r.target, "/bytes/"))
		if err != nil || n < 0 || n > 8<<20 {
			status, body = 400, nil
		} else {
			body = []byte(strings.Repeat("b", n))
		}
	case r.target != "/":
		status, body = 404, []byte("not found")
	}
	head := fmt.Sprintf("HTTP/1.1 %d %s\r\nContent-Length: %d\r\n", status, map[int]string{200: "OK", 400: "Bad Request", 404: "Not Found"}[status], len(body))
	if r.bad || r.close {
		head += "Connection: close\r\n"
	}
	if r.method == "HEAD" {
		body = nil
	}
	_, err := io.WriteString(w, head+"\r\n"+string(body))
	return err
}

// miniServe serves one connection with fault; it returns what ended it (io.EOF for a clean
// close by the client).
func miniServe(c net.Conn, fault miniFault) error {
	br := bufio.NewReaderSize(c, 1<<20)
	var firstBody []byte
	for {
		r, err := miniRead(c, br)
		if err != nil {
			return err
		}
		batch := []*miniRequest{r}
		for fault.reverse && br.Buffered() > 0 && !r.bad {
			if r, err = miniRead(c, br); err != nil {
				return err
			}
			batch = append(batch, r)
		}
		if fault.reverse {
			for i, j := 0, len(batch)-1; i < j; i, j = i+1, j-1 {
				batch[i], batch[j] = batch[j], batch[i]
			}
		}
		if fault.quitOnEOF {
			c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			if _, err := br.Peek(1); err == io.EOF {
				return nil
			}
		}
		for _, r := range batch {
			r.close = r.close || fault.closeEach
			echo := r.body
			if fault.staleEcho && r.method == "POST" {
				if firstBody == nil {
					firstBody = r.body
				}
				echo = firstBody
			}
			c.SetWriteDeadline(time.Now().Add(miniIdle))
			if err := miniAnswer(c, r, echo); err != nil {
				return err
			}
			if fault.closeSilently {
				return nil
			}
			if r.bad || r.close {
				if fault.dieAfterResets > 0 {
					// The client may reset just after this answer went out: look for it,
					// or a reset arriving after the write would go uncounted.
					c.SetReadDeadline(time.Now().Add(time.Second))
					if _, err := br.ReadByte(); isResetErr(err) {
						return err
					}
				}
				return nil
			}
		}
	}
}

// The mini fake without a fault passes every scenario the faulty ones fail: they fail for their
// planted fault, not for something else the fake gets wrong.
func TestRobustMiniFakeClean(t *testing.T) {
	tg := miniFake(t, miniFault{})
	got := runRobust(t, tg, "^robust/(pipeline|half-close|concurrency|reset)/", Options{Timeout: 2 * time.Second})
	if len(got) != 9 {
		t.Errorf("%d scenarios ran; want 9 (pipeline 1-3, half-close 1-2, concurrency 1, reset 1-3)", len(got))
	}
	for id, r := range got {
		if r.Verdict != spec.Pass {
			t.Errorf("%s against the clean mini fake: %s (%s); want pass", id, r.Verdict, r.Detail)
		}
	}
}

// A server that does not persist (it announces close after each response, or closes without
// announcing it) fails none of the scenarios that pipeline or reuse connections: nothing is
// owed after the close, and what it leaves unanswered is answered another way or skipped.
func TestRobustNonPersistentServerDoesNotFail(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault miniFault
	}{
		{"announces close", miniFault{closeEach: true}},
		{"closes without announcing", miniFault{closeSilently: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := runRobust(t, miniFake(t, tc.fault), "^robust/(large|pipeline|concurrency)/", Options{Timeout: 2 * time.Second})
			want := map[string]spec.Verdict{
				"robust/large/1": spec.Pass, "robust/large/2": spec.Pass, "robust/large/3": spec.Pass,
				"robust/pipeline/1": spec.Skip, "robust/pipeline/3": spec.Skip, "robust/concurrency/1": spec.Pass,
			}
			for id, v := range want {
				if r := got[id]; r.Verdict != v {
					t.Errorf("%s against a server that %s: %s (%s); want %s", id, tc.name, r.Verdict, r.Detail, v)
				} else {
					t.Logf("%s: %s", id, r.Detail)
				}
			}
			for id, r := range got {
				if r.Verdict == spec.Fail {
					t.Errorf("%s against a server that %s: fail (%s)", id, tc.name, r.Detail)
				}
			}
		})
	}
}

// Each scenario catches a server with the matching fault: it fails where an RFC sentence
// decides (pipelining: RFC 9112 §9.3.2's MUST), and warns where the scenario applies a policy
// (half-close, how many clients at once, surviving resets), which grades at most warn.
func TestRobustMiniFakesFail(t *testing.T) {
	// Timed misses are re-run as in any check: a busy machine delays even a lone response
	// past a 1s timeout.
	fast := Options{Timeout: time.Second, Window: 100 * time.Millisecond}
	for _, tc := range []struct {
		name    string
		fault   miniFault
		pattern string
		want    []string     // case IDs that must catch the fault
		verdict spec.Verdict // with this verdict
		detail  string       // what every failure's detail must mention (alternatives joined by " | ")
	}{
		{"answers pipelined requests in reverse", miniFault{reverse: true}, "^robust/pipeline/",
			[]string{"robust/pipeline/1", "robust/pipeline/2", "robust/pipeline/3"}, spec.Fail, "response 1 of"},
		{"echoes the connection's first body to every POST", miniFault{staleEcho: true}, "^robust/pipeline/2$",
			[]string{"robust/pipeline/2"}, spec.Fail, "body of"},
		{"gives up on a half-closed connection", miniFault{quitOnEOF: true}, "^robust/half-close/",
			[]string{"robust/half-close/1", "robust/half-close/2"}, spec.Warn, "shutdown(SHUT_WR)"},
		{"serves two connections at a time, resets the others", miniFault{maxConns: 2}, "^robust/concurrency/1$",
			// The lone request that learns the expected answer may itself be refused when
			// the runner's probe connections still hold the fake's two slots.
			[]string{"robust/concurrency/1"}, spec.Warn, "keep-alive clients answered correctly | sent alone: after 0 response(s): reset"},
		// The fake dies after the 2nd reset it notices, not the 8th: it notices them
		// asynchronously, and with 8 the 64 resets could all be sent and the probe served
		// before it had caught up (seen 1 in 90 runs).
		{"dies after 2 resets mid-request", miniFault{dieAfterResets: 2}, "^robust/reset/1$",
			[]string{"robust/reset/1"}, spec.Warn, "a probe GET / was not served"},
		{"dies after 2 resets after the request", miniFault{dieAfterResets: 2}, "^robust/reset/2$",
			[]string{"robust/reset/2"}, spec.Warn, "a probe GET / was not served"},
		{"dies after 2 resets mid-response", miniFault{dieAfterResets: 2}, "^robust/reset/3$",
			[]string{"robust/reset/3"}, spec.Warn, "a probe GET / was not served"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := runRobust(t, miniFake(t, tc.fault), tc.pattern, fast)
			// A connection reset while it waits in the listener's queue is dropped by accept
			// (ECONNABORTED, retried inside Go's Accept) unseen: on a busy machine a fake that
			// dies after resets may see too few of them, stay alive, and rightly pass. Its
			// fault never fired, so that run proves nothing: try a fresh fake, twice at most.
			for try := 1; try < 3 && tc.fault.dieAfterResets > 0 && got[tc.want[0]].Verdict == spec.Pass; try++ {
				t.Logf("the fake saw too few resets to die (%s); again", got[tc.want[0]].Detail)
				got = runRobust(t, miniFake(t, tc.fault), tc.pattern, fast)
			}
			for _, id := range tc.want {
				r, ok := got[id]
				switch {
				case !ok:
					t.Errorf("%s did not run", id)
				case r.Verdict != tc.verdict || !containsAny(r.Detail, strings.Split(tc.detail, " | ")):
					t.Errorf("%s against a server that %s: %s (%s); want %s mentioning %q", id, tc.name, r.Verdict, r.Detail, tc.verdict, tc.detail)
				default:
					t.Logf("%s: %s", id, r.Detail)
				}
			}
		})
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
