package conformance

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/targets"
)

// Report is one finished run: what was tested, when, and every result in order.
type Report struct {
	Version  string
	Target   targets.Target
	Started  time.Time
	Duration time.Duration
	Results  []Result
	// TargetStderr is what a launched target wrote (its tail); shown in the text and HTML
	// reports, not in JSON (whose schema is fixed).
	TargetStderr string
	// Probe is what the opening capability probe found (nil when none ran); every report
	// shows it in its header, since it decides which cases could run.
	Probe *targets.Probed
	// Stopped, when not empty, says why the run ended before every case ran (the target
	// died, the user interrupted it): the cases not run are skips saying "not run", and every
	// report shows this first, so a partial report never reads as a complete one.
	Stopped string
}

// NewReport assembles a report. TargetStderr is left to the caller, who reads it once the
// target has stopped and said all it will say.
func NewReport(t *targets.Target, started time.Time, results []Result) *Report {
	r := &Report{Version: Version(), Started: started, Duration: time.Since(started), Results: results}
	if t != nil {
		r.Target = *t
	}
	return r
}

// Version is forkproof's version as recorded by the Go toolchain, "devel" for a local build.
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// Summary counts results by verdict.
type Summary struct {
	Pass  int `json:"pass"`
	Fail  int `json:"fail"`
	Warn  int `json:"warn"`
	Info  int `json:"info"`
	Skip  int `json:"skip"`
	Quirk int `json:"-"` // fails covered by a quirk (included in Fail)
}

// Summary counts the report's results by verdict.
func (r *Report) Summary() Summary {
	var s Summary
	for _, res := range r.Results {
		switch res.Verdict {
		case spec.Pass:
			s.Pass++
		case spec.Fail:
			s.Fail++
			if res.Quirk != "" {
				s.Quirk++
			}
		case spec.Warn:
			s.Warn++
		case spec.Info:
			s.Info++
		case spec.Skip:
			s.Skip++
		}
	}
	return s
}

// ExitCode is 1 when any result fails without a quirk covering it, else 0.
func (r *Report) ExitCode() int {
	for _, res := range r.Results {
		if res.Verdict == spec.Fail && res.Quirk == "" {
			return 1
		}
	}
	return 0
}

// The JSON report, field for field as in PRODUCT.md, plus fields PRODUCT.md does not name:
// "quirk" on quirked results, and the case's requirement, acceptable outcomes and the RFC
// sentences (or policy) its grade rests on, so a report stands on its own (forkproof matrix
// renders reports without the catalogue that made them).
type jsonReport struct {
	Tool       string          `json:"tool"`
	Version    string          `json:"version"`
	Target     jsonTarget      `json:"target"`
	Started    string          `json:"started"`
	DurationMS int64           `json:"duration_ms"`
	Summary    Summary         `json:"summary"`
	Probe      *targets.Probed `json:"probe,omitempty"`
	Stopped    string          `json:"stopped,omitempty"`
	Results    []jsonResult    `json:"results"`
}

type jsonTarget struct {
	Addr string `json:"addr"`
	Cmd  string `json:"cmd"`
	PID  int    `json:"pid"`
}

type jsonResult struct {
	ID         string        `json:"id"`
	Category   spec.Category `json:"category"`
	Section    string        `json:"section"`
	Level      spec.Level    `json:"level"`
	Title      string        `json:"title"`
	Verdict    spec.Verdict  `json:"verdict"`
	Detail     string        `json:"detail"`
	DurationMS int64         `json:"duration_ms"`
	Wire       *Wire         `json:"wire,omitempty"`
	Quirk      string        `json:"quirk,omitempty"`

	Requirement string          `json:"requirement,omitempty"`
	Outcomes    []string        `json:"outcomes,omitempty"`
	Sentences   []spec.Sentence `json:"sentences,omitempty"`
	Policy      string          `json:"policy,omitempty"`
	Attempts    []Attempt       `json:"attempts,omitempty"`
}

