package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forkproof/forkproof/spec"
)

func res(id string, v spec.Verdict) Result {
	return Result{Meta: spec.Meta{ID: id, Category: spec.Conformance, Level: spec.MUST}, Verdict: v}
}

func TestQuirksApply(t *testing.T) {
	q, err := ParseQuirks(strings.NewReader(`
# known deviations of our server
rfc9112/6.1/2     we answer 501 to unknown codings on purpose
rfc9112/7/        chunk extensions are not parsed yet
rfc9112/7.1/3	  more specific reason wins
rfc9112/9         persistence is fine now
`), "q.txt")
	if err != nil {
		t.Fatal(err)
	}
	if q.Len() != 4 {
		t.Fatalf("Len = %d; want 4", q.Len())
	}
	results := []Result{
		res("rfc9112/6.1/2", spec.Fail),
		res("rfc9112/6.1/20", spec.Fail), // not covered: an ID is not a prefix of its neighbour
		res("rfc9112/7/1", spec.Fail),
		res("rfc9112/7.1/3", spec.Fail),
		res("rfc9112/9/1", spec.Pass),
		res("rfc9112/9/2", spec.Warn),
		res("rfc9112/7.1/2", spec.Fail), // a section prefix covers its subsections, as -run selects them
	}
	stale := q.Apply(results)
	wantQuirk := []string{"we answer 501 to unknown codings on purpose", "", "chunk extensions are not parsed yet", "more specific reason wins", "", "", "chunk extensions are not parsed yet"}
	for i, r := range results {
		if r.Quirk != wantQuirk[i] {
			t.Errorf("For %s, Quirk = %q; want %q", r.ID, r.Quirk, wantQuirk[i])
		}
		if r.Verdict != []spec.Verdict{spec.Fail, spec.Fail, spec.Fail, spec.Fail, spec.Pass, spec.Warn, spec.Fail}[i] {
			t.Errorf("For %s, Apply changed the verdict to %s", r.ID, r.Verdict)
		}
	}
	if len(stale) != 1 || stale[0].ID != "quirk/rfc9112/9" || stale[0].Verdict != spec.Info ||
		!strings.Contains(stale[0].Detail, "line 6") || !strings.Contains(stale[0].Detail, "2 case(s)") {
		t.Errorf("stale = %+v; want one info result for the rfc9112/9 entry on line 6", stale)
	}
	rep := &Report{Results: results}
	if got := rep.ExitCode(); got != 1 {
		t.Errorf("ExitCode = %d; want 1 (rfc9112/6.1/20 fails without a quirk)", got)
	}
	rep.Results = append(results[:1:1], results[2:]...)
	if got := rep.ExitCode(); got != 0 {
		t.Errorf("ExitCode with only quirked fails = %d; want 0", got)
	}
}

func TestQuirksBadFile(t *testing.T) {
	tests := []struct{ in, want string }{
		{"rfc9112/6.1/2\n", "q.txt:1: quirk \"rfc9112/6.1/2\" has no reason"},
		{"# c\n\nrfc9112/1 a\nrfc9112/1 b\n", "q.txt:4: quirk \"rfc9112/1\" already listed on line 3"},
		{"rfc9112/1\u00e9 reason\n", "q.txt:1: quirk ID"},
		{"/ reason\n", "q.txt:1: empty quirk ID"},
	}
	for _, tt := range tests {
		_, err := ParseQuirks(strings.NewReader(tt.in), "q.txt")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("For %q, ParseQuirks error = %v; want %q", tt.in, err, tt.want)
		}
	}
}

func TestLoadQuirks(t *testing.T) {
	p := filepath.Join(t.TempDir(), "quirks.txt")
	if err := os.WriteFile(p, []byte("hygiene/zombies  we never reap, on purpose\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	q, err := LoadQuirks(p)
	if err != nil || q.Len() != 1 {
		t.Fatalf("LoadQuirks = %v, %v", q, err)
	}
	if _, err := LoadQuirks(p + ".missing"); err == nil {
		t.Error("LoadQuirks of a missing file succeeded")
	}
	var none *Quirks
	if none.Len() != 0 || none.Apply([]Result{res("a/1", spec.Fail)}) != nil {
		t.Error("a nil Quirks is not empty")
	}
}

func TestQuirksUnmatched(t *testing.T) {
	q, err := ParseQuirks(strings.NewReader("rfc9112/6.1/2 known\n# comment\nrfc9112/99 a typo\nrfc9112/7 a group\nrfc9112/6.1/2x no such case\n"), "q.txt")
	if err != nil {
		t.Fatal(err)
	}
	got := q.Unmatched("q.txt", []string{"rfc9112/6.1/2", "rfc9112/7.1/3", "hygiene/zombies"})
	want := []string{
		"q.txt:3: rfc9112/99 matches no case (see 'forkproof spec')",
		"q.txt:5: rfc9112/6.1/2x matches no case (see 'forkproof spec')",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Unmatched = %q; want %q", got, want)
	}
	if (*Quirks)(nil).Unmatched("q.txt", nil) != nil {
		t.Error("nil quirks have unmatched entries")
	}
}
