package conformance

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/forkproof/forkproof/clients"
	"github.com/forkproof/forkproof/hygiene"
	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/targets"
)

// Options tune Execute. Zero fields take the defaults.
type Options struct {
	// Parallel is how many cases work at once; default 8. A case still running after a fifth
	// of Window is waiting (for a close, on the server's timeout) rather than working, and
	// lets another start, up to 8×Parallel and no more than the target's listen backlog
	// (but Parallel at least); a target whose backlog cannot be read (on another host) gets
	// Parallel. Two runs against one target at once are not coordinated: the backlog
	// scenario pauses the target under the other run's cases.
	Parallel int
	Timeout  time.Duration // per response wait; default 5s
	Window   time.Duration // how long "the server stays silent/open" is observed; default 250ms
	Retries  int           // re-runs of a timing-sensitive miss, window ×4 each; default 2, <0 none
	// SlowBound is how long a slow client may be held before the server is said to wait too
	// long; default 6s, so that the slow-client scenarios, which overlap the rest of the run,
	// do not make it much longer, and not 5s, a timeout many servers choose, which would be
	// judged by milliseconds (the reference server cuts slow clients off after 4s by default).
	// Servers that hold slow clients longer warn (a policy: no RFC sentence sets a timeout).
	SlowBound time.Duration
	OnResult  func(Result)    // called as each case finishes, one call at a time (progress output)
	OnStart   func(spec.Meta) // called as each case starts, one call at a time with OnResult
	// Capabilities, when set, are the target's probed capabilities, shared with the caller
	// (who shows them in the report header); nil probes afresh, lazily.
	Capabilities *targets.Capabilities
	// Hygiene tunes the hygiene checks judged against the baseline taken before the run.
	Hygiene hygiene.Options

	around func(c Case, run func() Result) // see CheckOptions.Around
	mark   func(*Result)                   // applied to each result before it is reported (quirks)
	// stressSettle, when set, is how long numbers may take to come back after a stress
	// (default stressSettle): tests of targets whose faults are permanent shorten it.
	stressSettle time.Duration
}

// Defaults of Options.
const (
	DefaultParallel  = 8
	DefaultTimeout   = targets.DefaultTimeout
	DefaultWindow    = 250 * time.Millisecond
	DefaultRetries   = 2
	DefaultSlowBound = 6 * time.Second
)

