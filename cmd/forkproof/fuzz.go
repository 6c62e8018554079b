package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/forkproof/forkproof/fuzz"
	"github.com/forkproof/forkproof/spec"
)

func init() {
	commands["fuzz"] = command{summary: "black-box fuzz campaign against a target; findings become reproducers", run: runFuzz}
}

func runFuzz(args []string) int { return fuzzCmd(args, os.Stdout, os.Stderr) }

func fuzzCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "merge" {
		return fuzzMergeCmd(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("fuzz", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var tf targetFlags
	tf.register(fs)
	duration := fs.Duration("duration", 10*time.Second, "how long to fuzz")
	out := fs.String("out", "", "write the minimised reproducers and findings.json to this `DIR` (required)")
	seed := fs.Uint64("seed", 0, "seed of the inputs (0: from the clock, printed); give every shard the same")
	workers := fs.Int("workers", runtime.NumCPU(), "concurrent connections")
	shard := fs.String("shard", "0/1", "run part `I/N` of the campaign: the inputs whose index is I modulo N (N machines, one seed)")
	inputs := fs.Int64("inputs", 0, "end after the inputs of index below `N` (of the whole campaign; 0: only -duration ends it)")
	timeout := fs.Duration("timeout", 2*time.Second, "wait for each response")
	maxFindings := fs.Int("max-findings", 20, "stop after this many findings (distinct causes)")
	minimize := fs.Duration("minimize", 10*time.Second, "time spent minimising each finding")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: forkproof fuzz [-addr H:P [-pid N] | -target-cmd 'CMD {port}'] -duration D -out DIR [-seed N] [-shard I/N] [-inputs N]")
		fmt.Fprintln(stderr, "       forkproof fuzz merge [-out DIR] DIR...   merge the findings of shards or machines")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "forkproof fuzz: unexpected argument %q\n", fs.Arg(0))
		return 2
	case *out == "":
		fmt.Fprintln(stderr, "forkproof fuzz: -out DIR is required (reproducers are written there)")
		return 2
	case *duration <= 0 || *workers <= 0 || *timeout <= 0 || *maxFindings <= 0 || *minimize <= 0 || *inputs < 0:
		fmt.Fprintln(stderr, "forkproof fuzz: -duration, -workers, -timeout, -max-findings and -minimize must be positive, -inputs not negative")
		return 2
	}
	shardI, shardN, err := parseShard(*shard)
	if err != nil {
		fmt.Fprintf(stderr, "forkproof fuzz: -shard: %v\n", err)
		return 2
	}
	if err := tf.validate(); err != nil {
		fmt.Fprintf(stderr, "forkproof fuzz: %v\n", err)
		return 2
	}
	if *seed == 0 {
		*seed = uint64(time.Now().UnixNano())
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	target, stop, err := tf.open(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "forkproof fuzz: target unreachable: %v\n", err)
		return 2
	}
	defer stop()
	fmt.Fprintf(stderr, "fuzzing %s for %s, seed %d, shard %d/%d, %d workers\n", target.Addr, *duration, *seed, shardI, shardN, *workers)
	term := isTerminal(stderr)
	cfg := fuzz.Config{Target: target, Duration: *duration, Seed: *seed, Out: *out, Workers: *workers,
		Shard: shardI, Shards: shardN, Inputs: *inputs,
		Timeout: *timeout, MaxFindings: *maxFindings, MinimizeBudget: *minimize}
	if term {
		cfg.Progress = func(s fuzz.Stats) {
			fmt.Fprintf(stderr, "\r%s  inputs %d (%.0f/s)  judged %d (%.0f/s)  findings %d   ", s.Elapsed.Truncate(time.Second),
				s.Inputs, rate(s.Inputs, s.Elapsed), s.Judged, rate(s.Judged, s.Elapsed), s.Findings)
		}
	}
	rep, err := fuzz.Run(ctx, cfg)
	if term {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "forkproof fuzz: %v\n", err)
		return 2
	}
	echo := "no /echo endpoint: echo bodies not checked"
	if rep.Echo {
		echo = "/echo bodies checked"
	}
	fmt.Fprintf(stdout, "%d inputs, %d responses judged in %s (%.0f judged/s, %.0f per worker); %s; %d findings; seed %d, shard %d/%d\n",
		rep.Inputs, rep.Judged, rep.Elapsed.Truncate(time.Millisecond), rate(rep.Judged, rep.Elapsed), rate(rep.Judged, rep.Elapsed)/float64(*workers),
		echo, len(rep.Findings), *seed, shardI, shardN)
	if *out != "" {
		fmt.Fprintf(stdout, "findings: %s\n", filepath.Join(*out, fuzz.SummaryFile))
	}
	return printFindings(stdout, rep.Findings)
}

// printFindings lists findings, fails first, and returns the exit code: 1 when one fails.
func printFindings(stdout io.Writer, fs []*fuzz.Finding) int {
	fs = slices.Clone(fs)
	failsFirst := func(f *fuzz.Finding) int {
		if f.Grade == spec.Fail {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(fs, func(a, b *fuzz.Finding) int { return cmp.Compare(failsFirst(a), failsFirst(b)) })
	code := 0
	for _, f := range fs {
		if f.Grade == spec.Fail {
			code = 1
		}
		variants := ""
		if f.Variants > 1 {
			variants = fmt.Sprintf(", %d distinct reproducers, the smallest shown", f.Variants)
		}
		fmt.Fprintf(stdout, "FINDING %s %s: %s (seen %d times%s)\n  cause: %s\n  grade: %s\n", strings.ToUpper(string(f.Grade)), f.Kind, f.Detail, f.Count, variants, f.Signature, f.Ground)
		if f.Repro != nil && len(f.Repro.Send) > 0 {
			fmt.Fprintf(stdout, "  sent: %s\n  plan: %s\n", f.Repro.SendText, f.Repro.Plan())
		}
		if f.File != "" {
			fmt.Fprintf(stdout, "  reproduce: forkproof replay %s -addr HOST:PORT\n", f.File)
		}
	}
	return code
}

// parseShard parses I/N with 0 <= I < N.
func parseShard(s string) (i, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	if ok {
		i, err = strconv.Atoi(a)
	}
	if ok && err == nil {
		n, err = strconv.Atoi(b)
	}
	if !ok || err != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("%q: want I/N with 0 <= I < N, such as 0/4", s)
	}
	return i, n, nil
}

// fuzzMergeCmd merges the findings of campaigns' -out directories.
func fuzzMergeCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fuzz merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "write the merged reproducers and findings.json to this `DIR`")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: forkproof fuzz merge [-out DIR] DIR...\n\nMerges the findings of campaigns (shards, machines) from their -out directories:\none finding per root cause, counts added, the smallest reproducer kept.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	sum, findings, err := fuzz.Merge(fs.Args(), *out)
	if err != nil {
		fmt.Fprintf(stderr, "forkproof fuzz merge: %v\n", err)
		return 2
	}
	fmt.Fprintf(stdout, "merged %s: %d inputs, %d responses judged; %d findings\n",
		strings.Join(sum.Parts, ", "), sum.Inputs, sum.Judged, len(findings))
	if *out != "" {
		fmt.Fprintf(stdout, "findings: %s\n", filepath.Join(*out, fuzz.SummaryFile))
	}
	return printFindings(stdout, findings)
}

func rate(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
