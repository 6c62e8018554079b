package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/forkproof/forkproof/fuzz"
)

func init() {
	commands["fuzz"] = command{summary: "black-box fuzz campaign against a target; findings become reproducers", run: runFuzz}
}

func runFuzz(args []string) int { return fuzzCmd(args, os.Stdout, os.Stderr) }

func fuzzCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fuzz", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var tf targetFlags
	tf.register(fs)
	duration := fs.Duration("duration", 10*time.Second, "how long to fuzz")
	out := fs.String("out", "", "write minimised reproducers to this `DIR` (required)")
	seed := fs.Uint64("seed", 0, "seed of the inputs (0: from the clock, printed)")
	workers := fs.Int("workers", 4, "concurrent connections")
	timeout := fs.Duration("timeout", 2*time.Second, "wait for each response")
	maxFindings := fs.Int("max-findings", 20, "stop after this many distinct findings")
	minimize := fs.Duration("minimize", 10*time.Second, "time spent minimising each finding")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: forkproof fuzz [-addr H:P [-pid N] | -target-cmd 'CMD {port}'] -duration D -out DIR [-seed N]")
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
	case *duration <= 0 || *workers <= 0 || *timeout <= 0 || *maxFindings <= 0 || *minimize <= 0:
		fmt.Fprintln(stderr, "forkproof fuzz: -duration, -workers, -timeout, -max-findings and -minimize must be positive")
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
	fmt.Fprintf(stderr, "fuzzing %s for %s, seed %d\n", target.Addr, *duration, *seed)
	term := isTerminal(stderr)
	cfg := fuzz.Config{Target: target, Duration: *duration, Seed: *seed, Out: *out, Workers: *workers,
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
	fmt.Fprintf(stdout, "%d inputs, %d responses judged in %s (%.0f judged/s); %s; %d findings; seed %d\n",
		rep.Inputs, rep.Judged, rep.Elapsed.Truncate(time.Millisecond), rate(rep.Judged, rep.Elapsed), echo, len(rep.Findings), *seed)
	for _, f := range rep.Findings {
		fmt.Fprintf(stdout, "FINDING %s: %s (seen %d times)\n", f.Kind, f.Detail, f.Count)
		if f.Repro != nil && len(f.Repro.Send) > 0 {
			fmt.Fprintf(stdout, "  sent: %s\n  plan: %s\n", f.Repro.SendText, f.Repro.Plan())
		}
		if f.File != "" {
			fmt.Fprintf(stdout, "  reproduce: forkproof replay %s -addr HOST:PORT\n", f.File)
		}
	}
	if len(rep.Findings) > 0 {
		return 1
	}
	return 0
}

func rate(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