func (o Options) withDefaults() Options {
	if o.Parallel <= 0 {
		o.Parallel = DefaultParallel
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.SlowBound <= 0 {
		o.SlowBound = DefaultSlowBound
	}
	switch {
	case o.Retries == 0:
		o.Retries = DefaultRetries
	case o.Retries < 0:
		o.Retries = 0
	}
	return o
}

// Catalogue returns every case: the compiled spec catalogue, the robustness scenarios and
// the hygiene checks, the ones judged against the baseline of the whole run last.
func Catalogue() []Case {
	var all []Case
	for _, c := range spec.Catalogue() {
		all = append(all, Compile(c))
	}
	all = append(all, robustCases()...)
	return append(all, endOfRunCases()...)
}

// Execute runs cases against the target and returns one result per case in case order. A
// case the target cannot serve (no PID, no echo or reflect endpoint, found by probing the
// target once) is skipped, saying why. A non-pass verdict resting on an expired wait is re-run
// with the window ×4 and the timeout ×2, up to Retries times, before it is believed; the
// result keeps what the earlier runs saw. A case that got no response within the whole
// timeout is re-run only if the server is slow to answer another connection too: one that
// answers it promptly was waiting, and is believed. Cases are scheduled as their Schedule
// says (see ExecuteRun). Cases not started when ctx ends are skipped.
func Execute(ctx context.Context, t *targets.Target, cases []Case, opt Options) []Result {
	return ExecuteRun(ctx, t, cases, opt).Results
}

// Run is what ExecuteRun found: one result per case, in case order, and why the run stopped
// before its end ("" when it did not).
type RunResult struct {
	Results []Result
	// Stopped says why cases were not run: the target stopped accepting connections (it died)
	// or ctx ended. The cases not run are skips whose detail starts with "not run".
	Stopped string
}

// ExecuteRun is Execute, saying also why the run stopped early. The Long cases start first
// and hold at most half the Parallel slots, so their waits overlap the rest; each Alone case
// then runs by itself, then each Quiet case. When a case misses and the target then refuses
// connections for a while, the target is gone: the run stops, and what had not finished is
// a skip saying so, not a failure of its own.
func ExecuteRun(ctx context.Context, t *targets.Target, cases []Case, opt Options) RunResult {
	opt = opt.withDefaults()
	r := newRunner(t, opt)
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	r.stop = stop
	if t != nil && t.PID > 0 && slices.ContainsFunc(cases, func(c Case) bool { return c.Baseline }) {
		// Before any case loads the target: the numbers the hygiene checks come back to.
		base, err := hygiene.Baseline(ctx, t, opt.Hygiene)
		if err != nil {
			r.baseErr = err
		} else {
			r.base = &base
		}
	}
	results := make([]Result, len(cases))
	var mu sync.Mutex
	schedule(cases, opt.Parallel, maxSlots(t, opt.Parallel), opt.Window/5, func(i int) {
		run := func() Result {
			if opt.OnStart != nil {
				mu.Lock()
				opt.OnStart(cases[i].Meta)
				mu.Unlock()
			}
			res := r.run(ctx, cases[i])
			if opt.mark != nil {
				opt.mark(&res)
			}
			results[i] = res
			if opt.OnResult != nil {
				mu.Lock()
				opt.OnResult(res)
				mu.Unlock()
			}
			return res
		}
		if opt.around != nil {
			opt.around(cases[i], run)
		} else {
			run()
		}
	})
	out := RunResult{Results: results}
	if err := context.Cause(ctx); err != nil && ctx.Err() != nil {
		out.Stopped = err.Error()
	}
	return out
}

// waitingSlots is how many cases may run at once, as a multiple of Options.Parallel, when
// most of them are only waiting (for a server's timeout, a slow client's bound).
const waitingSlots = 8

// maxSlots is how many cases may run at once against t: waitingSlots×parallel, but no more
// than the target's listen backlog holds (parallel at least), and parallel when the backlog
// cannot be read (a target on another host). Beyond its backlog a server's new connections
// wait for SYN retransmissions — seconds — and python's http.server has a backlog of 5.
func maxSlots(t *targets.Target, parallel int) int {
	if t == nil {
		return parallel
	}
	_, backlog, ok := clients.ListenQueue(t.Addr)
	if !ok {
		return parallel
	}
	return min(waitingSlots*parallel, max(parallel, backlog))
}

// schedule calls do(i) once for every case: the Long cases first, the Anytime ones alongside
// them (Long cases hold at most half of the parallel slots while Anytime ones wait); then each
// Alone case by itself, then each Quiet case by itself. parallel cases start at once; a case still running after stall
// is waiting rather than working, and lets one more start, up to maxSlots at once: a server that makes many cases wait (for its timeout) costs the longest wait, not the
// sum of the waits over parallel.
func schedule(cases []Case, parallel, maxSlots int, stall time.Duration, do func(i int)) {
	var long, anytime, alone, quiet []int
	for i, c := range cases {
		switch c.Schedule {
		case Long:
			long = append(long, i)
		case Alone:
			alone = append(alone, i)
		case Quiet:
			quiet = append(quiet, i)
		default:
			anytime = append(anytime, i)
		}
	}
	var mu sync.Mutex
	longRunning, longSlots := 0, max(1, parallel/2)
	// next takes a Long case while fewer than longSlots run, else an Anytime one; either
	// queue, once empty, leaves the slot to the other.
	next := func() (i int, isLong, ok bool) {
		mu.Lock()
		defer mu.Unlock()
		first, second := &anytime, &long
		if longRunning < longSlots {
			first, second = second, first
		}
		for _, q := range []*[]int{first, second} {
			if len(*q) > 0 {
				i, *q = (*q)[0], (*q)[1:]
				isLong = q == &long
				if isLong {
					longRunning++
				}
				return i, isLong, true
			}
		}
		return 0, false, false
	}
	working := make(chan struct{}, parallel) // one token per case that is working, not waiting
	slots := min(max(parallel, maxSlots), len(long)+len(anytime))
	var wg sync.WaitGroup
	for range slots {
		wg.Go(func() {
			for {
				working <- struct{}{}
				var once sync.Once
				release := func() { once.Do(func() { <-working }) }
				i, isLong, ok := next()
				if !ok {
					release()
					return
				}
				t := time.AfterFunc(stall, release)
				do(i)
				t.Stop()
				release()
				if isLong {
					mu.Lock()
					longRunning--
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for _, i := range append(alone, quiet...) {
		do(i)
	}
}

// runner runs single cases against one target, sharing the probes of what it serves.
type runner struct {
	t   *targets.Target
	opt Options

	caps *targets.Capabilities
	// stop ends the run when the target is found gone (nil: the caller does not stop).
	stop context.CancelCauseFunc

	pollMu  sync.Mutex      // one look at whether the target is gone at a time
	goneMu  sync.Mutex      // guards goneAt
	goneAt  string          // why the target is gone, once found
	runMu   sync.Mutex      // guards running
	running map[string]bool // the cases running now

	base    *hygiene.Snapshot // the hygiene baseline taken before the run (nil: none)
	baseErr error             // why it could not be taken
}

func newRunner(t *targets.Target, opt Options) *runner {
	caps := opt.Capabilities
	if caps == nil {
		caps = targets.NewCapabilities(t, opt.Timeout)
	}
	return &runner{t: t, opt: opt, caps: caps, running: map[string]bool{}}
}

// run runs one case with its needs checked, retries applied and its Result completed.
func (r *runner) run(ctx context.Context, c Case) Result {
	start := time.Now()
	// No case starts while the runner looks at whether the target is gone (about a second
	// when it refuses connections): a case started then would only see the same refusals.
	r.waitForLook()
	r.runMu.Lock()
	r.running[c.ID] = true
	r.runMu.Unlock()
	defer func() {
		r.runMu.Lock()
		delete(r.running, c.ID)
		r.runMu.Unlock()
	}()
	res := r.runRetrying(ctx, c)
	if res.ID == "" {
		res.Meta = c.Meta
	}
	if res.Verdict == "" {
		res.Verdict, res.Detail = spec.Fail, "case returned no verdict (harness bug)"
	}
	if r.stop != nil && (res.Verdict != spec.Pass && res.Verdict != spec.Skip || strings.HasPrefix(res.Detail, "interrupted")) {
		// A miss may be the target dying: if it now refuses connections, the run stops.
		if why, first := r.gone(ctx, c.ID); why != "" {
			r.stop(errors.New(why))
			res = diedDuring(res, why, first)
		} else if ctx.Err() != nil && res.Verdict != spec.Pass && !strings.HasPrefix(res.Detail, "not run") {
			// Interrupted (^C): what the case saw as it was cut short is no finding.
			res = Result{Meta: res.Meta, Verdict: spec.Skip, Wire: res.Wire, Attempts: res.Attempts,
				Detail: fmt.Sprintf("not run to its end: interrupted (%v); it saw: %s: %s", context.Cause(ctx), res.Verdict, res.Detail)}
		}
	}
	res.Duration = time.Since(start)
	return res
}

// diedDuring is res of a case that was running when the target was found gone; first says
// it is the case whose miss found it. A scenario that judges whether the server survives
// (robustness: "a probe is served after the resets") and found the death keeps its verdict,
// which is that very finding. Any other case — a catalogue case asked something else, and
// a scenario merely running alongside did not cause what it saw — is not run to its end, and
// named a suspect: its input may be what killed the server (the stop names them all).
func diedDuring(res Result, why string, first bool) Result {
	if first && (res.Category == spec.Robustness || res.Category == spec.Hygiene) && res.Verdict != spec.Skip {
		res.Detail += "; the target then stopped accepting connections"
		return res
	}
	return Result{Meta: res.Meta, Verdict: spec.Skip, Wire: res.Wire, Attempts: res.Attempts,
		Detail: fmt.Sprintf("not run to its end: a suspect, running when %s; it saw: %s: %s", why, res.Verdict, res.Detail)}
}

func (r *runner) runRetrying(ctx context.Context, c Case) Result {
	if ctx.Err() != nil {
		return Result{Meta: c.Meta, Verdict: spec.Skip, Detail: "not run: " + context.Cause(ctx).Error()}
	}
	if r.t == nil || r.t.Addr == "" {
		return Result{Meta: c.Meta, Verdict: spec.Fail, Detail: "no target address"}
	}
	if c.Run == nil {
		return Result{Meta: c.Meta, Verdict: spec.Fail, Detail: "case has no Run function (harness bug)"}
	}
	if why := r.unmet(ctx, c.Needs); why != "" {
		return Result{Meta: c.Meta, Verdict: spec.Skip, Detail: why}
	}
	if c.Baseline && r.base == nil {
		why := "no baseline was taken before the run (run the case through Check or ExecuteRun)"
		if r.baseErr != nil {
			why = "no baseline: " + r.baseErr.Error()
		}
		return Result{Meta: c.Meta, Verdict: spec.Skip, Detail: why}
	}
	env := r.env(r.opt.Timeout, r.opt.Window)
	res := safeRun(ctx, c, env)
	var attempts []Attempt
	for try := 1; try <= r.opt.Retries && retryable(res) && ctx.Err() == nil; try++ {
		if res.Silence >= env.Timeout {
			// The server never answered. If it answers another connection at once, it was
			// waiting, not slow: a longer wait would only repeat the silence, at twice the cost.
			if took, ok := r.answersPromptly(ctx, env); ok {
				res.Detail += fmt.Sprintf(" (not re-run: a GET %s on another connection was answered in %v, so the server was waiting, not slow; -timeout waits longer)",
					r.t.RootPath(), took.Round(time.Millisecond))
				break
			}
		}
		attempts = append(attempts, Attempt{WindowMS: env.Window.Milliseconds(), TimeoutMS: env.Timeout.Milliseconds(),
			Verdict: res.Verdict, Detail: res.Detail})
		env = r.env(env.Timeout*2, env.Window*4)
		res = safeRun(ctx, c, env)
		if res.Verdict != spec.Pass {
			res.Detail = fmt.Sprintf("%s (still so after %d re-run(s), window up to %s, timeout up to %s)",
				res.Detail, try, env.Window, env.Timeout)
		}
	}
	res.Attempts = attempts
	return res
}

// env is what a case gets, with these waits.
func (r *runner) env(timeout, window time.Duration) *Env {
	return &Env{Target: r.t, Timeout: timeout, Window: window, SlowBound: r.opt.SlowBound,
		Hygiene: r.opt.Hygiene.WithDefaults(), Baseline: r.base, stressSettle: r.opt.stressSettle}
}

// promptWithin is how soon a server must answer a control request for a silence of a whole
// response timeout to be believed at once: a fraction of the timeout, so that a loaded
// machine, which slows the control request too, still gets its re-runs.
func promptWithin(timeout time.Duration) time.Duration { return timeout / 10 }

// answersPromptly sends GET of the root path on a fresh connection and reports whether a
// response came within promptWithin(env.Timeout), and how long it took.
func (r *runner) answersPromptly(ctx context.Context, env *Env) (time.Duration, bool) {
	start := time.Now()
	limit := promptWithin(env.Timeout)
	ctx, cancel := context.WithTimeout(ctx, limit) // the connect too: a full backlog is not prompt
	defer cancel()
	req := "GET " + r.t.RootPath() + " HTTP/1.1\r\nHost: " + r.t.Addr + "\r\nConnection: close\r\n\r\n"
	resp, err := clients.RoundTrip(ctx, r.t.Addr, req, "GET", limit)
	if err != nil || resp.StatusCode >= 500 { // a 503 says the server is busy, not waiting
		return 0, false
	}
	took := time.Since(start)
	return took, took <= limit
}

func retryable(res Result) bool {
	return res.Timed && res.Verdict != spec.Pass && res.Verdict != spec.Skip
}

// goneAfter is how long a target must refuse every connection before it is believed gone:
// long enough for a server that restarts its listener, short enough to stop a run quickly.
const goneAfter = time.Second

// gone says why the target can no longer be tested — it refuses connections, and has done so
// for goneAfter — or "" while it accepts them (or cannot be told). It is asked after a miss,
// so a run against a target that died stops within about a second.
// waitForLook returns once no look at whether the target is gone is under way.
func (r *runner) waitForLook() {
	r.pollMu.Lock()
	//lint:ignore SA2001 the empty critical section is the point: it waits for a look to end
	r.pollMu.Unlock()
}

func (r *runner) gone(ctx context.Context, seenBy string) (why string, first bool) {
	r.pollMu.Lock()
	defer r.pollMu.Unlock()
	r.goneMu.Lock()
	why = r.goneAt
	r.goneMu.Unlock()
	if why != "" {
		return why, false
	}
	if ctx.Err() != nil {
		return "", false // interrupted by the caller, not by the target
	}
	deadline := time.Now().Add(goneAfter)
	var err error
	for {
		err = dialOnce(ctx, r.t.Addr)
		if !errors.Is(err, syscall.ECONNREFUSED) || ctx.Err() != nil {
			return "", false // accepting, or not a refusal (a full backlog, say): not gone
		}
		if time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return "", false
		case <-time.After(50 * time.Millisecond):
		}
	}
	why = fmt.Sprintf("the target stopped accepting connections (%v for %v)", err, goneAfter)
	if r.t.Exited != nil {
		if how := r.t.Exited(); how != "" {
			why += "; its process " + how
		}
	}
	r.runMu.Lock()
	var others []string
	for id := range r.running {
		if id != seenBy {
			others = append(others, id)
		}
	}
	r.runMu.Unlock()
	slices.Sort(others)
	why += "; first seen by " + seenBy
	if len(others) > 0 {
		why += fmt.Sprintf(", with %s running (suspects too)", strings.Join(others, ", "))
	}
	r.goneMu.Lock()
	r.goneAt = why
	r.goneMu.Unlock()
	return why, true
}

// dialOnce connects to addr and hangs up.
func dialOnce(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

// safeRun runs a case, turning a panic in it into a failing result rather than a crash.
func safeRun(ctx context.Context, c Case, env *Env) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			res = Result{Meta: c.Meta, Verdict: spec.Fail, Detail: fmt.Sprintf("case panicked (harness bug): %v", p)}
		}
	}()
	return c.Run(ctx, env)
}

// unmet says why the target cannot serve needs, or "" when it can.
func (r *runner) unmet(ctx context.Context, needs []spec.Need) string {
	for _, n := range needs {
		if err := r.caps.Has(ctx, n); err != nil {
			return fmt.Sprintf("needs %s; probe: %v", targets.NeedWords(n), err)
		}
	}
	return ""
}
