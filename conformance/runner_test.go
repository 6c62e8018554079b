package conformance

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/forkproof/forkproof/hygiene"
	"github.com/forkproof/forkproof/internal/fakenet"

	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/targets"
)

// fakeReply is how the fake answers one request path.
type fakeReply struct {
	reply string        // written after the request; "" writes nothing
	after time.Duration // wait before replying
	end   string        // after replying: "close" (default), "reset", "open" (serve the next request), "hang" (read nothing more)
	delay time.Duration // wait before ending ("close" only)
}

const ok200 = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"

// fakeServer is a tiny HTTP/1.1 server on loopback answering request paths from a table; it also
// serves /echo and /reflect unless told not to, and counts the requests per path.
type fakeServer struct {
	srv    *fakenet.Server
	routes map[string]fakeReply
	plain  bool // no /echo, no /reflect
	quit   <-chan struct{}

	mu   sync.Mutex
	hits map[string]int
}

func startFake(t *testing.T, routes map[string]fakeReply) *fakeServer {
	t.Helper()
	return startFakeWith(t, routes, false)
}

func startFakeWith(t testing.TB, routes map[string]fakeReply, plain bool) *fakeServer {
	t.Helper()
	f := &fakeServer{srv: fakenet.New(t), routes: routes, plain: plain, hits: map[string]int{}}
	f.quit = f.srv.Done()
	f.srv.Serve(f.serve)
	return f
}

func (f *fakeServer) target() *targets.Target { return &targets.Target{Addr: f.srv.Addr()} }

func (f *fakeServer) count(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[path]
}

// wait pauses for d, or less when the fake stops; it reports whether the fake is still running.
func (f *fakeServer) wait(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-f.quit:
		return false
	}
}

func (f *fakeServer) serve(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		method, path := "", ""
		if parts := strings.Fields(line); len(parts) >= 2 {
			method, path = parts[0], parts[1]
		}
		n := 0
		for {
			h, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if h == "\r\n" || h == "\n" {
				break
			}
			if name, v, ok := strings.Cut(h, ":"); ok && strings.EqualFold(name, "Content-Length") {
				n, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(br, body); err != nil {
			return
		}
		f.mu.Lock()
		f.hits[path]++
		f.mu.Unlock()

		cn, found := f.routes[path]
		switch {
		case found:
		case path == "/echo" && !f.plain:
			cn = fakeReply{reply: fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body), end: "open"}
		case path == "/reflect" && !f.plain:
			js, _ := json.Marshal(map[string]string{"method": method, "target": path})
			cn = fakeReply{reply: fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(js), js), end: "open"}
		default:
			cn = fakeReply{reply: "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", end: "open"}
		}
		if !f.wait(cn.after) {
			return
		}
		if cn.reply != "" {
			if _, err := io.WriteString(c, cn.reply); err != nil {
				return
			}
		}
		switch cn.end {
		case "open":
			continue
		case "hang":
			<-f.quit
			return
		case "reset":
			c.(*net.TCPConn).SetLinger(0)
			return
		default:
			f.wait(cn.delay)
			return
		}
	}
}

// get is a minimal valid request for path.
func requestFor(path string) []byte {
	return []byte("GET " + path + " HTTP/1.1\r\nHost: fake\r\n\r\n")
}

// exchange is a one-request case: send requestFor(path), expect one of outcomes.
func exchangeCase(id string, level spec.Level, path string, outcomes ...spec.Outcome) spec.Case {
	return spec.Case{
		Meta: spec.Meta{ID: id, Category: spec.Conformance, Level: level, Title: "test " + id},
		Steps: []spec.Step{
			{Send: requestFor(path)},
			{Expect: &spec.Expect{Any: outcomes}},
		},
	}
}

func outcome(code int, end spec.End) spec.Outcome {
	return spec.Outcome{Responses: []spec.Want{{Status: spec.Status(code)}}, Then: end}
}

// quickOpts options keep tests short; timing-sensitive tests set their own.
var quickOpts = Options{Parallel: 4, Timeout: 2 * time.Second, Window: 100 * time.Millisecond, Retries: -1}

func runCase(t *testing.T, tg *targets.Target, c spec.Case, opt Options) Result {
	t.Helper()
	res := Execute(t.Context(), tg, []Case{Compile(c)}, opt)
	if len(res) != 1 {
		t.Fatalf("Execute returned %d results for 1 case", len(res))
	}
	return res[0]
}

