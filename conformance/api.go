package conformance

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/forkproof/forkproof/spec"
)

// Option configures Run.
type Option func(*config)

type config struct {
	opt   Options
	run   string
	cases []Case
	set   bool // cases given explicitly (even if empty)
}

// WithParallel runs n cases at once (default 8).
func WithParallel(n int) Option { return func(c *config) { c.opt.Parallel = n } }

// WithTimeout bounds each wait for a response (default 5s).
func WithTimeout(d time.Duration) Option { return func(c *config) { c.opt.Timeout = d } }

// WithWindow sets how long "the server stays silent/open" is observed (default 250ms).
func WithWindow(d time.Duration) Option { return func(c *config) { c.opt.Window = d } }

// WithRetries sets how many times a timing-sensitive miss is re-run (default 2; negative: none).
func WithRetries(n int) Option { return func(c *config) { c.opt.Retries = n } }

// WithSlowBound sets how long a slow client may be held before the server is said to wait
// too long (default 6s).
func WithSlowBound(d time.Duration) Option { return func(c *config) { c.opt.SlowBound = d } }

// WithRun keeps only the cases selected by pattern, as Select does. Selecting with
// `go test -run 'TestConformance/rfc9112/6.1'` works as well, since subtests are named by ID.
func WithRun(pattern string) Option { return func(c *config) { c.run = pattern } }

// WithCases runs these cases instead of the whole Catalogue.
func WithCases(cs ...Case) Option {
	return func(c *config) { c.cases, c.set = cs, true }
}

// Run runs every case against target as a subtest named by the case ID, in the spirit of
// nettest.TestConn and fstest.TestFS:
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, &conformance.Target{Addr: addr})
//	}
//
// A fail is t.Errorf with the detail and the wire transcript (each side cut at 2 KiB); warn
// and info are logged on one line each, without transcripts; skip is t.Skip. Subtests run concurrently, WithParallel at a time, scheduled as Execute schedules
// them; they are started from a pool of goroutines rather than with t.Parallel, so the bound is
// ours and not go test's -parallel (which defaults to GOMAXPROCS, far too few for cases that
// mostly wait on the network). A target that stops accepting connections midway stops the run
// with one error.
func Run(t *testing.T, target *Target, opts ...Option) {
	t.Helper()
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if target == nil || target.Addr == "" {
		t.Fatal("conformance.Run: no target address")
	}
	cases := cfg.cases
	if !cfg.set {
		cases = Catalogue()
	}
	cases, err := Select(cases, cfg.run)
	if err != nil {
		t.Fatalf("conformance.Run: %v", err)
	}
	if len(cases) == 0 {
		t.Fatalf("conformance.Run: no case selected (pattern %q)", cfg.run)
	}
	opt := cfg.opt.withDefaults()
	ctx := t.Context()
	// A target that answers no HTTP at all fails once, not once per case.
	opt.Capabilities = NewCapabilities(target, opt.Timeout)
	if p := opt.Capabilities.Root(ctx); !p.Answers() && ctx.Err() == nil {
		t.Fatalf("conformance.Run: target %s does not answer HTTP: %s", target.Addr, p.Root)
	}
	r := newRunner(target, opt)
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	r.stop = stop
	schedule(cases, opt.Parallel, maxSlots(target, opt.Parallel), opt.Window/5, func(i int) {
		c := cases[i]
		t.Run(c.ID, func(t *testing.T) { report(t, r.run(ctx, c)) })
	})
	if why := r.goneAt; why != "" { // every case has returned: no lock needed
		t.Errorf("conformance.Run: stopped early, the cases not run are skipped: %s", why)
	}
}

// report turns one result into the subtest's outcome.
func report(t *testing.T, res Result) {
	t.Helper()
	switch res.Verdict {
	case spec.Pass:
		if res.Detail != "" {
			t.Log(res.Detail)
		}
	case spec.Skip:
		t.Skip(res.Detail)
	case spec.Warn, spec.Info:
		// One line: a passing test run against a real server warns on dozens of cases, and
		// their transcripts would bury the failures (the CLI's -json keeps them all).
		t.Logf("%s: %s: %s", res.Verdict, res.Title, res.Detail)
	default:
		t.Errorf("%s: %s\n%s", res.Verdict, describe(res), transcript(res.Wire))
	}
}

func describe(res Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", res.Title)
	if res.Section != "" || res.Level != "" {
		fmt.Fprintf(&b, " (%s", res.Section)
		if res.Section != "" && res.Level != "" {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s)", res.Level)
	}
	if res.Requirement != "" {
		fmt.Fprintf(&b, "\nrequirement: %s", res.Requirement)
	}
	fmt.Fprintf(&b, "\n%s", res.Detail)
	return b.String()
}

// transcriptMax bounds each side of a transcript in a test log; the CLI's -json report keeps
// them whole.
const transcriptMax = 2048

func transcript(w *Wire) string {
	if w == nil {
		return ""
	}
	return fmt.Sprintf("sent:     %s\nreceived: %s", clip(w.Sent), clip(w.Received))
}

// clip cuts s to transcriptMax bytes (at a rune boundary), saying how much was left out.
func clip(s string) string {
	if len(s) <= transcriptMax {
		return s
	}
	cut := transcriptMax
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d more bytes; forkproof check -json keeps them)", s[:cut], len(s)-cut)
}
