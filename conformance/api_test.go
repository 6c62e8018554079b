package conformance

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/forkproof/forkproof/hygiene"
	"github.com/forkproof/forkproof/internal/fakenet"
	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/targets"
)

// apiCases is what TestRunAPIChild runs: one case per verdict, in two sections.
func apiCases() []Case {
	pass := exchangeCase("rfc9112/6.1/1", spec.MUST, "/ok", outcome(200, spec.EndClosed))
	warn := exchangeCase("rfc9112/6.1/2", spec.SHOULD, "/ok", outcome(400, spec.EndClosed))
	fail := exchangeCase("rfc9112/6.2/1", spec.MUST, "/ok", outcome(400, spec.EndClosed))
	fail.Title, fail.Section, fail.Requirement = "rejects nothing", "RFC 9112 §6.2", "say 400 to everything"
	skip := exchangeCase("rfc9112/6.3/1", spec.MUST, "/ok", outcome(200, spec.EndClosed))
	skip.Needs = []spec.Need{spec.NeedPID}
	return []Case{Compile(pass), Compile(warn), Compile(fail), Compile(skip)}
}

// TestRunAPIChild is the test a user of the API would write; it only runs when
// TestRunAPI starts this test binary again to look at go test's verdicts and output.
func TestRunAPIChild(t *testing.T) {
	if os.Getenv("FORKPROOF_API_CHILD") != "1" {
		t.Skip("run by TestRunAPI in a child process")
	}
	f := startFake(t, map[string]fakeReply{"/ok": {reply: ok200}})
	Run(t, f.target(), WithCases(apiCases()...), WithParallel(2), WithTimeout(2*time.Second), WithWindow(100*time.Millisecond))
}

func runChild(t *testing.T, run string, args ...string) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], append([]string{"-test.run", run, "-test.v", "-test.count=1"}, args...)...)
	cmd.Env = append(os.Environ(), "FORKPROOF_API_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("running %s: %v\n%s", run, err, out)
		}
	}
	return string(out), err == nil
}

func TestRunAPI(t *testing.T) {
	if os.Getenv("FORKPROOF_API_CHILD") == "1" {
		t.Skip("child process")
	}
	out, ok := runChild(t, "^TestRunAPIChild$")
	if ok {
		t.Errorf("the child passed although one case fails:\n%s", out)
	}
	for _, want := range []string{
		"--- PASS: TestRunAPIChild/rfc9112/6.1/1 ",
		"--- PASS: TestRunAPIChild/rfc9112/6.1/2 ", // warn is logged, not failed
		"warn: test rfc9112/6.1/2",
		"--- FAIL: TestRunAPIChild/rfc9112/6.2/1 ",
		"fail: rejects nothing (RFC 9112 §6.2, MUST)",
		"requirement: say 400 to everything",
		"got: 200 then close; want one of: [400 then close]",
		"sent:     ",
		"--- SKIP: TestRunAPIChild/rfc9112/6.3/1 ",
		"needs the target's PID",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("child output lacks %q:\n%s", want, out)
		}
	}

	// Subtests are named by ID, so go test's -run selects a section.
	out, ok = runChild(t, "^TestRunAPIChild$/rfc9112/6.1/")
	if !ok {
		t.Errorf("selecting §6.1 (no failing case) failed:\n%s", out)
	}
	for _, id := range []string{"6.1/1", "6.1/2"} {
		if !strings.Contains(out, "--- PASS: TestRunAPIChild/rfc9112/"+id+" ") {
			t.Errorf("-run for §6.1 did not run %s:\n%s", id, out)
		}
	}
	for _, id := range []string{"6.2/1", "6.3/1"} {
		if strings.Contains(out, "TestRunAPIChild/rfc9112/"+id) {
			t.Errorf("-run for §6.1 ran %s:\n%s", id, out)
		}
	}
}

func TestRunAPIWithRun(t *testing.T) {
	f := startFake(t, map[string]fakeReply{"/ok": {reply: ok200}})
	// Only the passing case is selected, so this test passes only if WithRun selects.
	Run(t, f.target(), WithCases(apiCases()...), WithRun("rfc9112/6.1/1"), WithWindow(100*time.Millisecond))
}