func TestVerdictPerLevel(t *testing.T) {
	f := startFake(t, map[string]fakeReply{"/ok": {reply: ok200}})
	for _, tt := range []struct {
		level spec.Level
		want  spec.Verdict
	}{
		{spec.MUST, spec.Fail},
		{spec.SHOULD, spec.Warn},
		{spec.MAY, spec.Info},
		{spec.None, spec.Warn}, // a policy, graded at most warn
	} {
		// The fake answers 200 then close; the case wants 400 then close.
		res := runCase(t, f.target(), exchangeCase("t/level", tt.level, "/ok", outcome(400, spec.EndClosed)), quickOpts)
		if res.Verdict != tt.want {
			t.Errorf("level %s: verdict = %s; want %s (detail %q)", tt.level, res.Verdict, tt.want, res.Detail)
		}
		const wantDetail = "got: 200 then close; want one of: [400 then close]"
		if res.Detail != wantDetail {
			t.Errorf("level %s: detail = %q; want %q", tt.level, res.Detail, wantDetail)
		}
	}
}

func TestResultsInCaseOrder(t *testing.T) {
	routes := map[string]fakeReply{}
	var cases []Case
	for i := range 40 {
		path := fmt.Sprintf("/r%d", i)
		// Later cases answer sooner, so finishing order differs from case order.
		routes[path] = fakeReply{reply: ok200, after: time.Duration(40-i) * time.Millisecond}
		code := 200
		if i%3 == 0 {
			code = 404 // every third case fails, so verdicts differ by position too
		}
		// Any end: the verdict rests on the status alone, not on a close seen within the
		// window, which a busy machine can miss with re-runs off.
		cases = append(cases, Compile(exchangeCase(fmt.Sprintf("t/order/%d", i), spec.MUST, path, outcome(code, spec.EndAny))))
	}
	f := startFake(t, routes)
	var mu sync.Mutex
	seen := map[string]int{}
	opt := quickOpts
	opt.Parallel = 8
	opt.OnResult = func(r Result) {
		mu.Lock()
		seen[r.ID]++
		mu.Unlock()
	}
	results := Execute(t.Context(), f.target(), cases, opt)
	if len(results) != len(cases) {
		t.Fatalf("got %d results for %d cases", len(results), len(cases))
	}
	for i, r := range results {
		if r.ID != cases[i].ID {
			t.Errorf("results[%d].ID = %q; want %q", i, r.ID, cases[i].ID)
		}
		want := spec.Pass
		if i%3 == 0 {
			want = spec.Fail
		}
		if r.Verdict != want {
			t.Errorf("%s: verdict %s; want %s (%s)", r.ID, r.Verdict, want, r.Detail)
		}
		if seen[r.ID] != 1 {
			t.Errorf("%s: OnResult called %d times; want 1", r.ID, seen[r.ID])
		}
		if r.Duration <= 0 {
			t.Errorf("%s: Duration = %v; want > 0", r.ID, r.Duration)
		}
	}
}

func TestRetryOnTiming(t *testing.T) {
	// A slow server: / is slow too, so a silence cannot be told from slowness and is re-run.
	f := startFake(t, map[string]fakeReply{
		"/":            {reply: ok200, after: 400 * time.Millisecond, end: "open"},
		"/slow-answer": {reply: ok200, after: 400 * time.Millisecond},
		"/slow-close":  {reply: ok200, end: "close", delay: 400 * time.Millisecond},
		"/never":       {end: "hang"},
	})
	timing := Options{Parallel: 3, Timeout: 150 * time.Millisecond, Window: 100 * time.Millisecond, Retries: 2}
	noRetry := timing
	noRetry.Retries = -1
	for _, tt := range []struct {
		path string
		opt  Options
		want spec.Verdict
	}{
		{"/slow-answer", noRetry, spec.Fail}, // 150ms is not enough for a 400ms answer ...
		{"/slow-answer", timing, spec.Pass},  // ... the re-run with 600ms is
		{"/slow-close", noRetry, spec.Fail},  // a close 400ms late is missed by a 100ms window ...
		{"/slow-close", timing, spec.Pass},   // ... and seen by the 1.6s one
		{"/never", timing, spec.Fail},        // no answer at all stays a failure
	} {
		t.Run(fmt.Sprintf("%s/retries=%d", tt.path[1:], tt.opt.Retries), func(t *testing.T) {
			t.Parallel() // each waits on timers; together they take as long as the slowest
			res := runCase(t, f.target(), exchangeCase("t/retry", spec.MUST, tt.path, outcome(200, spec.EndClosed)), tt.opt)
			if res.Verdict != tt.want {
				t.Errorf("%s (retries %d): verdict = %s; want %s (%s)", tt.path, tt.opt.Retries, res.Verdict, tt.want, res.Detail)
			}
			if tt.want == spec.Fail && tt.opt.Retries > 0 && !strings.Contains(res.Detail, "after 2 re-run(s)") {
				t.Errorf("%s: detail %q does not say the case was re-run", tt.path, res.Detail)
			}
			if tt.want == spec.Fail && tt.opt.Retries > 0 {
				// The result keeps what each earlier run saw, with its waits.
				require.Len(t, res.Attempts, 2)
				assert.Equal(t, []int64{100, 400}, []int64{res.Attempts[0].WindowMS, res.Attempts[1].WindowMS})
				assert.Equal(t, spec.Fail, res.Attempts[0].Verdict)
				assert.NotEmpty(t, res.Attempts[0].Detail)
			}
			if tt.opt.Retries < 0 {
				assert.Empty(t, res.Attempts)
			}
		})
	}
}

