package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/targets"
)

// CheckOptions configure Check: how to run (Options), what to run and which failures are
// expected.
type CheckOptions struct {
	Options
	// Cases to choose from; nil means the whole Catalogue.
	Cases []Case
	// Run keeps only the cases selected by this pattern, as Select does ("" keeps all); the
	// hygiene checks of the whole run (Case.Baseline) are kept whatever it selects.
	Run string
	// Short leaves out every case that is not Anytime (but the hygiene checks of the whole
	// run): the quick profile for a pre-commit loop, without the scenarios whose cost is a
	// fixed wait or a flood.
	Short bool
	// AnyRoot runs the cases even when the root resource is not a 2xx (cases of the caller's
	// own that do not fetch it); otherwise that is an error wrapping ErrNotHTTP.
	AnyRoot bool
	// Splits, when on, adds for each selected catalogue case a "splits/<ID>" case that cuts
	// its request at every chosen byte (see SplitCases).
	Splits Splits
	// Quirks marks the failures it covers as expected (see Quirks.Apply).
	Quirks *Quirks
	// OnPlan, when set, is called with the selected cases once the target has been found to
	// answer HTTP, before any case runs (to size a progress display).
	OnPlan func(cases []Case)
	// Around, when set, runs each case: it calls run, which runs the case and returns its
	// result, or does not call it, and the case is left out of the report. The Go API runs
	// each case as a subtest this way.
	Around func(c Case, run func() Result)
}

// ErrNotHTTP is wrapped by the error of Check when the target answers no HTTP at all, or
// does not serve the resource the cases fetch with a 2xx (unless AnyRoot): judging it would
// only pile up failures.
var ErrNotHTTP = errors.New("the target does not answer HTTP")

// Check is one whole run against a target, the same for the CLI and the Go API: it selects
// the cases, probes the target once (an error, before any case, when it answers no HTTP or
// its root resource is not a 2xx), takes the hygiene baseline when a selected case judges
// against it (the target's PID known), runs the cases as ExecuteRun schedules them — the
// hygiene checks last, alone — and applies the quirks. The report says when the run stopped
// early (the target died, ctx ended); its TargetStderr is left to the caller, who reads it
// once the target has stopped.
func Check(ctx context.Context, t *targets.Target, opts CheckOptions) (*Report, error) {
	if t == nil || t.Addr == "" {
		return nil, errors.New("no target address")
	}
	all := opts.Cases
	if all == nil {
		all = Catalogue()
	}
	cases, err := Select(all, opts.Run)
	if err != nil {
		return nil, err
	}
	if opts.Short {
		cases = slices.DeleteFunc(cases, func(c Case) bool { return c.Schedule != Anytime })
	}
	if len(cases) == 0 {
		return nil, fmt.Errorf("the pattern %q selects no case", opts.Run)
	}
	// A splits run cuts each selected catalogue case's request at every chosen byte.
	cases = append(cases, SplitCases(cases, opts.Splits)...)
	// The checks judged against the run's baseline judge the whole run, whatever it was: they
	// are kept whatever the pattern and the profile select.
	for _, c := range all {
		if c.Baseline && !slices.ContainsFunc(cases, func(k Case) bool { return k.ID == c.ID }) {
			cases = append(cases, c)
		}
	}
	started := time.Now()
	opt := opts.Options.withDefaults()
	if opt.Capabilities == nil {
		opt.Capabilities = targets.NewCapabilities(t, opt.Timeout)
	}
	probe := opt.Capabilities.Probe(ctx)
	if ctx.Err() == nil {
		if !probe.Answers() {
			return nil, fmt.Errorf("%w: target %s: %s", ErrNotHTTP, t.Addr, probe.Root)
		}
		if !probe.Serves() && !opts.AnyRoot {
			// Nearly every case of the catalogue fetches this resource and wants a 2xx.
			return nil, fmt.Errorf("%w: target %s: %s", ErrNotHTTP, t.Addr, probe.Root)
		}
	}
	if opts.OnPlan != nil {
		opts.OnPlan(cases)
	}
	opt.around = opts.Around
	if opts.Quirks.Len() > 0 {
		// A fail a quirk covers is marked as it happens, so that a caller reporting results
		// one by one (the Go API's subtests, OnResult) sees it expected.
		opt.mark = opts.Quirks.mark
	}
	run := ExecuteRun(ctx, t, cases, opt)
	results := slices.DeleteFunc(run.Results, func(r Result) bool { return r.ID == "" }) // left out by Around
	results = append(results, opts.Quirks.Apply(results)...)
	report := NewReport(t, started, results)
	report.Probe = probe
	report.Stopped = run.Stopped
	if ctx.Err() != nil {
		report.Stopped = fmt.Sprintf("interrupted (%v)", context.Cause(ctx))
	}
	return report, nil
}

// mark sets res.Quirk when res fails and an entry covers it.
func (q *Quirks) mark(res *Result) {
	if res.Verdict != spec.Fail {
		return
	}
	if e, ok := q.match(res.ID); ok {
		res.Quirk = e.reason
	}
}
