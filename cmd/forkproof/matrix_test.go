package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forkproof/forkproof/conformance"
	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/targets"
)

// writeReport writes a JSON report of target cmd with the verdicts ("rfc9112/3/1=fail") to dir.
func writeReport(t *testing.T, dir, file, cmd string, verdicts ...string) string {
	t.Helper()
	r := &conformance.Report{Version: "devel", Target: targets.Target{Addr: "127.0.0.1:9", Cmd: cmd}}
	for _, v := range verdicts {
		id, verdict, _ := strings.Cut(v, "=")
		r.Results = append(r.Results, conformance.Result{
			Meta:    spec.Meta{ID: id, Category: spec.Conformance, Section: "RFC 9112 §3", Level: spec.MUST, Title: "t " + id},
			Verdict: spec.Verdict(verdict), Detail: "got " + verdict,
		})
	}
	path := filepath.Join(dir, file)
	if err := writeFile(path, r.WriteJSON); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMatrixCommand(t *testing.T) {
	dir := t.TempDir()
	a := writeReport(t, dir, "a.json", "serve.sh alpha 9", "rfc9112/3/1=pass", "rfc9112/3/2=fail")
	b := writeReport(t, dir, "b=c.json", "serve.sh beta 9", "rfc9112/3/1=warn", "rfc9112/3/2=pass")
	md, page := filepath.Join(dir, "m.md"), filepath.Join(dir, "m.html")
	var out, errs bytes.Buffer
	// A column is named after its target, or by NAME=; a file whose name holds '=' is a file.
	if code := matrixCmd([]string{"-md", md, "-html", page, "mine=" + a, b}, &out, &errs); code != 0 {
		t.Fatalf("matrix: exit %d, %s", code, errs.String())
	}
	mdText, _ := os.ReadFile(md)
	htmlText, _ := os.ReadFile(page)
	for _, want := range []string{"| section | mine | beta |", "[🔴 fail](#c0-rfc9112-3-2)"} {
		if !strings.Contains(string(mdText), want) {
			t.Errorf("Markdown lacks %q:\n%s", want, mdText)
		}
	}
	if !strings.Contains(string(htmlText), "<th>mine</th><th>beta</th>") {
		t.Errorf("HTML lacks the column heads")
	}
	out.Reset()
	if code := matrixCmd([]string{a}, &out, &errs); code != 0 || !strings.Contains(out.String(), "| section | alpha |") {
		t.Errorf("matrix without -md: exit %d, stdout %q; want the Markdown on stdout", code, out.String())
	}
	for _, bad := range [][]string{{}, {"-update", a}, {"-expect", "x", "-md", md, a}, {filepath.Join(dir, "none.json")}, {md}} {
		if code := matrixCmd(bad, &out, &errs); code != 2 {
			t.Errorf("matrix %q: exit %d; want 2", bad, code)
		}
	}
}

func TestMatrixExpect(t *testing.T) {
	dir := t.TempDir()
	exp := filepath.Join(dir, "alpha.expect")
	retry := filepath.Join(dir, "retry")
	full := writeReport(t, dir, "full.json", "serve.sh alpha 9", "rfc9112/3/1=pass", "rfc9112/3/2=fail", "rfc9112/3/3=skip")
	var out, errs bytes.Buffer
	run := func(args ...string) int {
		out.Reset()
		errs.Reset()
		return matrixCmd(args, &out, &errs)
	}
	if code := run("-expect", exp, full); code != 2 {
		t.Errorf("compare with a missing expect file: exit %d; want 2", code)
	}
	// -update writes the file from the run; the comparison then agrees.
	if code := run("-expect", exp, "-update", full); code != 0 {
		t.Fatalf("-update: exit %d, %s", code, errs.String())
	}
	text, _ := os.ReadFile(exp)
	if !strings.Contains(string(text), "rfc9112/3/2 fail TODO RFC 9112 §3 MUST: got fail\n") ||
		!strings.Contains(string(text), "rfc9112/3/3 skip RFC 9112 §3: got skip\n") || !strings.Contains(string(text), "# Expected verdicts of forkproof check against alpha") {
		t.Errorf("expect file after -update:\n%s", text)
	}
	if code := run("-expect", exp, "-retry", retry, full); code != 0 || out.Len() != 0 {
		t.Errorf("compare with its own update: exit %d, %q", code, out.String())
	}
	if p, _ := os.ReadFile(retry); len(p) != 0 {
		t.Errorf("retry pattern %q; want none", p)
	}
	// A difference: reported, exit 1, and the pattern to re-run it; a re-run that agrees clears it.
	worse := writeReport(t, dir, "worse.json", "serve.sh alpha 9", "rfc9112/3/1=warn", "rfc9112/3/2=fail", "rfc9112/3/3=skip")
	if code := run("-expect", exp, "-retry", retry, worse); code != 1 || !strings.Contains(out.String(), "rfc9112/3/1: got warn: got warn; want pass or info (not listed)") {
		t.Errorf("compare with a new warn: exit %d, %q", code, out.String())
	}
	if p, _ := os.ReadFile(retry); string(p) != `^(rfc9112/3/1)$` {
		t.Errorf("retry pattern %q", p)
	}
	again := writeReport(t, dir, "again.json", "serve.sh alpha 9", "rfc9112/3/1=pass")
	if code := run("-expect", exp, worse, again); code != 0 {
		t.Errorf("a re-run agreeing: exit %d, %q; want 0 (timing noise)", code, out.String())
	}
}