// TestRunAPIDeadChild runs the API against a target that accepts and never answers; it only
// runs when TestRunAPIDead starts this test binary again.
func TestRunAPIDeadChild(t *testing.T) {
	if os.Getenv("FORKPROOF_API_CHILD") != "1" {
		t.Skip("run by TestRunAPIDead in a child process")
	}
	srv := fakenet.Start(t, func(c net.Conn) { c.Read(make([]byte, 4096)); c.Read(make([]byte, 1)) })
	Run(t, &targets.Target{Addr: srv.Addr()}, WithCases(apiCases()...), WithTimeout(300*time.Millisecond))
}

// A dead target is one failure that says so, not one per case.
func TestRunAPIDead(t *testing.T) {
	if os.Getenv("FORKPROOF_API_CHILD") == "1" {
		t.Skip("child process")
	}
	out, ok := runChild(t, "^TestRunAPIDeadChild$")
	if ok || !strings.Contains(out, "does not answer HTTP") || strings.Contains(out, "TestRunAPIDeadChild/") {
		t.Errorf("child output:\n%s\nwant one failure saying the target does not answer HTTP, and no subtests", out)
	}
}

// TestRunAPIOptionsChild runs the API with the options a user tunes: quirks that cover the
// failing case, the hygiene tolerance, re-runs, the slow-client bound and the quick profile.
// The test process is the target's "root process": its fds and children are judged.
func TestRunAPIOptionsChild(t *testing.T) {
	if os.Getenv("FORKPROOF_API_CHILD") != "1" {
		t.Skip("run by TestRunAPIOptions in a child process")
	}
	f := startFake(t, map[string]fakeReply{"/ok": {reply: ok200}, "/": {reply: ok200}})
	q, err := ParseQuirks(strings.NewReader("rfc9112/6.2 known to accept everything\n"), "quirks.txt")
	if err != nil {
		t.Fatal(err)
	}
	tg := f.target()
	tg.PID = os.Getpid()
	cases := append(apiCases()[:3], endOfRunCases()...) // pass, warn, fail; zombies, fd-leak
	Run(t, tg, WithCases(cases...), WithQuirks(q), WithHygiene(hygiene.Options{FDTolerance: 7}),
		WithRetries(1), WithSlowBound(2*time.Second), WithShort(), WithWindow(100*time.Millisecond))
}

func TestRunAPIOptions(t *testing.T) {
	if os.Getenv("FORKPROOF_API_CHILD") == "1" {
		t.Skip("child process")
	}
	dir := t.TempDir()
	out, ok := runChild(t, "^TestRunAPIOptionsChild$", "-test.artifacts", "-test.outputdir", dir)
	if !ok {
		t.Errorf("the child failed although its only failure is a quirk:\n%s", out)
	}
	for _, want := range []string{
		"--- PASS: TestRunAPIChild/rfc9112/6.2/1 ",
		"fail (quirk: known to accept everything): rejects nothing",
		"--- PASS: TestRunAPIOptionsChild/hygiene/fd-leak ",
		"tolerance +7",
		"--- PASS: TestRunAPIOptionsChild/hygiene/zombies ",
		"the whole report, transcripts uncut: ",
	} {
		want = strings.Replace(want, "TestRunAPIChild/", "TestRunAPIOptionsChild/", 1)
		if !strings.Contains(out, want) {
			t.Errorf("child output lacks %q:\n%s", want, out)
		}
	}
	// The artifact is the JSON report, with the failure's transcript.
	paths, _ := filepath.Glob(filepath.Join(dir, "*", "*", "forkproof-report.json"))
	if len(paths) == 0 {
		paths, _ = filepath.Glob(filepath.Join(dir, "*", "forkproof-report.json"))
	}
	if len(paths) != 1 {
		t.Fatalf("want one forkproof-report.json under %s, found %q", dir, paths)
	}
	b, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"id": "rfc9112/6.2/1"`, `"quirk": "known to accept everything"`, `"sent": "GET /ok HTTP/1.1`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("artifact %s lacks %s:\n%s", paths[0], want, b)
		}
	}
}

func TestTranscriptClipped(t *testing.T) {
	short := "GET / HTTP/1.1\\r\\n"
	if got := clip(short); got != short {
		t.Errorf("clip(short) = %q", got)
	}
	long := strings.Repeat("é", transcriptMax) // 2 bytes a rune: the cut falls inside one
	got := clip(long)
	if !utf8.ValidString(got) || !strings.HasSuffix(got, fmt.Sprintf("… (%d more bytes; forkproof check -json keeps them)", transcriptMax)) {
		t.Errorf("clip(long) ends %q", got[max(0, len(got)-80):])
	}
}