func TestNoRetryWhenOthersAreAnswered(t *testing.T) {
	// A server that never answers one request but answers GET / on another connection at once
	// was waiting, not slow: the silence is believed after one run (a hang is not re-run with
	// ever longer timeouts), and the detail says why.
	f := startFake(t, map[string]fakeReply{"/": {reply: ok200, end: "open"}, "/never": {end: "hang"}})
	opt := Options{Parallel: 1, Timeout: 3 * time.Second, Window: 100 * time.Millisecond, Retries: 2}
	res := runCase(t, f.target(), exchangeCase("t/hang", spec.MUST, "/never", outcome(200, spec.EndAny)), opt)
	assert.Equal(t, spec.Fail, res.Verdict)
	assert.Contains(t, res.Detail, "not re-run: a GET / on another connection was answered in")
	assert.Empty(t, res.Attempts)
	assert.Equal(t, 1, f.count("/never"))
}

func TestNoRetryWithoutTiming(t *testing.T) {
	// A wrong status is not a timing matter, even when the connection also stayed open when
	// a close was wanted: one run only.
	f := startFake(t, map[string]fakeReply{
		"/ok":   {reply: ok200},
		"/open": {reply: ok200, end: "open"},
	})
	opt := quickOpts
	opt.Retries = 2
	for _, path := range []string{"/ok", "/open"} {
		res := runCase(t, f.target(), exchangeCase("t/noretry", spec.MUST, path, outcome(400, spec.EndClosed)), opt)
		if res.Verdict != spec.Fail {
			t.Errorf("%s: verdict = %s; want fail", path, res.Verdict)
		}
		if n := f.count(path); n != 1 {
			t.Errorf("%s: the case ran %d times; want 1", path, n)
		}
	}
}

func TestRetryForBetterOutcome(t *testing.T) {
	// "200 then close" is right, "200 then stays open" only tolerated: a close that comes
	// after the window must not leave the warning standing.
	f := startFake(t, map[string]fakeReply{"/slow-close": {reply: ok200, delay: 400 * time.Millisecond}})
	tolerated := spec.Outcome{Responses: []spec.Want{{Status: spec.Status(200)}}, Then: spec.EndOpen, Verdict: spec.Warn}
	c := exchangeCase("t/better", spec.MUST, "/slow-close", outcome(200, spec.EndClosed), tolerated)
	opt := quickOpts
	if res := runCase(t, f.target(), c, opt); res.Verdict != spec.Warn {
		t.Errorf("without retries: verdict = %s; want warn (%s)", res.Verdict, res.Detail)
	}
	opt.Retries = 2
	if res := runCase(t, f.target(), c, opt); res.Verdict != spec.Pass {
		t.Errorf("with retries: verdict = %s; want pass (%s)", res.Verdict, res.Detail)
	}
}

