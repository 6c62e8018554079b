// Command forkproof is an HTTP/1.1 conformance and fuzz test harness built around a reference
// fork-per-connection server. See README.md.
package main

import (
	"fmt"
	"os"
	"sort"

	"github.com/forkproof/forkproof/server"
)

// command is one subcommand; it returns the process exit code
// (0 ok, 1 a failing verdict, 2 bad usage or unreachable target).
type command struct {
	summary string
	run     func(args []string) int
}

// commands is filled by each subcommand's file in its init.
var commands = map[string]command{}

func main() {
	// A connection child or prefork worker of `serve`: before any flag parsing, so a child
	// does as little as possible on its way to the connection.
	if server.IsChild() {
		os.Exit(server.ChildMain())
	}
	os.Exit(dispatch(os.Args[1:]))
}

func dispatch(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage()
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "forkproof: unknown command %q\n", args[0])
		usage()
		return 2
	}
	return c.run(args[1:])
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: forkproof <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(os.Stderr, "\nRun 'forkproof <command> -h' for a command's flags.")
}
