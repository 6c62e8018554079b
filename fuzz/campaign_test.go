package fuzz

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/forkproof/forkproof/internal/fakenet"

	"github.com/forkproof/forkproof/internal/testbin"
	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/spec/wire"
	"github.com/forkproof/forkproof/targets"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// fake is a throwaway HTTP/1.1 server built on net/http's request reader, with hooks to plant
// one bug. It is stopped when the test ends.
type fake struct {
	srv *fakenet.Server
	// handle answers req on c; false drops the connection.
	handle func(c net.Conn, req *http.Request) bool
	// badRequest, when set, is the answer to a request the reader rejects (default: a 400
	// with Connection: close).
	badRequest string
	// alone says, by connection, whether the request being handled arrived with nothing
	// before it in the read buffer (not pipelined behind the one before).
	alone sync.Map
	// onReadErr sees every error reading a request once its first byte came, but a clean EOF.
	onReadErr func(f *fake, err error)
}

func startFake(t *testing.T, f *fake) string {
	t.Helper()
	f.srv = fakenet.New(t)
	f.srv.Serve(f.serve)
	return f.srv.Addr()
}

// errConn remembers the last error a Read returned (net/http's request reader reports a
// reset in the middle of a line as a malformed request).
type errConn struct {
	net.Conn
	err error
}

func (c *errConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil {
		c.err = err
	}
	return n, err
}

func (f *fake) serve(c net.Conn) {
	ec := &errConn{Conn: c}
	br := bufio.NewReader(ec)
	for {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		f.alone.Store(c, br.Buffered() == 0)
		skipEmptyLines(br) // RFC 9112 §2.2 SHOULD; net/http's reader does not
		if _, err := br.Peek(1); err != nil {
			// Closed or reset between requests (a client closing with a response unread
			// resets): not a read error inside a request.
			return
		}
		req, err := http.ReadRequest(br)
		if err != nil {
			if err != io.EOF {
				if ec.err != nil {
					err = ec.err
				}
				if f.onReadErr != nil {
					f.onReadErr(f, err)
				}
				bad := f.badRequest
				if bad == "" {
					bad = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
				}
				io.WriteString(c, bad)
			}
			return
		}
		if !f.handle(c, req) || req.Close {
			return
		}
	}
}

// skipEmptyLines consumes the CRLFs before a request line.
func skipEmptyLines(br *bufio.Reader) {
	for {
		b, err := br.Peek(2)
		if err != nil || string(b) != "\r\n" {
			return
		}
		br.Discard(2)
	}
}

// answer drains the body, then writes a small 200 (no body for HEAD).
func answer(c net.Conn, req *http.Request) bool {
	if _, err := io.Copy(io.Discard, req.Body); err != nil {
		io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		return false
	}
	writeOK(c, req, "ok")
	return true
}

func writeOK(c net.Conn, req *http.Request, body string) {
	head := "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	if req.Method == "HEAD" {
		body = ""
	}
	io.WriteString(c, head+body)
}

func writeOKBytes(c net.Conn, body []byte) {
	c.Write(append([]byte("HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"), body...))
}