func TestNeeds(t *testing.T) {
	needing := func(id string, needs ...spec.Need) Case {
		c := exchangeCase(id, spec.MUST, "/ok", outcome(200, spec.EndAny))
		c.Needs = needs
		return Compile(c)
	}
	cases := []Case{
		needing("t/needs/none"),
		needing("t/needs/pid", spec.NeedPID),
		needing("t/needs/echo/1", spec.NeedEcho),
		needing("t/needs/echo/2", spec.NeedEcho),
		needing("t/needs/echo/3", spec.NeedEcho),
		needing("t/needs/reflect", spec.NeedReflect),
		needing("t/needs/unknown", spec.Need("telepathy")),
	}
	routes := map[string]fakeReply{"/ok": {reply: ok200}}

	full := startFake(t, routes)
	withPID := full.target()
	withPID.PID = 1
	got := verdictList(Execute(t.Context(), withPID, cases, quickOpts))
	want := "pass pass pass pass pass pass skip"
	if got != want {
		t.Errorf("full target: verdicts %q; want %q", got, want)
	}
	if n := full.count("/echo"); n != 1 {
		t.Errorf("echo probed %d times; want once per run", n)
	}

	plain := startFakeWith(t, routes, true)
	results := Execute(t.Context(), plain.target(), cases, quickOpts)
	got = verdictList(results)
	want = "pass skip skip skip skip skip skip"
	if got != want {
		t.Errorf("plain target: verdicts %q; want %q", got, want)
	}
	for _, r := range results[1:] {
		var word string
		switch {
		case strings.Contains(r.ID, "pid"):
			word = "PID"
		case strings.Contains(r.ID, "echo"):
			word = "POST /echo: got 404"
		case strings.Contains(r.ID, "reflect"):
			word = "GET /reflect: got 404"
		default:
			word = "telepathy"
		}
		if !strings.Contains(r.Detail, word) {
			t.Errorf("%s: skip detail %q does not mention %q", r.ID, r.Detail, word)
		}
	}
}

func verdictList(rs []Result) string {
	v := make([]string, len(rs))
	for i, r := range rs {
		v[i] = string(r.Verdict)
	}
	return strings.Join(v, " ")
}

func TestCannotConnect(t *testing.T) {
	// A port that was listening a moment ago and is now closed: the first case cannot connect,
	// the target is found gone, and the run stops without accusing any case.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	cases := []Case{
		Compile(exchangeCase("t/dial/1", spec.MUST, "/", outcome(200, spec.EndAny))),
		Compile(exchangeCase("t/dial/2", spec.MUST, "/", outcome(200, spec.EndAny))),
	}
	opt := quickOpts
	opt.Parallel = 1
	run := ExecuteRun(t.Context(), &targets.Target{Addr: addr}, cases, opt)
	assert.Contains(t, run.Stopped, "stopped accepting connections")
	require.Len(t, run.Results, 2)
	assert.Equal(t, spec.Skip, run.Results[0].Verdict)
	assert.Contains(t, run.Results[0].Detail, "not run to its end")
	assert.Contains(t, run.Results[0].Detail, "cannot connect", "the skip keeps what the case saw")
	assert.Equal(t, spec.Skip, run.Results[1].Verdict)
	assert.True(t, strings.HasPrefix(run.Results[1].Detail, "not run: "), run.Results[1].Detail)
}

func TestScheduleOrder(t *testing.T) {
	// One slot: the Long cases first, then the others, then each Alone, then each Quiet, each
	// group in case order.
	var order []string
	mk := func(id string, s Schedule) Case { return Case{Meta: spec.Meta{ID: id}, Schedule: s} }
	cases := []Case{mk("a1", Anytime), mk("q1", Quiet), mk("l1", Long), mk("x1", Alone), mk("a2", Anytime), mk("l2", Long), mk("x2", Alone), mk("q2", Quiet)}
	schedule(cases, 1, 8, time.Hour, func(i int) { order = append(order, cases[i].ID) })
	assert.Equal(t, []string{"l1", "l2", "a1", "a2", "x1", "x2", "q1", "q2"}, order)
}

func TestScheduleOverlapsWaits(t *testing.T) {
	// Cases that only wait let more start: 8 cases that each wait until all 8 have started
	// finish with 2 parallel slots (a stall of 1ms marks them waiting). Without the overlap
	// they would wait for one another until their deadline.
	const n = 8
	var started sync.WaitGroup
	started.Add(n)
	all := make(chan struct{})
	go func() { started.Wait(); close(all) }()
	var met atomic.Int32
	cases := make([]Case, n)
	schedule(cases, 2, 16, time.Millisecond, func(i int) {
		started.Done()
		select {
		case <-all:
			met.Add(1)
		case <-time.After(30 * time.Second):
		}
	})
	assert.Equal(t, int32(n), met.Load(), "cases waiting on each other did not all run at once")
}

