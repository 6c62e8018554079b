package conformance

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/forkproof/forkproof/hygiene"
	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/targets"
)

// Option configures Run.
type Option func(*config)

type config struct {
	opt CheckOptions
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
func WithRun(pattern string) Option { return func(c *config) { c.opt.Run = pattern } }

// WithCases runs these cases instead of the whole Catalogue, even when the target's root
// resource is not a 2xx.
func WithCases(cs ...Case) Option {
	return func(c *config) {
		c.opt.Cases, c.opt.AnyRoot = cs, true // the caller's cases may not fetch the root
		if c.opt.Cases == nil {
			c.opt.Cases = []Case{} // none given is none, not the whole Catalogue
		}
	}
}

// WithQuirks marks the failures the quirks cover as expected: logged, not failed; a quirk
// that matched cases none of which failed is logged as stale.
func WithQuirks(q *Quirks) Option { return func(c *config) { c.opt.Quirks = q } }

// WithShort leaves out the scenarios whose cost is a fixed wait or a flood, as check -short.
func WithShort() Option { return func(c *config) { c.opt.Short = true } }

// WithHygiene tunes the hygiene checks (fd tolerance, settle period), run when the target's
// PID is known.
func WithHygiene(h hygiene.Options) Option { return func(c *config) { c.opt.Hygiene = h } }

// Run runs a whole check against target, as forkproof check does (see Check), each case a
// subtest named by its ID, in the spirit of nettest.TestConn and fstest.TestFS:
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, &targets.Target{Addr: addr, PID: pid})
//	}
//
// With the target's PID the hygiene checks run too (zombies, fd leaks, lingering children),
// last. A fail is t.Errorf with the detail and the wire transcript (each side cut at 2 KiB);
// a fail a quirk covers (WithQuirks), warn and info are logged on one line each, without
// transcripts; skip is t.Skip. With go test -artifacts the whole report, transcripts
// uncut, is written as JSON into the test's artifact directory. Subtests run concurrently,
// WithParallel at a time, scheduled as ExecuteRun schedules them; they are started from a
// pool of goroutines rather than with t.Parallel, so the bound is ours and not go test's
// -parallel (which defaults to GOMAXPROCS, far too few for cases that mostly wait on the
// network). A target that answers no HTTP fails once; one that stops accepting connections
// midway stops the run with one error.
func Run(t *testing.T, target *targets.Target, opts ...Option) {
	t.Helper()
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if target == nil || target.Addr == "" {
		t.Fatal("conformance.Run: no target address")
	}
	cfg.opt.Around = func(c Case, run func() Result) {
		t.Run(c.ID, func(t *testing.T) { report(t, run()) })
	}
	rep, err := Check(t.Context(), target, cfg.opt)
	if err != nil {
		t.Fatalf("conformance.Run: %v", err)
	}
	for _, res := range rep.Results {
		if strings.HasPrefix(res.ID, "quirk/") {
			t.Logf("%s: %s: %s", res.Verdict, res.Title, res.Detail)
		}
	}
	if rep.Stopped != "" {
		t.Errorf("conformance.Run: stopped early, the cases not run are skipped: %s", rep.Stopped)
	}
	writeArtifact(t, rep)
}

// writeArtifact writes the whole report as JSON into the test's artifact directory when go
// test was given -artifacts (without it the directory is a temporary one, removed at once).
func writeArtifact(t *testing.T, rep *Report) {
	t.Helper()
	if f := flag.Lookup("test.artifacts"); f == nil || f.Value.String() != "true" {
		return
	}
	path := filepath.Join(t.ArtifactDir(), "forkproof-report.json")
	f, err := os.Create(path)
	if err == nil {
		err = rep.WriteJSON(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		t.Errorf("conformance.Run: writing the report artifact: %v", err)
		return
	}
	t.Logf("the whole report, transcripts uncut: %s", path)
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
		if res.Quirk != "" {
			t.Logf("%s (quirk: %s): %s: %s", res.Verdict, res.Quirk, res.Title, res.Detail)
			return
		}
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
