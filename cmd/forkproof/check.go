package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/forkproof/forkproof/conformance"
	"github.com/forkproof/forkproof/hygiene"
	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/targets"
)

func init() {
	commands["check"] = command{summary: "run the conformance catalogue against a target", run: runCheck}
}

// targetFlags are the flags that name a target, shared by the subcommands that test one.
type targetFlags struct {
	addr, cmd string
	pid       int
}

func (tf *targetFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&tf.addr, "addr", "", "target `HOST:PORT` (default: launch the embedded reference server)")
	fs.IntVar(&tf.pid, "pid", 0, "PID of the target's root process, for hygiene checks (with -addr)")
	fs.StringVar(&tf.cmd, "target-cmd", "", "launch the target with this `command`; {port} is replaced by a free port")
}

func (tf *targetFlags) validate() error {
	switch {
	case tf.addr != "" && tf.cmd != "":
		return errors.New("-addr and -target-cmd exclude each other")
	case tf.pid != 0 && tf.addr == "":
		return errors.New("-pid needs -addr (a launched target's PID is known already)")
	case tf.pid < 0:
		return fmt.Errorf("-pid %d: want a positive PID", tf.pid)
	}
	return nil
}

// open reaches or launches the target; stop ends what was launched (a no-op otherwise).
func (tf *targetFlags) open(ctx context.Context) (*targets.Target, func() error, error) {
	switch {
	case tf.cmd != "":
		return targets.Launch(ctx, tf.cmd)
	case tf.addr != "":
		if err := targets.Reachable(ctx, tf.addr, 3*time.Second); err != nil {
			return nil, nil, err
		}
		return &targets.Target{Addr: tf.addr, PID: tf.pid}, func() error { return nil }, nil
	default:
		return targets.LaunchReference(ctx)
	}
}

func runCheck(args []string) int {
	return check(args, os.Stdout, os.Stderr)
}