func TestScheduleAloneAndQuiet(t *testing.T) {
	// Many slots: an Alone or Quiet case never runs beside another case, the Quiet ones run
	// after every other, and Long cases hold at most half the slots while others wait.
	var cases []Case
	for i := range 40 {
		s := []Schedule{Anytime, Long, Anytime, Anytime, Alone, Quiet, Long, Anytime}[i%8]
		cases = append(cases, Case{Meta: spec.Meta{ID: fmt.Sprint(i)}, Schedule: s})
	}
	var mu sync.Mutex
	running, longRunning, anytimeLeft := 0, 0, 0
	for _, c := range cases {
		if c.Schedule == Anytime {
			anytimeLeft++
		}
	}
	quietStarted, lateOther := false, ""
	schedule(cases, 6, 48, time.Hour, func(i int) {
		c := cases[i]
		mu.Lock()
		running++
		if c.Schedule == Long {
			longRunning++
			// More Anytime cases left than slots: some are surely still queued (a slot may have
			// taken one and not yet called us).
			if anytimeLeft > 6 && longRunning > 3 {
				t.Errorf("%d Long cases at once while Anytime cases wait; want at most 3 of 6 slots", longRunning)
			}
		}
		if c.Schedule == Anytime {
			anytimeLeft--
		}
		if (c.Schedule == Alone || c.Schedule == Quiet) && running != 1 {
			t.Errorf("case %s (schedule %d) ran beside %d others", c.ID, c.Schedule, running-1)
		}
		if c.Schedule == Quiet {
			quietStarted = true
		} else if quietStarted && lateOther == "" {
			lateOther = c.ID
		}
		mu.Unlock()
		runtime.Gosched() // let others overlap if the scheduler allowed them
		mu.Lock()
		running--
		if c.Schedule == Long {
			longRunning--
		}
		mu.Unlock()
	})
	assert.Empty(t, lateOther, "a case ran after a Quiet one")
}

func TestInterruptedMidRun(t *testing.T) {
	// ^C during a case: the case cut short is not a failure, the rest are not run.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f := startFake(t, nil)
	cases := []Case{
		{Meta: spec.Meta{ID: "t/int/1", Level: spec.MUST}, Run: func(ctx context.Context, env *Env) Result {
			cancel()
			return Result{Verdict: spec.Fail, Detail: "read: operation was canceled"}
		}},
		{Meta: spec.Meta{ID: "t/int/2", Level: spec.MUST}, Run: func(ctx context.Context, env *Env) Result {
			return Result{Verdict: spec.Fail, Detail: "ran after the interruption"}
		}},
	}
	opt := quickOpts
	opt.Parallel = 1
	run := ExecuteRun(ctx, f.target(), cases, opt)
	assert.NotEmpty(t, run.Stopped)
	assert.Equal(t, spec.Skip, run.Results[0].Verdict)
	assert.Contains(t, run.Results[0].Detail, "not run to its end: interrupted")
	assert.Equal(t, spec.Skip, run.Results[1].Verdict)
	assert.True(t, strings.HasPrefix(run.Results[1].Detail, "not run: "), run.Results[1].Detail)
}

func TestTargetDiesMidRun(t *testing.T) {
	// The second of five cases, a robustness scenario, kills the target (its listener
	// closes): it keeps its verdict (whether the server survives is what such a scenario
	// judges), the later ones are not run, and the run says why and where it stopped.
	f := startFake(t, map[string]fakeReply{"/": {reply: ok200, end: "open"}})
	var ran atomic.Int32
	mk := func(id string, kill bool) Case {
		m := spec.Meta{ID: id, Level: spec.MUST, Category: spec.Conformance}
		if kill {
			m.Category = spec.Robustness
		}
		return Case{Meta: m, Run: func(ctx context.Context, env *Env) Result {
			ran.Add(1)
			if kill {
				f.srv.StopAccepting()
				return Result{Verdict: spec.Fail, Detail: "no response"}
			}
			return Result{Verdict: spec.Warn, Detail: "a finding"}
		}}
	}
	cases := []Case{mk("t/die/1", false), mk("t/die/2", true), mk("t/die/3", false), mk("t/die/4", false), mk("t/die/5", false)}
	opt := quickOpts
	opt.Parallel = 1
	run := ExecuteRun(t.Context(), f.target(), cases, opt)
	assert.Contains(t, run.Stopped, "stopped accepting connections")
	assert.Equal(t, int32(2), ran.Load(), "no case starts once the target is gone")
	assert.Equal(t, spec.Warn, run.Results[0].Verdict)
	assert.Contains(t, run.Stopped, "first seen by t/die/2")
	assert.Equal(t, spec.Fail, run.Results[1].Verdict)
	assert.Equal(t, "no response; the target then stopped accepting connections", run.Results[1].Detail)
	for _, r := range run.Results[2:] {
		assert.Equal(t, spec.Skip, r.Verdict, r.ID)
		assert.True(t, strings.HasPrefix(r.Detail, "not run: the target stopped accepting connections"), r.Detail)
	}
}