// runFake runs a campaign against addr until stop says the finding sought is in; minimize
// bounds the minimisation of each finding.
func runFake(t *testing.T, addr string, seed uint64, minimize time.Duration, stop func(*Finding) bool) *Report {
	t.Helper()
	rep, err := Run(context.Background(), Config{
		Target: &targets.Target{Addr: addr}, Duration: 30 * time.Second, Seed: seed, Out: t.TempDir(),
		MinimizeBudget: minimize, StopWhen: stop, Timeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		t.Logf("finding %s: %s\n  %s", f.Kind, f.Detail, f.Repro.SendText)
	}
	return rep
}

func firstFinding(rep *Report, ok func(*Finding) bool) *Finding {
	for _, f := range rep.Findings {
		if ok(f) {
			return f
		}
	}
	return nil
}

// A target whose /echo loses NUL bytes: the campaign probes /echo once, sends bodies there
// and finds the mismatch; replay shows it again.
func TestCampaignChecksEcho(t *testing.T) {
	t.Parallel()
	addr := startFake(t, &fake{handle: func(c net.Conn, req *http.Request) bool {
		if req.URL.Path != "/echo" || req.Method != "POST" && req.Method != "PUT" {
			return answer(c, req)
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return false
		}
		writeOKBytes(c, bytes.ReplaceAll(body, []byte{0}, nil))
		return true
	}})
	isEcho := func(f *Finding) bool { return f.Kind == KindEchoMismatch }
	rep := runFake(t, addr, 11, time.Nanosecond, isEcho)
	if !rep.Echo {
		t.Fatal("the campaign did not detect the /echo endpoint")
	}
	f := firstFinding(rep, isEcho)
	if f == nil {
		t.Fatalf("after %s and %d inputs, no echo-mismatch finding", rep.Elapsed, rep.Inputs)
	}
	if !f.Repro.Echo || !bytes.Contains(f.Repro.Send, []byte{0}) {
		t.Errorf("reproducer echo=%v, send %q; want an /echo body with a NUL", f.Repro.Echo, f.Repro.Send)
	}
	got, err := Replay(addr, f.Repro, 5*time.Second)
	if err != nil || got.Kind != KindEchoMismatch || got.Grade != spec.Fail {
		t.Fatalf("Replay = %+v, %v; want a %s fail", got, err, KindEchoMismatch)
	}
}

// Against the reference server in every mode, a short campaign (/echo bodies, resets, held
// bytes and all) finds nothing: no wrong echo, no death after a reset, and, the PID being
// known, no zombie and no fd growth after it.
func TestCampaignReference(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			tg := reference(t, mode)
			if tg.PID <= 0 {
				t.Fatalf("the launched reference server has no PID (%d): hygiene would not be judged", tg.PID)
			}
			rep, err := Run(context.Background(), Config{Target: tg, Duration: time.Second, Seed: 5, Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Echo {
				t.Error("the reference server's /echo was not detected")
			}
			// Some inputs were judged, so "no finding" says something; how many a second
			// holds is a throughput figure for a benchmark, not a test (a busy machine gives few).
			if rep.Inputs == 0 {
				t.Errorf("no input judged in %s: the campaign tested nothing", rep.Elapsed)
			}
			for _, f := range rep.Findings {
				t.Errorf("finding %s: %s\n  %s\n  %s", f.Kind, f.Detail, f.Repro.SendText, f.Repro.Plan())
			}
		})
	}
}

// A target that stops serving once a client resets a connection in the middle of a request:
// the campaign's reset plans find it.
func TestCampaignFindsDeathAfterReset(t *testing.T) {
	t.Parallel()
	addr := startFake(t, &fake{handle: answer, onReadErr: func(f *fake, err error) {
		if errors.Is(err, syscall.ECONNRESET) {
			f.srv.StopAccepting() // the planted bug: a reset takes the whole server down
		}
	}})
	rep, err := Run(context.Background(), Config{
		Target: &targets.Target{Addr: addr}, Duration: 30 * time.Second, Seed: 21, Workers: 1,
		MinimizeBudget: time.Nanosecond, Timeout: time.Second, // minimising is not what this tests
		StopWhen: func(f *Finding) bool { return f.Repro != nil && f.Repro.ResetAt > 0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	// The reset's own check may beat the planted bug to the listener; then a later input
	// finds the target gone, and on a busy machine the fake may serve a few more inputs
	// before it stops: the reset is then among the suspects the finding names. Either way
	// an input blamed is a reset.
	f := firstFinding(rep, func(f *Finding) bool {
		return (f.Kind == KindResetKills || f.Kind == KindTargetDied) && f.Repro != nil &&
			(f.Repro.ResetAt > 0 || strings.Contains(f.Detail, "any of which may have killed it") && strings.Contains(f.Detail, "connection reset (RST)"))
	})
	if f == nil {
		for _, f := range rep.Findings {
			t.Logf("finding %s: %s", f.Kind, f.Detail)
		}
		t.Fatalf("after %s and %d inputs, no finding blaming a reset", rep.Elapsed, rep.Inputs)
	}
	t.Logf("%s after %d inputs: %s", f.Kind, rep.Inputs, f.Detail)
}

// Resets against the reference server in every mode leave it serving, with no finding.
func TestCampaignResetsReference(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			tg := reference(t, mode)
			in := &Input{Send: []byte("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234"), ResetAt: 60}
			res, err := (&target{addr: tg.Addr, timeout: 10 * time.Second}).probe(in, analyze(in.Send))
			if err != nil {
				t.Fatal(err)
			}
			if res.kind != "" || res.responses != 1 {
				t.Fatalf("reset exchange: kind %q (%s), %d responses; want no finding and the serving check answered", res.kind, res.detail, res.responses)
			}
		})
	}
}

