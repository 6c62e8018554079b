package conformance

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/forkproof/forkproof/spec"
)

// Expectations are what a server of the interop matrix is known to do: for every case that does
// not pass, its verdict and a one-line reason naming the RFC section. A case not listed must pass
// (or be info). ci/interop.sh compares every run with them, so a change of any verdict on any of
// the servers — a case made stricter, blinder or flaky — is seen.

// Expectation is one line of an expect file: "ID verdict reason…".
type Expectation struct {
	ID      string
	Verdict spec.Verdict // fail, warn or skip
	Reason  string
}

// Expectations are an expect file's lines in order.
type Expectations []Expectation

// ParseExpectations reads an expect file: one "ID verdict reason" per line, blank lines and
// lines starting with # ignored. Only fail, warn and skip are listed (pass and info are what
// an unlisted case must be); an ID listed twice is an error.
func ParseExpectations(r io.Reader) (Expectations, error) {
	var out Expectations
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			return nil, fmt.Errorf("line %d: %q: want \"ID verdict reason\"", n, line)
		}
		v := spec.Verdict(f[1])
		if v != spec.Fail && v != spec.Warn && v != spec.Skip {
			return nil, fmt.Errorf("line %d: %s: verdict %q; want fail, warn or skip (an unlisted case must pass or be info)", n, f[0], f[1])
		}
		if first, dup := seen[f[0]]; dup {
			return nil, fmt.Errorf("line %d: %s listed again (first on line %d)", n, f[0], first)
		}
		seen[f[0]] = n
		rest := strings.TrimSpace(line[len(f[0]):]) // starts with the verdict
		reason := strings.TrimSpace(rest[len(f[1]):])
		out = append(out, Expectation{ID: f[0], Verdict: v, Reason: reason})
	}
	return out, sc.Err()
}

// Write writes the expectations after header (each header line becomes a # comment), the
// verdicts aligned.
func (e Expectations) Write(w io.Writer, header string) error {
	ew := &errWriter{w: w}
	for _, l := range strings.Split(strings.TrimRight(header, "\n"), "\n") {
		ew.printf("# %s\n", l)
	}
	width := 0
	for _, x := range e {
		width = max(width, len(x.ID))
	}
	for _, x := range e {
		ew.printf("%-*s %-4s %s\n", width, x.ID, x.Verdict, x.Reason)
	}
	return ew.err
}

// Difference is a verdict the expectations do not allow.
type Difference struct {
	ID   string
	Got  spec.Verdict // "" when no run has the case
	Want spec.Verdict // "" when the case is not listed: it must pass or be info
	// Result is the latest result of the case (nil when there is none).
	Result *Result
	// Reason is the expectation's reason, when listed.
	Reason string
}

func (d Difference) String() string {
	want := string(d.Want)
	if want == "" {
		want = "pass or info (not listed)"
	}
	got := string(d.Got)
	if d.Result == nil {
		got = "no result (the case was not run or no longer exists)"
	} else if d.Result.Detail != "" {
		got += ": " + d.Result.Detail
	}
	s := fmt.Sprintf("%s: got %s; want %s", d.ID, got, want)
	if d.Reason != "" {
		s += " (" + d.Reason + ")"
	}
	return s
}

// allowed reports whether verdict v is what expectation want (empty: not listed) allows.
func allowed(v, want spec.Verdict) bool {
	if want == "" {
		return v == spec.Pass || v == spec.Info
	}
	return v == want
}

// Compare judges runs against the expectations. runs[0] is the whole run; each later run is a
// re-run of the cases that still differed (a busy machine can turn a timed verdict): a
// difference is real only when it shows in the whole run and in every re-run that has the case.
// Results of a re-run for cases that did not differ (the hygiene checks every run ends with)
// are ignored. The differences come in the whole run's order, cases it lacks last.
func (e Expectations) Compare(runs ...*Report) []Difference {
	want := map[string]Expectation{}
	for _, x := range e {
		want[x.ID] = x
	}
	var order []string
	open := map[string]*Difference{}
	if len(runs) > 0 {
		for i := range runs[0].Results {
			res := &runs[0].Results[i]
			x := want[res.ID]
			if !allowed(res.Verdict, x.Verdict) {
				order = append(order, res.ID)
				open[res.ID] = &Difference{ID: res.ID, Got: res.Verdict, Want: x.Verdict, Result: res, Reason: x.Reason}
			}
		}
		ran := map[string]bool{}
		for _, res := range runs[0].Results {
			ran[res.ID] = true
		}
		for _, x := range e {
			if !ran[x.ID] {
				order = append(order, x.ID)
				open[x.ID] = &Difference{ID: x.ID, Want: x.Verdict, Reason: x.Reason}
			}
		}
	}
	for _, rerun := range runs[min(1, len(runs)):] {
		for i := range rerun.Results {
			res := &rerun.Results[i]
			d, ok := open[res.ID]
			if !ok {
				continue
			}
			if allowed(res.Verdict, d.Want) {
				delete(open, res.ID)
				continue
			}
			d.Got, d.Result = res.Verdict, res
		}
	}
	var out []Difference
	for _, id := range order {
		if d, ok := open[id]; ok {
			out = append(out, *d)
		}
	}
	return out
}