func TestGoScenarios(t *testing.T) {
	calls := atomic.Int32{}
	cases := []Case{
		{Meta: spec.Meta{ID: "t/go/panic", Level: spec.MUST}, Run: func(context.Context, *Env) Result { panic("boom") }},
		{Meta: spec.Meta{ID: "t/go/norun", Level: spec.MUST}},
		{Meta: spec.Meta{ID: "t/go/blank", Level: spec.MUST}, Run: func(context.Context, *Env) Result { return Result{} }},
		{Meta: spec.Meta{ID: "t/go/timed", Level: spec.SHOULD}, Run: func(_ context.Context, env *Env) Result {
			// Fails unless given a window of at least 400ms: a scenario that needs patience.
			calls.Add(1)
			if env.Window < 400*time.Millisecond {
				return Result{Verdict: spec.Warn, Detail: "too quick", Timed: true}
			}
			return Result{Verdict: spec.Pass}
		}},
	}
	opt := quickOpts
	opt.Retries = 2
	// A live target: these failures are the harness's, not a dead target's.
	results := Execute(t.Context(), startFake(t, nil).target(), cases, opt)
	want := []struct {
		verdict spec.Verdict
		detail  string
	}{
		{spec.Fail, "case panicked (harness bug): boom"},
		{spec.Fail, "case has no Run function (harness bug)"},
		{spec.Fail, "case returned no verdict (harness bug)"},
		{spec.Pass, ""},
	}
	for i, r := range results {
		if r.ID != cases[i].ID || r.Verdict != want[i].verdict || r.Detail != want[i].detail {
			t.Errorf("results[%d] = %s %s %q; want %s %s %q", i, r.ID, r.Verdict, r.Detail, cases[i].ID, want[i].verdict, want[i].detail)
		}
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("timed scenario ran %d times; want 2 (window 100ms, then 400ms)", n)
	}
}

func TestCancelledContextSkips(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	cs := []Case{Compile(exchangeCase("t/cancel", spec.MUST, "/", outcome(200, spec.EndAny)))}
	res := Execute(ctx, &targets.Target{Addr: "127.0.0.1:1"}, cs, quickOpts)
	if res[0].Verdict != spec.Skip || !strings.Contains(res[0].Detail, "not run") {
		t.Errorf("got %s %q; want skip, not run", res[0].Verdict, res[0].Detail)
	}
}

func TestCatalogueOrder(t *testing.T) {
	specs := spec.Catalogue()
	compiled := Catalogue()
	if len(specs) == 0 || len(compiled) < len(specs) {
		t.Fatalf("Catalogue has %d cases; want at least the %d of spec.Catalogue", len(compiled), len(specs))
	}
	for i, sc := range specs {
		if c := compiled[i]; c.ID != sc.ID || c.Run == nil || len(c.Outcomes) == 0 {
			t.Fatalf("Catalogue()[%d] = %q (outcomes %q); want the compiled %q with its outcomes", i, c.ID, c.Outcomes, sc.ID)
		}
	}
	// The checks judged against the run's baseline come last, run alone at the end.
	metas := hygiene.Metas()
	tail := compiled[len(compiled)-len(metas):]
	for i, m := range metas {
		if c := tail[i]; c.ID != m.ID || !c.Baseline || c.Schedule != Quiet || c.Run == nil {
			t.Errorf("Catalogue()[%d] = %q (baseline %v, schedule %v); want %q judged against the baseline, scheduled Quiet", len(compiled)-len(metas)+i, c.ID, c.Baseline, c.Schedule, m.ID)
		}
	}
}