// A target that answers as soon as it has the head and never reads the body, so that the
// body is read as the next request: withholding the last byte shows the early answer, and
// the GET / sent after the input shows the body misread.
func TestCampaignFindsEarlyAnswer(t *testing.T) {
	t.Parallel()
	addr := startFake(t, &fake{handle: func(c net.Conn, req *http.Request) bool {
		writeOK(c, req, "ok") // the planted bug: the body is left to be read as a request
		return true
	}})
	isEarly := func(f *Finding) bool { return f.Kind == KindEarlyResponse }
	rep := runFake(t, addr, 13, time.Nanosecond, isEarly)
	f := firstFinding(rep, isEarly)
	if f == nil {
		t.Fatalf("after %s and %d inputs, no early-response finding", rep.Elapsed, rep.Inputs)
	}
	if f.Repro.HoldUS == 0 && f.Repro.PauseMS == 0 {
		t.Fatalf("early response without a hold or a pause in the plan: %+v", f.Repro)
	}
	// The campaign's window is short; the replay waits long enough to be sure.
	if f.Repro.HoldUS > 0 {
		f.Repro.HoldUS = 2e6
	}
	got, err := Replay(addr, f.Repro, 5*time.Second)
	if err != nil || got.Kind != KindEarlyResponse || got.Grade != spec.Fail {
		t.Fatalf("Replay = %+v, %v; want a %s fail", got, err, KindEarlyResponse)
	}
}

// Targets that answer before the body arrived and then read and discard it, or close: legal
// (RFC 9112 §9.3 asks only that the rest be read or the connection closed), so no finding,
// though the answer came early. One that reads the body as a request is the finding.
func TestEarlyAnswerJudgedByTheRest(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		handle func(c net.Conn, req *http.Request) bool
		kind   string
	}{
		{"misreads", func(c net.Conn, req *http.Request) bool {
			writeOK(c, req, "ok")
			return true
		}, KindEarlyResponse},
		{"discards", func(c net.Conn, req *http.Request) bool {
			writeOK(c, req, "ok")
			_, err := io.Copy(io.Discard, req.Body)
			return err == nil
		}, ""},
		{"closes", func(c net.Conn, req *http.Request) bool {
			writeOK(c, req, "ok")
			return false
		}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tg := &target{addr: startFake(t, &fake{handle: tt.handle}), timeout: 5 * time.Second}
			tg.probeRoot()
			require.True(t, tg.crlfFirst, "the fake does not ignore an empty line before a request")
			// A long hold, so the early answer is seen however busy the machine.
			in := &Input{Send: []byte("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"), Hold: 3 * time.Second}
			res, err := tg.probe(in, analyze(in.Send))
			require.NoError(t, err)
			require.NotNil(t, res.early, "the answer was not early: the test tested nothing")
			assert.Equal(t, tt.kind, res.kind, res.detail)
		})
	}
}

