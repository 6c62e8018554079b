package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/forkproof/forkproof/conformance"
)

func init() {
	commands["matrix"] = command{summary: "render JSON reports side by side, or compare a server's runs with its expected verdicts", run: runMatrix}
}

func runMatrix(args []string) int { return matrixCmd(args, os.Stdout, os.Stderr) }

const matrixUsage = `usage: forkproof matrix [-md FILE] [-html FILE] [NAME=]REPORT.json...
       forkproof matrix -expect FILE [-update] [-retry FILE] REPORT.json [RERUN.json...]

The first form lays reports of 'forkproof check -json' side by side: servers × cases grouped by
RFC section, a section × server summary, and per server the fails, warns and skips with their
sentences and transcripts. A column is named after the report's target, or NAME. Without -md
or -html the Markdown goes to stdout.

The second form compares one server's runs with an expect file (lines "ID verdict reason";
an unlisted case must pass or be info). REPORT.json is the whole run; each RERUN.json re-ran
the cases that still differed, and a difference counts only when every run that has the case
shows it. Exit status 1 when a difference remains. -merged writes the whole run with the
re-runs' results in place of those cases (what to publish). -retry writes the -run pattern of the cases
still differing (empty when none) for the next re-run; -update rewrites the expect file from
the runs instead, keeping the reasons of unchanged lines and marking new ones TODO.

flags:`

func matrixCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("matrix", flag.ContinueOnError)
	fs.SetOutput(stderr)
	md := fs.String("md", "", "write the matrix as Markdown to `FILE`")
	htmlOut := fs.String("html", "", "write the matrix as one self-contained HTML page to `FILE`")
	expect := fs.String("expect", "", "compare the runs with the expected verdicts in `FILE`")
	update := fs.Bool("update", false, "with -expect: rewrite FILE from the runs instead of comparing")
	retry := fs.String("retry", "", "with -expect: write the -run pattern of the cases still differing to `FILE`")
	merged := fs.String("merged", "", "with -expect: write the whole run with the re-runs' results for the cases that differed, as a JSON report, to `FILE`")
	fs.Usage = func() {
		fmt.Fprintln(stderr, matrixUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "forkproof matrix: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() == 0 {
		return fail("no report given (see forkproof matrix -h)")
	}
	if *expect == "" && (*update || *retry != "" || *merged != "") {
		return fail("-update, -retry and -merged need -expect")
	}
	if *expect != "" && (*md != "" || *htmlOut != "") {
		return fail("-expect compares; it does not render (-md, -html)")
	}
	var cols []conformance.Column
	var names []string
	for _, arg := range fs.Args() {
		name, file := splitNamed(arg)
		r, err := readReportFile(file)
		if err != nil {
			return fail("%v", err)
		}
		if name == "" {
			name = conformance.ColumnName(r.Target)
		}
		names = append(names, name)
		cols = append(cols, conformance.Column{Name: name, Report: r})
	}
	if *expect != "" {
		return expectCmd(*expect, *update, *retry, *merged, cols, stdout, stderr)
	}
	for i, n := range conformance.UniqueNames(names) {
		cols[i].Name = n
	}
	m := conformance.NewMatrix(cols)
	if *md == "" && *htmlOut == "" {
		if err := m.WriteMarkdown(stdout); err != nil {
			return fail("%v", err)
		}
		return 0
	}
	for _, out := range []struct {
		path  string
		write func(io.Writer) error
	}{{*md, m.WriteMarkdown}, {*htmlOut, m.WriteHTML}} {
		if out.path == "" {
			continue
		}
		if err := writeFile(out.path, out.write); err != nil {
			return fail("%v", err)
		}
	}
	return 0
}

// splitNamed splits "NAME=FILE". An argument that names an existing file is a file, whatever
// it holds ('=' is legal in paths).
func splitNamed(arg string) (name, file string) {
	if _, err := os.Stat(arg); err == nil {
		return "", arg
	}
	if n, f, ok := strings.Cut(arg, "="); ok && n != "" {
		return n, f
	}
	return "", arg
}

func readReportFile(path string) (*conformance.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := conformance.ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return r, nil
}

// expectHeader heads every expect file -update writes.
const expectHeader = `Expected verdicts of forkproof check against %s (testdata/interop/serve.sh %s).
One line per fail, warn and skip: ID verdict reason naming the RFC section; any case not listed
must pass or be info. ci/interop.sh fails on any difference.
Regenerate with: ci/interop.sh -update  (unchanged lines keep their reason; a new or changed
fail or warn says TODO until a person has checked it against its RFC sentence and the transcript)`

func expectCmd(path string, update bool, retry, merged string, cols []conformance.Column, stdout, stderr io.Writer) int {
	var exp conformance.Expectations
	f, err := os.Open(path)
	switch {
	case err == nil:
		exp, err = conformance.ParseExpectations(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "forkproof matrix: %s: %v\n", path, err)
			return 2
		}
	case update && errors.Is(err, os.ErrNotExist):
		// a new server: every line is new
	default:
		fmt.Fprintf(stderr, "forkproof matrix: %v\n", err)
		return 2
	}
	runs := make([]*conformance.Report, len(cols))
	for i, c := range cols {
		runs[i] = c.Report
	}
	if merged != "" {
		if err := writeFile(merged, exp.Merge(runs...).WriteJSON); err != nil {
			fmt.Fprintf(stderr, "forkproof matrix: %v\n", err)
			return 2
		}
	}
	if update {
		name := cols[0].Name
		err := writeFile(path, func(w io.Writer) error {
			return exp.Update(runs...).Write(w, fmt.Sprintf(expectHeader, name, name))
		})
		if err != nil {
			fmt.Fprintf(stderr, "forkproof matrix: %v\n", err)
			return 2
		}
		return 0
	}
	diffs := exp.Compare(runs...)
	if retry != "" {
		if err := os.WriteFile(retry, []byte(conformance.RetryPattern(diffs)), 0o644); err != nil {
			fmt.Fprintf(stderr, "forkproof matrix: %v\n", err)
			return 2
		}
	}
	for _, d := range diffs {
		fmt.Fprintln(stdout, d)
	}
	if len(diffs) > 0 {
		return 1
	}
	return 0
}