// WriteJSON writes the report in the JSON schema of PRODUCT.md.
func (r *Report) WriteJSON(w io.Writer) error {
	out := jsonReport{
		Tool:       "forkproof",
		Version:    r.Version,
		Target:     jsonTarget{Addr: r.Target.Addr, Cmd: r.Target.Cmd, PID: r.Target.PID},
		Started:    r.Started.Format(time.RFC3339),
		DurationMS: r.Duration.Milliseconds(),
		Summary:    r.Summary(),
		Probe:      r.Probe,
		Stopped:    r.Stopped,
		Results:    make([]jsonResult, 0, len(r.Results)),
	}
	for _, res := range r.Results {
		out.Results = append(out.Results, jsonResult{
			ID: res.ID, Category: res.Category, Section: res.Section, Level: res.Level,
			Title: res.Title, Verdict: res.Verdict, Detail: res.Detail,
			DurationMS: res.Duration.Milliseconds(), Wire: res.Wire, Quirk: res.Quirk,
			Requirement: res.Requirement, Outcomes: res.Outcomes, Sentences: res.Sentences, Policy: res.Policy,
			Attempts: res.Attempts,
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// ReadJSON reads back a report WriteJSON wrote (by this version or an older one: fields it
// lacks stay empty). The summary is recomputed from the results; the target's stderr, which
// JSON does not carry, is empty.
func ReadJSON(rd io.Reader) (*Report, error) {
	var in jsonReport
	if err := json.NewDecoder(rd).Decode(&in); err != nil {
		return nil, fmt.Errorf("not a forkproof JSON report: %v", err)
	}
	if in.Tool != "forkproof" {
		return nil, fmt.Errorf("not a forkproof JSON report: tool %q; want \"forkproof\"", in.Tool)
	}
	r := &Report{
		Version:  in.Version,
		Target:   targets.Target{Addr: in.Target.Addr, Cmd: in.Target.Cmd, PID: in.Target.PID},
		Duration: time.Duration(in.DurationMS) * time.Millisecond,
		Probe:    in.Probe,
		Stopped:  in.Stopped,
		Results:  make([]Result, 0, len(in.Results)),
	}
	if in.Started != "" {
		t, err := time.Parse(time.RFC3339, in.Started)
		if err != nil {
			return nil, fmt.Errorf("report start time: %v", err)
		}
		r.Started = t
	}
	for _, jr := range in.Results {
		r.Results = append(r.Results, Result{
			Meta: spec.Meta{ID: jr.ID, Category: jr.Category, Section: jr.Section, Level: jr.Level,
				Title: jr.Title, Requirement: jr.Requirement, Outcomes: jr.Outcomes,
				Sentences: jr.Sentences, Policy: jr.Policy},
			Verdict: jr.Verdict, Detail: jr.Detail, Duration: time.Duration(jr.DurationMS) * time.Millisecond,
			Wire: jr.Wire, Quirk: jr.Quirk, Attempts: jr.Attempts,
		})
	}
	return r, nil
}

// Grounds are the lines that say what a result's grade rests on: each RFC sentence
// ("RFC 9112 §6.1 MUST: “…”"), or the policy applied ("policy: …"). Reports print them under
// every fail and warn, so a reader can judge the verdict by its sentence.
func Grounds(m spec.Meta) []string {
	var lines []string
	for _, s := range m.Sentences {
		lines = append(lines, s.Ref+" "+string(s.Keyword)+": \u201c"+s.Text+"\u201d")
	}
	if m.Policy != "" {
		lines = append(lines, "policy: "+m.Policy)
	}
	return lines
}

// TextOptions tunes the text report.
type TextOptions struct {
	Color bool // ANSI colours (use IsTerminal)
	// Verbose lists every case (passes and skips are otherwise counted on one line each), gives
	// the details of every case that did not pass, and the target's stderr even when all passed.
	Verbose bool
}

// IsTerminal reports whether f is a terminal (and NO_COLOR is unset): colour only then.
func IsTerminal(f *os.File) bool {
	return os.Getenv("NO_COLOR") == "" && IsTTY(f)
}

// IsTTY reports whether f is a terminal that can redraw a line (not TERM=dumb), whatever
// NO_COLOR says: the live progress line has no colour.
func IsTTY(f *os.File) bool {
	if os.Getenv("TERM") == "dumb" {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// verdictColor is the ANSI colour of a verdict (a switch, not a map: no init work).
func verdictColor(v spec.Verdict) string {
	switch v {
	case spec.Pass:
		return "\x1b[32m"
	case spec.Fail:
		return "\x1b[31m"
	case spec.Warn:
		return "\x1b[33m"
	case spec.Info:
		return "\x1b[36m"
	case spec.Skip:
		return "\x1b[90m"
	}
	return ""
}

// VerdictLabel is how a result's verdict reads in reports: "fail (quirk: reason)" for a
// known deviation.
func VerdictLabel(res Result) string {
	if res.Quirk != "" {
		return fmt.Sprintf("%s (quirk: %s)", res.Verdict, res.Quirk)
	}
	return string(res.Verdict)
}

// readingRank is where a result stands in a report a person reads: fails first, then warns
// and quirks (expected fails), then info, then passes, then skips.
func readingRank(res Result) int {
	switch {
	case res.Verdict == spec.Fail && res.Quirk == "":
		return 0
	case res.Verdict == spec.Warn, res.Verdict == spec.Fail:
		return 1
	case res.Verdict == spec.Pass:
		return 3
	case res.Verdict == spec.Skip:
		return 4
	}
	return 2 // info, and any verdict this version does not know
}

// readingOrder is the results in reading order (readingRank), each rank in catalogue order.
func readingOrder(results []Result) []Result {
	out := make([]Result, 0, len(results))
	for rank := 0; rank <= 4; rank++ {
		for _, res := range results {
			if readingRank(res) == rank {
				out = append(out, res)
			}
		}
	}
	return out
}

// notRun is the reason clause of the skips a stopped run never ran.
const notRun = "not run"

// reasonClause is the first clause of a skip's reason ("needs an echo endpoint" of "needs an
// echo endpoint (POST /echo returns the body); probe: …"): what skips are counted by.
func reasonClause(detail string) string {
	c := detail
	for _, sep := range []string{":", ";", " (", ", "} {
		if i := strings.Index(c, sep); i >= 0 {
			c = c[:i]
		}
	}
	c = strings.TrimSpace(c)
	if c == "" {
		return "no reason given"
	}
	if r := []rune(c); len(r) > 60 {
		c = string(r[:59]) + "…"
	}
	return c
}

// skipReasons counts skips by reason clause, most common first ("not run" always first, so a
// stopped run's unrun cases are named), at most max reasons named (0: all) and the rest
// counted as "other": "66 not judged, 49 needs an echo endpoint, 25 other".
func skipReasons(skips []Result, max int) string {
	count := map[string]int{}
	var order []string
	for _, res := range skips {
		c := reasonClause(res.Detail)
		if count[c] == 0 {
			order = append(order, c)
		}
		count[c]++
	}
	sort.SliceStable(order, func(i, j int) bool {
		if (order[i] == notRun) != (order[j] == notRun) {
			return order[i] == notRun
		}
		return count[order[i]] > count[order[j]]
	})
	var parts []string
	other := 0
	for i, c := range order {
		if max > 0 && i >= max && len(order) > max+1 {
			other += count[c]
			continue
		}
		parts = append(parts, fmt.Sprintf("%d %s", count[c], c))
	}
	if other > 0 {
		parts = append(parts, fmt.Sprintf("%d other", other))
	}
	return strings.Join(parts, ", ")
}

// cases is "1 case" or "n cases".
func cases(n int) string {
	if n == 1 {
		return "1 case"
	}
	return fmt.Sprintf("%d cases", n)
}

// StoppedBanner is the line every report shows when the run stopped early.
func (r *Report) StoppedBanner() string {
	return "STOPPED EARLY: " + r.Stopped + " \u2014 the cases not run are listed as skips"
}

// AttemptLine is how an earlier run of a re-run case reads in reports.
func AttemptLine(a Attempt) string {
	line := fmt.Sprintf("earlier run (window %v, timeout %v): %s", time.Duration(a.WindowMS)*time.Millisecond,
		time.Duration(a.TimeoutMS)*time.Millisecond, a.Verdict)
	if a.Detail != "" {
		line += " \u2014 " + a.Detail
	}
	return line
}

// WriteText writes a report for a person to read: a banner when the run stopped early; the
// probe; one line per fail, then per warn and quirk, then per info (verdict, ID, title), with
// passes and skips counted on one line each (listed too when Verbose); the details of every
// fail and warn (acceptable outcomes, what happened, earlier runs, the wire transcript) in the
// same order; the target's stderr; the banner again; a summary.
func (r *Report) WriteText(w io.Writer, opts TextOptions) error {
	ew := &errWriter{w: w}
	paint := func(v spec.Verdict, s string) string {
		if !opts.Color {
			return s
		}
		return verdictColor(v) + s + "\x1b[0m"
	}
	if r.Stopped != "" {
		ew.printf("%s\n\n", paint(spec.Fail, r.StoppedBanner()))
	}
	if r.Probe != nil {
		ew.printf("%s", r.Probe.Header())
	}
	ordered := readingOrder(r.Results)
	var passes, skips []Result
	for _, res := range ordered {
		switch {
		case !opts.Verbose && res.Verdict == spec.Pass:
			passes = append(passes, res)
		case !opts.Verbose && res.Verdict == spec.Skip:
			skips = append(skips, res)
		default:
			label := strings.ToUpper(string(res.Verdict))
			if res.Quirk != "" {
				label = "QUIRK"
			}
			ew.printf("%s  %-28s %s\n", paint(res.Verdict, fmt.Sprintf("%-5s", label)), res.ID, res.Title)
		}
	}
	if len(passes) > 0 {
		ew.printf("%s  %s (-v lists them)\n", paint(spec.Pass, "PASS "), cases(len(passes)))
	}
	if len(skips) > 0 {
		ew.printf("%s  %s: %s\n", paint(spec.Skip, "SKIP "), cases(len(skips)), skipReasons(skips, 3))
	}
	var details []Result
	for _, res := range ordered {
		if res.Verdict == spec.Fail || res.Verdict == spec.Warn || (opts.Verbose && res.Verdict != spec.Pass) {
			details = append(details, res)
		}
	}
	if len(details) > 0 {
		ew.printf("\n")
	}
	for _, res := range details {
		ew.printf("--- %s %s: %s\n", paint(res.Verdict, VerdictLabel(res)), res.ID, res.Title)
		if where := strings.TrimPrefix(res.Section+", "+string(res.Level), ", "); where != "" {
			ew.printf("    %s\n", strings.TrimSuffix(where, ", "))
		}
		if res.Requirement != "" {
			ew.printf("    requirement: %s\n", res.Requirement)
		}
		if g := Grounds(res.Meta); len(g) > 0 {
			ew.printf("    rests on:\n")
			for _, line := range g {
				ew.printf("      %s\n", line)
			}
		}
		if len(res.Outcomes) > 0 {
			ew.printf("    acceptable:\n")
			for _, o := range res.Outcomes {
				ew.printf("      - %s\n", o)
			}
		}
		if res.Detail != "" || len(res.Attempts) > 0 {
			ew.printf("    actual: %s\n", res.Detail)
			for _, a := range res.Attempts {
				ew.printf("      %s\n", AttemptLine(a))
			}
		}
		if res.Wire != nil {
			ew.printf("    sent:     %s\n    received: %s\n", res.Wire.Sent, res.Wire.Received)
		}
	}
	if r.TargetStderr != "" && (opts.Verbose || r.ExitCode() != 0) {
		ew.printf("\ntarget stderr (%s):\n%s", r.Target.Cmd, indent(tail(r.TargetStderr, 40), "  "))
	}
	ew.printf("\n")
	if r.Stopped != "" {
		ew.printf("%s\n", paint(spec.Fail, r.StoppedBanner()))
	}
	s := r.Summary()
	quirk := ""
	if s.Quirk > 0 {
		quirk = fmt.Sprintf(" (%d quirk)", s.Quirk)
	}
	ew.printf("%d cases against %s: %d pass, %s%s, %d warn, %d info, %d skip in %v\n",
		len(r.Results), r.Target.Addr, s.Pass, paint(spec.Fail, fmt.Sprintf("%d fail", s.Fail)), quirk,
		s.Warn, s.Info, s.Skip, r.Duration.Round(time.Millisecond))
	return ew.err
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// tail keeps the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[… %d earlier lines]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n") + "\n"
}

func indent(s, pre string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(pre + l)
		}
	}
	return b.String()
}
