package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/forkproof/forkproof/conformance"
	"github.com/forkproof/forkproof/spec"
)

func init() {
	commands["spec"] = command{summary: "print the requirement catalogue", run: runSpec}
}

func runSpec(args []string) int { return specCmd(args, os.Stdout, os.Stderr) }

// catalogueMetas lists what `check` runs: every catalogue case, the hygiene checks of the
// whole run last.
func catalogueMetas() []spec.Meta {
	var metas []spec.Meta
	for _, c := range conformance.Catalogue() {
		metas = append(metas, c.Meta)
	}
	return metas
}

// selectMetas keeps the metas whose ID the -run pattern selects, as conformance.Select does
// for cases.
func selectMetas(metas []spec.Meta, pattern string) ([]spec.Meta, error) {
	cs := make([]conformance.Case, len(metas))
	for i, m := range metas {
		cs[i] = conformance.Case{Meta: m}
	}
	kept, err := conformance.Select(cs, pattern)
	if err != nil {
		return nil, err
	}
	out := make([]spec.Meta, len(kept))
	for i, c := range kept {
		out[i] = c.Meta
	}
	return out, nil
}

func specCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("spec", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the catalogue as JSON (id, category, section, level, title, requirement, outcomes, sentences or policy)")
	run := fs.String("run", "", "only the cases whose ID has this `PREFIX` or matches this REGEX")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: forkproof spec [-json] [-run PREFIX|REGEX]\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "forkproof spec: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	metas, err := selectMetas(catalogueMetas(), *run)
	if err != nil {
		fmt.Fprintf(stderr, "forkproof spec: %v\n", err)
		return 2
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(metas); err != nil {
			fmt.Fprintf(stderr, "forkproof spec: %v\n", err)
			return 2
		}
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLEVEL\tSECTION\tTITLE")
	for _, m := range metas {
		sec := m.Section
		if sec == "" {
			sec = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.ID, m.Level, sec, m.Title)
		// What the grade rests on, under the case: lines without a tab do not widen the columns.
		for _, g := range conformance.Grounds(m) {
			fmt.Fprintf(tw, "    %s\n", g)
		}
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintf(stderr, "forkproof spec: %v\n", err)
		return 2
	}
	fmt.Fprintf(stdout, "%d cases\n", len(metas))
	return 0
}