func check(args []string, stdout io.Writer, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		tf                  targetFlags
		run, jsonOut, junit string
		htmlOut, quirksPath string
		timeout, window     time.Duration
		slowBound           time.Duration
		parallel            int
		verbose             bool
		fdTolerance         int
		settle              time.Duration
		retries             int
		path                string
		quiet, short        bool
		splits              string
		splitsSeed          uint64
	)
	tf.register(fs)
	fs.StringVar(&run, "run", "", "run only the cases whose ID has this `PREFIX` (e.g. rfc9112/6.1) or matches this REGEX")
	fs.StringVar(&jsonOut, "json", "", "write the JSON report to `FILE`")
	fs.StringVar(&junit, "junit", "", "write a JUnit XML report to `FILE`")
	fs.StringVar(&htmlOut, "html", "", "write a self-contained HTML report to `FILE`")
	fs.DurationVar(&timeout, "timeout", conformance.DefaultTimeout, "how long to wait for each response")
	fs.DurationVar(&window, "window", conformance.DefaultWindow, "how long to watch that a server waits (stays silent/open)")
	fs.DurationVar(&slowBound, "slow-bound", conformance.DefaultSlowBound, "how long a slow client (slowloris, slow body) may be held before the server is said to wait too long")
	fs.IntVar(&retries, "retries", conformance.DefaultRetries, "re-runs, with longer waits, of a verdict resting on an expired wait (0: none); a case the server never answered is re-run only if it is slow to answer another connection too")
	fs.StringVar(&path, "path", "/", "the 2xx `resource` to fetch where cases request / (for a server whose / is not a 2xx resource)")
	fs.IntVar(&parallel, "parallel", conformance.DefaultParallel, "cases run at once (a case that only waits lets another start, up to 8× this, within the target's listen backlog)")
	fs.StringVar(&quirksPath, "quirks", "", "`FILE` of expected failures: lines 'ID-or-prefix reason…', # comments")
	fs.IntVar(&fdTolerance, "fd-tolerance", hygiene.DefaultFDTolerance, "open fds a target may gain over its baseline")
	fs.DurationVar(&settle, "settle", 2*time.Second, "how long hygiene checks wait for zombies to be reaped and fds closed")
	fs.BoolVar(&verbose, "v", false, "verbose: details of every non-pass case and the target's stderr")
	fs.BoolVar(&quiet, "q", false, "no progress on stderr (by default: a live status line on a terminal, a plain line every 5s elsewhere)")
	fs.StringVar(&splits, "splits", "", "also run each catalogue case with its request cut in two at `all` bytes of its head (every byte of the first 512, then every 64th, and the first 64 of a body), or at N seeded positions, a pause between the pieces; each cut must be judged as the whole request (finds servers that answer the first read)")
	fs.Uint64Var(&splitsSeed, "splits-seed", 1, "seed of the positions -splits N draws")
	fs.BoolVar(&short, "short", false, "quick profile for a pre-commit loop: leave out the scenarios whose cost is a fixed wait or a flood (slow clients, byte splits, resets, deep pipelines, concurrency, backlog, hygiene stress)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: forkproof check [-addr HOST:PORT [-pid N] | -target-cmd 'CMD {port}'] [-run PREFIX|REGEX] [-short]\n"+
			"                       [-json FILE] [-junit FILE] [-html FILE] [-timeout D] [-parallel N] [-quirks FILE] [-v] [-q]\n\n"+
			"Exit status: 0 no failure, 1 at least one failure (quirks excepted), 2 bad usage, an unreachable\n"+
			"target, a target that stopped accepting connections during the run, or an interrupted run\n"+
			"(the report is still written, marked as stopped early).\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usageErr := func(err error) int {
		fmt.Fprintf(stderr, "forkproof check: %v\n", err)
		return 2
	}
	if fs.NArg() > 0 {
		return usageErr(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if err := tf.validate(); err != nil {
		return usageErr(err)
	}
	sp, err := conformance.ParseSplits(splits)
	if err != nil {
		return usageErr(err)
	}
	sp.Seed = splitsSeed
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \t\r\n") {
		return usageErr(fmt.Errorf("-path %q: want an origin-form path starting with / and without whitespace", path))
	}
	if parallel <= 0 || timeout <= 0 || window <= 0 || slowBound <= 0 || fdTolerance < 0 || settle <= 0 {
		return usageErr(errors.New("-parallel, -timeout, -window, -slow-bound and -settle must be positive, -fd-tolerance not negative"))
	}
	all := conformance.Catalogue()
	var quirks *conformance.Quirks
	if quirksPath != "" {
		q, err := conformance.LoadQuirks(quirksPath)
		if err != nil {
			return usageErr(err)
		}
		quirks = q
		var ids []string
		for _, c := range all {
			ids = append(ids, c.ID)
		}
		for _, w := range quirks.Unmatched(quirksPath, ids) {
			fmt.Fprintf(stderr, "forkproof check: warning: %s\n", w)
		}
	}
	// A bad pattern is a usage error before anything is launched.
	if cases, err := conformance.Select(all, run); err != nil {
		return usageErr(err)
	} else if len(cases) == 0 {
		return usageErr(fmt.Errorf("-run %q selects no case (see 'forkproof spec')", run))
	}
	// Report files are created (as temporary files beside them) before the run, so a bad path
	// costs nothing; a run that ends early leaves an earlier report in place.
	outs := []reportOut{{"-json", jsonOut, nil}, {"-junit", junit, nil}, {"-html", htmlOut, nil}}
	for i := range outs {
		if outs[i].path == "" {
			continue
		}
		f, err := os.CreateTemp(filepath.Dir(outs[i].path), "."+filepath.Base(outs[i].path)+".*")
		if err != nil {
			closeOuts(outs)
			return usageErr(fmt.Errorf("%s %s: %v", outs[i].flag, outs[i].path, err))
		}
		outs[i].f = f
	}
	defer closeOuts(outs)

	// ^C or SIGTERM still stops a launched target.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	target, stop, err := tf.open(ctx)
	if err != nil {
		return usageErr(err)
	}
	stopped := false
	stopTarget := func() {
		if stopped {
			return
		}
		stopped = true
		if err := stop(); err != nil {
			fmt.Fprintf(stderr, "forkproof check: %v\n", err)
		}
	}
	defer stopTarget()

	if retries <= 0 {
		retries = -1 // the runner reads 0 as "default"
	}
	target.Path = path
	var progress *conformance.Progress
	opts := conformance.CheckOptions{
		Options: conformance.Options{
			Parallel: parallel, Timeout: timeout, Window: window, Retries: retries, SlowBound: slowBound,
			Hygiene: hygiene.Options{FDTolerance: fdTolerance, Settle: settle},
		},
		Cases: all, Run: run, Short: short, Quirks: quirks, Splits: sp,
	}
	if !quiet {
		opts.OnPlan = func(cases []conformance.Case) {
			f, ok := stderr.(*os.File)
			progress = conformance.NewProgress(stderr, ok && conformance.IsTTY(f), len(cases))
		}
		opts.OnStart = func(m spec.Meta) { progress.Start(m) }
		opts.OnResult = func(r conformance.Result) { progress.Result(r) }
	}
	report, err := conformance.Check(ctx, target, opts)
	if progress != nil {
		progress.Close()
	}
	if err != nil {
		stopTarget()
		return usageErr(err)
	}
	if ctx.Err() != nil {
		report.Stopped = "interrupted (^C or SIGTERM)"
	}
	stoppedEarly := report.Stopped
	stopTarget()
	if target.Stderr != nil {
		report.TargetStderr = target.Stderr()
	}

	if err := report.WriteText(stdout, conformance.TextOptions{Color: isTerminal(stdout), Verbose: verbose}); err != nil {
		return usageErr(fmt.Errorf("writing the report: %v", err))
	}
	writes := map[string]func(io.Writer) error{"-json": report.WriteJSON, "-junit": report.WriteJUnit, "-html": report.WriteHTML}
	failed := false
	for i := range outs {
		if outs[i].f == nil {
			continue
		}
		// One report that cannot be written does not keep the others from being written.
		err := outs[i].write(writes[outs[i].flag])
		if err != nil {
			fmt.Fprintf(stderr, "forkproof check: %s: %v\n", outs[i].flag, err)
			failed = true
		}
	}
	if stoppedEarly != "" {
		fmt.Fprintf(stderr, "forkproof check: stopped early, the report is partial: %s\n", stoppedEarly)
		return 2
	}
	if failed {
		return 2
	}
	return report.ExitCode()
}

// reportOut is a report file named by a flag, created before the run.
type reportOut struct {
	flag, path string
	f          *os.File
}

// write writes one report into the temporary file and renames it to the report's path.
func (o *reportOut) write(write func(io.Writer) error) error {
	f := o.f
	o.f = nil
	err := write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644) // CreateTemp makes it 0600; a report is for reading
	}
	if err == nil {
		err = os.Rename(f.Name(), o.path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing %s: %v", o.path, err)
	}
	return nil
}

// closeOuts removes the temporary report files not written (an early exit).
func closeOuts(outs []reportOut) {
	for i := range outs {
		if outs[i].f != nil {
			outs[i].f.Close()
			os.Remove(outs[i].f.Name())
			outs[i].f = nil
		}
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && conformance.IsTerminal(f)
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report file: %v", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %v", path, err)
	}
	return nil
}