func TestSelect(t *testing.T) {
	var cases []Case
	for _, id := range []string{"rfc9112/6/1", "rfc9112/6.1/1", "rfc9112/6.1/2", "rfc9112/6.10/1", "rfc9112/60/1", "rfc9112/7/1", "rfc9110/6.1/1", "robust/reset/1"} {
		cases = append(cases, Case{Meta: spec.Meta{ID: id}})
	}
	ids := func(cs []Case) string {
		var s []string
		for _, c := range cs {
			s = append(s, c.ID)
		}
		return strings.Join(s, " ")
	}
	for _, tt := range []struct{ pattern, want string }{
		{"", "rfc9112/6/1 rfc9112/6.1/1 rfc9112/6.1/2 rfc9112/6.10/1 rfc9112/60/1 rfc9112/7/1 rfc9110/6.1/1 robust/reset/1"},
		{"rfc9112/6", "rfc9112/6/1 rfc9112/6.1/1 rfc9112/6.1/2 rfc9112/6.10/1"},
		{"rfc9112/6.1", "rfc9112/6.1/1 rfc9112/6.1/2"},
		{"rfc9112/6.1/2", "rfc9112/6.1/2"},
		{"rfc9112/", "rfc9112/6/1 rfc9112/6.1/1 rfc9112/6.1/2 rfc9112/6.10/1 rfc9112/60/1 rfc9112/7/1"},
		{"robust", "robust/reset/1"},
		{"rfc911", ""}, // not an element boundary
		{"^rfc9112/(6|7)/", "rfc9112/6/1 rfc9112/7/1"},
		{"6\\.1/", "rfc9112/6.1/1 rfc9112/6.1/2 rfc9110/6.1/1"},
		{"reset/1$", "robust/reset/1"},
	} {
		got, err := Select(cases, tt.pattern)
		if err != nil {
			t.Errorf("Select(%q): %v", tt.pattern, err)
			continue
		}
		if ids(got) != tt.want {
			t.Errorf("Select(%q) = %q; want %q", tt.pattern, ids(got), tt.want)
		}
	}
	if _, err := Select(cases, "rfc(9112"); err == nil || !strings.Contains(err.Error(), `"rfc(9112"`) {
		t.Errorf("Select with a bad regexp: err = %v; want an error naming the pattern", err)
	}
}

// BenchmarkExecute300 runs 300 one-request cases against a fast fake (keep-alive off: one
// connection per case, as the catalogue does).
func BenchmarkExecute300(b *testing.B) {
	f := startFakeWith(b, map[string]fakeReply{"/ok": {reply: ok200}}, false)
	cases := make([]Case, 300)
	for i := range cases {
		cases[i] = Compile(exchangeCase(fmt.Sprintf("t/bench/%d", i), spec.MUST, "/ok", outcome(200, spec.EndClosed)))
	}
	opt := Options{}
	b.ResetTimer()
	for b.Loop() {
		for _, r := range Execute(context.Background(), f.target(), cases, opt) {
			if r.Verdict != spec.Pass {
				b.Fatalf("%s: %s %s", r.ID, r.Verdict, r.Detail)
			}
		}
	}
}

// listenBacklog listens on a loopback port with the given backlog and returns its address.
func listenBacklog(t *testing.T, backlog int) string {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Close(fd) })
	require.NoError(t, unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	require.NoError(t, unix.Listen(fd, backlog))
	sa, err := unix.Getsockname(fd)
	require.NoError(t, err)
	return fmt.Sprintf("127.0.0.1:%d", sa.(*unix.SockaddrInet4).Port)
}

func TestMaxSlotsFollowsTheBacklog(t *testing.T) {
	// Waiting cases may open more connections than Parallel, but not more than the target's
	// listen backlog holds (python's http.server has 5): beyond it connects wait for SYN
	// retransmissions.
	assert.Equal(t, 8, maxSlots(&targets.Target{Addr: listenBacklog(t, 5)}, 8), "a backlog under parallel")
	assert.Equal(t, 20, maxSlots(&targets.Target{Addr: listenBacklog(t, 20)}, 8))
	assert.Equal(t, 64, maxSlots(&targets.Target{Addr: listenBacklog(t, 4096)}, 8), "at most 8×parallel")
	assert.Equal(t, 8, maxSlots(&targets.Target{Addr: "192.0.2.1:80"}, 8), "a backlog that cannot be read")
}
