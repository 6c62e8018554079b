// Package server is forkproof's reference HTTP/1.1 server: sockets, the process models
// (a fresh process per connection, a pre-forked pool, goroutines), reaping and shutdown.
// The HTTP engine itself lives in server/internal/h1.
package server

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// Run serves until SIGTERM or SIGINT, then shuts down gracefully and returns nil.
// It returns an error when the options are invalid or the address cannot be bound.
func Run(o Options) error {
	pf, engineFaults, err := o.validate()
	if err != nil {
		return err
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	closeOnExecAll()
	// Subscribe before listening so a signal sent right after "listening on" is not lost.
	stop := make(chan os.Signal, 2)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(stop)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()

	// Non-blocking in the process modes: fork mode's parent and prefork's workers wait for
	// readiness and then accept, so a signal never strands a connection taken off the queue.
	fd, addr, err := listenTCP(o.Addr, o.Backlog, o.Mode != "goroutine")
	if err != nil {
		return err
	}
	conf := o.childConf(engineFaults, pf)
	switch o.Mode {
	case "goroutine":
		return runGoroutines(ctx, &o, fd, addr, conf, pf)
	case "prefork":
		return runPrefork(ctx, &o, fd, addr, conf, pf)
	default:
		return runFork(ctx, &o, fd, addr, conf, pf)
	}
}

func ready(o *Options, addr string) {
	o.Log.Debug("listening", "addr", addr, "mode", o.Mode)
	if o.Ready != nil {
		o.Ready(addr)
	}
}

// closeOnExecAll marks every fd above stderr close-on-exec. Our own fds are opened that way,
// but fds we inherited without the flag (a launcher's leaked pipe, say) would otherwise pass
// on to every child: ForkExec closes only close-on-exec fds.
func closeOnExecAll() {
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err == nil {
		return
	}
	ents, err := os.ReadDir("/proc/self/fd") // kernels before 5.11
	if err != nil {
		return
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			unix.CloseOnExec(fd)
		}
	}
}