// A target that drops the connection when a chunked request carries a trailer: the finding is
// minimised structurally to one trailer, no data chunk, no extension, no other header line.
func TestMinimizeChunked(t *testing.T) {
	t.Parallel()
	addr := startFake(t, &fake{handle: func(c net.Conn, req *http.Request) bool {
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return false
		}
		if len(req.Trailer) > 0 {
			return false // the planted bug
		}
		writeOK(c, req, "ok")
		return true
	}})
	planted := func(f *Finding) bool { return f.Kind == KindNoResponse && f.Repro != nil && f.Repro.Mutation == "" }
	rep := runFake(t, addr, 17, 2*time.Second, planted)
	f := firstFinding(rep, planted)
	if f == nil {
		t.Fatalf("after %s and %d inputs, no no-response finding for a valid input", rep.Elapsed, rep.Inputs)
	}
	req, n, err := wire.ParseRequest(f.Repro.Send)
	if err != nil || n != len(f.Repro.Send) {
		t.Fatalf("minimised input %q: %v (%d of %d bytes); want one valid request", f.Repro.Send, err, n, len(f.Repro.Send))
	}
	if !req.Chunked || len(req.Body) != 0 || len(req.Trailer) != 1 || len(req.Header) > 2 || bytes.Contains(f.Repro.Send, []byte(";")) {
		t.Fatalf("minimised to %q: want a chunked request with no data, no extension, one trailer and at most Host and Transfer-Encoding", f.Repro.Send)
	}
}

func TestStructuralCutsExample(t *testing.T) {
	in := "POST / HTTP/1.1\r\nHost: a\r\nX: 1\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"3;e=1\r\nabc\r\n1\r\nd\r\n0;z\r\nT: 2\r\n\r\n" +
		"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"
	var got []string
	for _, c := range structuralCuts([]byte(in)) {
		got = append(got, string(c))
	}
	for _, want := range []string{
		// a header line
		strings.Replace(in, "X: 1\r\n", "", 1),
		// a chunk, with its size line and CRLF
		strings.Replace(in, "3;e=1\r\nabc\r\n", "", 1),
		// a chunk shrunk to its first byte
		strings.Replace(in, "3;e=1\r\nabc\r\n", "1\r\na\r\n", 1),
		// extensions
		strings.Replace(in, ";e=1", "", 1),
		strings.Replace(in, "0;z", "0", 1),
		// a trailer
		strings.Replace(in, "T: 2\r\n", "", 1),
		// a Content-Length body
		strings.Replace(in, "Content-Length: 2\r\n\r\nhi", "Content-Length: 0\r\n\r\n", 1),
		// the framing of a chunked request: its Transfer-Encoding line and its body
		strings.Replace(in, "Transfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n1\r\nd\r\n0;z\r\nT: 2\r\n\r\n", "\r\n", 1),
		// whole requests
		in[strings.Index(in, "PUT"):],
		in[:strings.Index(in, "PUT")],
	} {
		found := false
		for _, g := range got {
			found = found || g == want
		}
		if !found {
			t.Errorf("no candidate %q", want)
		}
	}
	for _, g := range got {
		if len(g) >= len(in) {
			t.Errorf("candidate %q is not smaller", g)
		}
	}
}

