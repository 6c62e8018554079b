package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/forkproof/forkproof/server"
)

func init() {
	commands["serve"] = command{summary: "run the reference HTTP/1.1 server (fork | prefork | goroutine)", run: runServe}
}

func runServe(args []string) int {
	o := server.DefaultOptions()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	o.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "forkproof serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	level := slog.LevelWarn
	if o.Verbose {
		level = slog.LevelDebug
	}
	o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	o.Ready = func(addr string) { fmt.Fprintf(os.Stderr, "listening on %s\n", addr) }
	if err := server.Run(o); err != nil {
		fmt.Fprintf(os.Stderr, "forkproof serve: %v\n", err)
		return 2
	}
	return 0
}
