package conformance

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/forkproof/forkproof/spec"
)

// Options tune Execute. Zero fields take the defaults.
type Options struct {
	Parallel int           // cases at once; default 8 (cases mostly wait on the network)
	Timeout  time.Duration // per response wait; default 5s
	Window   time.Duration // how long "the server stays silent/open" is observed; default 250ms
	Retries  int           // re-runs of a timing-sensitive miss, window ×4 each; default 2, <0 none
	// SlowBound is how long a slow client may be held before the server is said to wait too
	// long; default 15s (the reference server cuts slow clients off after 10s by default). Servers
	// that hold slow clients longer warn unless it is raised.
	SlowBound time.Duration
	OnResult  func(Result) // called as each case finishes, one call at a time (progress output)
	// Capabilities, when set, are the target's probed capabilities, shared with the caller
	// (who shows them in the report header); nil probes afresh, lazily.
	Capabilities *Capabilities
}

// Defaults of Options.
const (
	DefaultParallel  = 8
	DefaultTimeout   = 5 * time.Second
	DefaultWindow    = 250 * time.Millisecond
	DefaultRetries   = 2
	DefaultSlowBound = 15 * time.Second
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

var registry struct {
	sync.Mutex
	cases []Case
}

// Register adds scenarios written in Go (robustness, hygiene) to Catalogue. Call it from init.
func Register(cs ...Case) {
	registry.Lock()
	defer registry.Unlock()
	registry.cases = append(registry.cases, cs...)
}

// Catalogue returns every case: the compiled spec catalogue, the robustness and hygiene
// scenarios, then the registered scenarios in registration order.
func Catalogue() []Case {
	var all []Case
	for _, c := range spec.Catalogue() {
		all = append(all, Compile(c))
	}
	all = append(all, robustCases()...)
	registry.Lock()
	defer registry.Unlock()
	return append(all, registry.cases...)
}

// Execute runs cases against the target, Parallel at a time, and returns one result per case
// in case order. A case the target cannot serve (no PID, no echo or reflect endpoint, found
// by probing the target once) is skipped, saying why. A non-pass verdict resting on a timed
// observation is re-run with the window ×4 and the timeout ×2, up to Retries times, before it
// is believed. Cases not started when ctx ends are skipped.
func Execute(ctx context.Context, t *Target, cases []Case, opt Options) []Result {
	opt = opt.withDefaults()
	r := newRunner(t, opt)
	results := make([]Result, len(cases))
	var mu sync.Mutex
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(opt.Parallel, len(cases)) {
		wg.Go(func() {
			for i := range jobs {
				res := r.run(ctx, cases[i])
				results[i] = res
				if opt.OnResult != nil {
					mu.Lock()
					opt.OnResult(res)
					mu.Unlock()
				}
			}
		})
	}
	for i := range cases {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return results
}

// runner runs single cases against one target, sharing the probes of what it serves.
type runner struct {
	t   *Target
	opt Options

	caps *Capabilities
}

func newRunner(t *Target, opt Options) *runner {
	caps := opt.Capabilities
	if caps == nil {
		caps = NewCapabilities(t, opt.Timeout)
	}
	return &runner{t: t, opt: opt, caps: caps}
}

// run runs one case with its needs checked, retries applied and its Result completed.
func (r *runner) run(ctx context.Context, c Case) Result {
	start := time.Now()
	res := r.runRetrying(ctx, c)
	if res.ID == "" {
		res.Meta = c.Meta
	}
	if res.Verdict == "" {
		res.Verdict, res.Detail = spec.Fail, "case returned no verdict (harness bug)"
	}
	res.Duration = time.Since(start)
	return res
}

func (r *runner) runRetrying(ctx context.Context, c Case) Result {
	if err := ctx.Err(); err != nil {
		return Result{Meta: c.Meta, Verdict: spec.Skip, Detail: "not run: " + err.Error()}
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
	env := &Env{Target: r.t, Timeout: r.opt.Timeout, Window: r.opt.Window, SlowBound: r.opt.SlowBound}
	res := safeRun(ctx, c, env)
	for try := 1; try <= r.opt.Retries && retryable(res) && ctx.Err() == nil; try++ {
		env = &Env{Target: r.t, Timeout: env.Timeout * 2, Window: env.Window * 4, SlowBound: env.SlowBound}
		res = safeRun(ctx, c, env)
		if res.Verdict != spec.Pass {
			res.Detail = fmt.Sprintf("%s (still so after %d re-run(s), window up to %s, timeout up to %s)",
				res.Detail, try, env.Window, env.Timeout)
		}
	}
	return res
}

func retryable(res Result) bool {
	return res.Timed && res.Verdict != spec.Pass && res.Verdict != spec.Skip
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
			return fmt.Sprintf("needs %s; probe: %v", needWords(n), err)
		}
	}
	return ""
}
