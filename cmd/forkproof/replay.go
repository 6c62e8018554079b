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
	commands["replay"] = command{summary: "re-send a reproducer saved by fuzz and say whether the bug shows", run: runReplay}
}

func runReplay(args []string) int { return replayCmd(args, os.Stdout, os.Stderr) }

func replayCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var tf targetFlags
	tf.register(fs)
	timeout := fs.Duration("timeout", 2*time.Second, "wait for each response")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: forkproof replay FILE [-addr H:P [-pid N] | -target-cmd 'CMD {port}']")
		fs.PrintDefaults()
	}
	// The file may come before or after the flags.
	var file string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	} else if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "forkproof replay: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if file == "" {
		fs.Usage()
		return 2
	}
	if err := tf.validate(); err != nil {
		fmt.Fprintf(stderr, "forkproof replay: %v\n", err)
		return 2
	}
	repro, err := fuzz.ReadRepro(file)
	if err != nil {
		fmt.Fprintf(stderr, "forkproof replay: %v\n", err)
		return 2
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	target, stop, err := tf.open(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "forkproof replay: target unreachable: %v\n", err)
		return 2
	}
	defer stop()
	fmt.Fprintf(stdout, "replaying %s (%s) against %s\n  sent: %s\n  plan: %s\n", file, repro.Kind, target.Addr, repro.SendText, repro.Plan())
	kind, detail, err := fuzz.Replay(target.Addr, repro, *timeout)
	if err != nil {
		fmt.Fprintf(stderr, "forkproof replay: %v\n", err)
		return 2
	}
	if kind == "" {
		fmt.Fprintln(stdout, "not reproduced: the target handled it correctly")
		return 0
	}
	fmt.Fprintf(stdout, "REPRODUCED %s: %s\n", kind, detail)
	return 1
}
