package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/forkproof/forkproof/fuzz"
	"github.com/forkproof/forkproof/spec"
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
		fmt.Fprintln(stderr, "usage: forkproof replay FILE... [-addr H:P [-pid N] | -target-cmd 'CMD {port}']\n\n"+
			"Re-sends saved reproducers (forkproof fuzz findings) to a target; without -addr or -target-cmd,\n"+
			"to the embedded reference server, as the output says. Exit status: 0 none reproduced, 1 at\n"+
			"least one reproduced, 2 bad usage, an unreadable file or an unreachable target.\n\nflags:")
		fs.PrintDefaults()
	}
	// Files may come before or after the flags.
	var files []string
	for len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		files, args = append(files, args[0]), args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	files = append(files, fs.Args()...)
	if len(files) == 0 {
		fs.Usage()
		return 2
	}
	if err := tf.validate(); err != nil {
		fmt.Fprintf(stderr, "forkproof replay: %v\n", err)
		return 2
	}
	repros := make([]*fuzz.Repro, len(files))
	for i, file := range files {
		repro, err := fuzz.ReadRepro(file)
		if err != nil {
			fmt.Fprintf(stderr, "forkproof replay: %v\n", err)
			return 2
		}
		repros[i] = repro
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	target, stop, err := tf.open(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "forkproof replay: target unreachable: %v\n", err)
		return 2
	}
	defer stop()
	switch {
	case tf.addr != "":
		fmt.Fprintf(stdout, "target: %s\n", target.Addr)
	case tf.cmd != "":
		fmt.Fprintf(stdout, "target: %s (%s)\n", target.Addr, target.Cmd)
	default:
		// Not reproducing against our own server says nothing about the user's.
		fmt.Fprintf(stdout, "target: the embedded reference server at %s (no -addr or -target-cmd given)\n", target.Addr)
	}
	reproduced, failed := 0, 0
	for i, repro := range repros {
		fmt.Fprintf(stdout, "replaying %s (%s)\n  sent: %s\n  plan: %s\n", files[i], repro.Kind, repro.SendText, repro.Plan())
		got, err := fuzz.Replay(target.Addr, repro, *timeout)
		if err != nil {
			fmt.Fprintf(stderr, "forkproof replay: %s: %v\n", files[i], err)
			if reproduced > 0 {
				// An earlier reproducer may have killed the target: what it showed stands.
				fmt.Fprintf(stdout, "%d of %d reproduced before the target stopped answering\n", reproduced, len(repros))
				return min(failed, 1)
			}
			return 2
		}
		if got.Kind == "" {
			fmt.Fprintln(stdout, "  not reproduced: the target handled it correctly")
			continue
		}
		reproduced++
		if got.Grade == spec.Fail {
			failed++
		}
		fmt.Fprintf(stdout, "  REPRODUCED %s %s: %s\n", strings.ToUpper(string(got.Grade)), got.Kind, got.Detail)
	}
	if len(repros) > 1 {
		fmt.Fprintf(stdout, "%d of %d reproduced, %d of them failing\n", reproduced, len(repros), failed)
	}
	return min(failed, 1) // like fuzz: 1 when a reproduced finding fails
}
