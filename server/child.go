package server

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/forkproof/forkproof/server/internal/h1"
)

// IsChild reports whether this process was started by the server as a connection child or
// a prefork worker. main calls it first thing, before parsing flags.
func IsChild() bool { return os.Getenv(childEnv) != "" }

// ChildMain runs the child side and returns the exit code. The connection (fork mode) or the
// listening socket (prefork mode) is fd 3; everything else was closed on exec.
func ChildMain() int {
	kind := os.Getenv(childEnv)
	conf, err := decodeChildConf(os.Getenv(confEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "forkproof child:", err)
		return 2
	}
	level := slog.LevelWarn
	if conf.verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("pid", os.Getpid())
	cfg, err := conf.engineConfig(log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "forkproof child:", err)
		return 2
	}
	switch kind {
	case "conn":
		return connChild(&cfg, conf)
	case "worker":
		return worker(&cfg, log)
	}
	fmt.Fprintf(os.Stderr, "forkproof child: %s=%q: want conn or worker\n", childEnv, kind)
	return 2
}

const inheritedFD = 3

// connChild serves the one connection on fd 3; SIGTERM starts a graceful drain.
func connChild(cfg *h1.Config, conf childConf) int {
	drain := make(chan struct{})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sig; close(drain) }()
	h1.ServeConn(newFDConn(inheritedFD), cfg, drain)
	if conf.lingerChild {
		select { // the fault: stay around (idle) after the connection is gone
		case <-drain:
		case <-time.After(time.Minute):
		}
	}
	return 0
}

// worker accepts on the inherited listening socket and serves one connection at a time.
// SIGTERM: an idle worker exits at once; a busy one drains its connection, then exits.
func worker(cfg *h1.Config, log *slog.Logger) int {
	var (
		mu       sync.Mutex
		serving  bool
		draining bool
		drain    = make(chan struct{})
	)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		mu.Lock()
		draining = true
		if !serving {
			os.Exit(0) // blocked in accept: nothing in flight
		}
		close(drain)
		mu.Unlock()
	}()
	var bo backoff
	for {
		fd, res, err := accept(inheritedFD)
		switch res {
		case acceptOK:
			bo.reset()
			mu.Lock()
			if draining {
				mu.Unlock()
				return 0
			}
			serving = true
			mu.Unlock()
			h1.ServeConn(newFDConn(fd), cfg, drain)
			mu.Lock()
			serving = false
			if draining {
				mu.Unlock()
				return 0
			}
			mu.Unlock()
		case acceptRetry, acceptAgain:
		case acceptBackoff:
			log.Warn("accept failed; backing off", "err", err)
			time.Sleep(bo.next())
		default:
			log.Error("accept failed", "err", err)
			return 1
		}
	}
}