// RetryPattern is the -run pattern that selects the cases of diffs a re-run can judge (those
// with a result: a case no run has cannot be re-run), "" when there are none.
func RetryPattern(diffs []Difference) string {
	var ids []string
	for _, d := range diffs {
		if d.Result != nil {
			ids = append(ids, regexp.QuoteMeta(d.ID))
		}
	}
	if len(ids) == 0 {
		return ""
	}
	sort.Strings(ids)
	return "^(" + strings.Join(ids, "|") + ")$"
}

// Update returns the expectations the runs show (runs as for Compare: a re-run's verdict
// replaces the whole run's for the cases that differed), in the whole run's order. A line whose
// verdict is unchanged keeps its reason; a changed or new line gets a reason starting with TODO
// for a person to replace: a draft naming the section, the level and what happened. Skips need
// no person: their reason is the missing capability the run names.
func (e Expectations) Update(runs ...*Report) Expectations {
	if len(runs) == 0 {
		return nil
	}
	old := map[string]Expectation{}
	for _, x := range e {
		old[x.ID] = x
	}
	merged := e.Merge(runs...)
	var out Expectations
	for i := range merged.Results {
		res := &merged.Results[i]
		if res.Verdict == spec.Pass || res.Verdict == spec.Info {
			continue
		}
		x := Expectation{ID: res.ID, Verdict: res.Verdict}
		prev, had := old[res.ID]
		switch {
		case had && prev.Verdict == res.Verdict && prev.Reason != "":
			x.Reason = prev.Reason
		case res.Verdict == spec.Skip:
			x.Reason = draftReason(res)
		case had:
			x.Reason = fmt.Sprintf("TODO (was %s: %s) %s", prev.Verdict, prev.Reason, draftReason(res))
		default:
			x.Reason = "TODO " + draftReason(res)
		}
		out = append(out, x)
	}
	return out
}

// Merge is the whole run (runs[0]) with, for each case that differed from the expectations,
// the result of its latest re-run: what the server does once timing noise is set aside, for
// Update and for the published matrix.
func (e Expectations) Merge(runs ...*Report) *Report {
	merged := *runs[0]
	merged.Results = append([]Result(nil), runs[0].Results...)
	at := map[string]int{}
	for i, res := range merged.Results {
		at[res.ID] = i
	}
	for _, d := range e.Compare(runs[0]) {
		i, ok := at[d.ID]
		if !ok {
			continue
		}
		for _, rerun := range runs[1:] {
			for _, res := range rerun.Results {
				if res.ID == d.ID {
					merged.Results[i] = res
				}
			}
		}
	}
	return &merged
}

// draftReason is a one-line reason made from a result: its section (or category), its level,
// what happened; a conformance fail without a MUST behind it says so (no expected fail may
// stand without one).
func draftReason(res *Result) string {
	s := groupName(res.Meta) // its section, or its category
	if res.Verdict != spec.Skip && res.Level != "" {
		s += " " + string(res.Level)
	}
	if res.Verdict == spec.Fail && res.Category == spec.Conformance && res.Level != spec.MUST {
		s += " (a fail without a MUST sentence: check the case)"
	}
	detail := strings.Join(strings.Fields(res.Detail), " ")
	if len(detail) > 160 {
		i := 160
		for i > 0 && !utf8.RuneStart(detail[i]) {
			i-- // cut between runes, not inside one
		}
		detail = detail[:i] + "…"
	}
	if detail != "" {
		s += ": " + detail
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