// Greedy structural shrinking of any generated chunked request, keeping it valid and chunked, ends at the
// bare framing: no data chunk, no extension, no trailer, no header but Host and
// Transfer-Encoding. A cut that broke the framing would leave the request invalid and not be
// taken, so reaching the bare form shows the cuts keep the framing.
func TestStructuralCutsReachBareChunked(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := GenRequest(RapidSource(t), ReqOptions{Methods: []string{"POST"}, NoHTTP10: true})
		if !r.Chunked {
			t.Skip("not chunked")
		}
		cur := r.Bytes()
		for changed := true; changed; {
			changed = false
			for _, c := range structuralCuts(cur) {
				// Still chunked: the cut that drops the framing whole is another test's.
				if req, n, err := wire.ParseRequest(c); err == nil && n == len(c) && req.Chunked {
					cur, changed = c, true
					break
				}
			}
		}
		req, _, err := wire.ParseRequest(cur)
		if err != nil {
			t.Fatalf("%q: %v", cur, err)
		}
		// The chunked body is what follows the last empty line before the final one.
		body := cur[bytes.LastIndex(cur[:len(cur)-4], []byte("\r\n\r\n"))+4:]
		if len(req.Body) != 0 || len(req.Trailer) != 0 || len(req.Header) != 2 || len(body) < 5 || string(bytes.TrimLeft(body, "0")) != "\r\n\r\n" {
			t.Fatalf("from %q shrank only to %q (chunked body %q)", r.Bytes(), cur, body)
		}
	})
}

// The reference server's planted faults, each found by a short campaign as the finding it
// calls for: the campaign's checks work on a real forking server, not only on fakes.
func TestCampaignFindsReferenceFaults(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		mode, fault, kind string
		duration          time.Duration // zombies are judged when the campaign ends
	}{
		{"prefork", "ignore-close", KindNoClose, 20 * time.Second},
		{"prefork", "smuggle-cl", KindNoClose, 20 * time.Second},
		{"prefork", "head-body", KindIllFramed, 20 * time.Second},
		{"goroutine", "lenient-ws", KindAcceptInvalid, 20 * time.Second},
		{"prefork", "no-host-check", KindAcceptInvalid, 20 * time.Second},
		{"prefork", "one-recv", KindEchoMismatch, 20 * time.Second},
		{"fork", "no-reap", KindZombie, 500 * time.Millisecond},
	} {
		t.Run(tt.fault, func(t *testing.T) {
			t.Parallel()
			bin := testbin.Path(t) // built once, which can take long on a busy machine: not counted in the start
			tg, stop, err := targets.LaunchBinary(t.Context(), bin, "-mode", tt.mode, "-fault", tt.fault)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { stop() })
			rep, err := Run(context.Background(), Config{
				Target: tg, Duration: tt.duration, Seed: 3, Timeout: time.Second, MinimizeBudget: time.Nanosecond,
				StopWhen: func(f *Finding) bool { return f.Kind == tt.kind },
			})
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, f := range rep.Findings {
				if f.Kind == tt.kind {
					t.Logf("%s after %d inputs: %s\n  %s\n  %s", f.Kind, rep.Inputs, f.Detail, f.Repro.SendText, f.Repro.Plan())
					return
				}
				kinds = append(kinds, f.Kind)
			}
			t.Fatalf("-fault %s in %s mode: no %s finding after %d inputs in %s; findings: %v", tt.fault, tt.mode, tt.kind, rep.Inputs, rep.Elapsed, kinds)
		})
	}
}

// BenchmarkCampaignWorkers measures a campaign's judged responses per second against the
// reference server in prefork mode, with one worker and with two: on a machine with two
// cores and more, two should judge well over one and a half times as many.
//
//	go test ./fuzz -run '^$' -bench CampaignWorkers -benchtime 20000x -count 3
func BenchmarkCampaignWorkers(b *testing.B) {
	tg := reference(b, "prefork")
	for _, w := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			rep, err := Run(context.Background(), Config{Target: tg, Duration: time.Hour, Inputs: int64(b.N), Seed: 5, Workers: w})
			if err != nil {
				b.Fatal(err)
			}
			if len(rep.Findings) > 0 {
				b.Fatalf("finding against the reference server: %s: %s", rep.Findings[0].Kind, rep.Findings[0].Detail)
			}
			b.ReportMetric(float64(rep.Judged)/rep.Elapsed.Seconds(), "judged/s")
		})
	}
}
