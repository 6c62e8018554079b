package server

import (
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/forkproof/forkproof/server/internal/h1"
)

// Options configure a server run. The zero value is not useful; start from DefaultOptions.
type Options struct {
	Addr        string        // host:port; port 0 picks a free port
	Mode        string        // fork | prefork | goroutine
	Backlog     int           // listen(2) backlog
	MaxChildren int           // fork mode: live children at most; at the cap the parent stops accepting
	Workers     int           // prefork mode: worker processes kept alive
	Grace       time.Duration // shutdown: how long in-flight connections may take before SIGKILL
	Verbose     bool          // one log line per connection

	MaxRequestLine  int
	MaxHeaderBytes  int
	MaxHeaderFields int
	MaxBody         int64
	HeaderTimeout   time.Duration
	IdleTimeout     time.Duration
	BodyTimeout     time.Duration

	// Faults is a comma-separated list of deliberate bugs: HTTP faults go to the engine,
	// process faults (see ProcessFaults) are the server's own.
	Faults string

	// Ready, when set, is called with the bound address once the server accepts connections.
	Ready func(addr string)
	Log   *slog.Logger // nil: discard
}

// Modes lists the process models, default first.
var Modes = []string{"fork", "prefork", "goroutine"}

// ProcessFaults are the faults of the process side, with what each breaks.
var ProcessFaults = map[string]string{
	"leak-fd":      "the parent never closes its copy of an accepted connection (fork mode; goroutine mode leaks a dup)",
	"no-reap":      "the parent never waits for its children, which stay zombies (fork and prefork modes)",
	"linger-child": "a child stays alive for a minute after its connection ends (fork mode)",
}

// DefaultOptions returns the defaults of `forkproof serve`.
func DefaultOptions() Options {
	d := h1.DefaultConfig()
	return Options{
		Addr:            "127.0.0.1:8080",
		Mode:            "fork",
		Backlog:         511,
		MaxChildren:     256,
		Workers:         defaultWorkers(),
		Grace:           5 * time.Second,
		MaxRequestLine:  d.MaxRequestLine,
		MaxHeaderBytes:  d.MaxHeaderBytes,
		MaxHeaderFields: d.MaxHeaderFields,
		MaxBody:         d.MaxBody,
		HeaderTimeout:   d.HeaderTimeout,
		IdleTimeout:     d.IdleTimeout,
		BodyTimeout:     d.BodyTimeout,
	}
}

// defaultWorkers: a prefork worker serves one connection at a time, so the pool must cover
// the keep-alive clients expected at once, not just the cores.
func defaultWorkers() int { return max(32, 8*runtime.NumCPU()) }

// RegisterFlags defines the serve flags on fs, writing into o.
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.Addr, "addr", o.Addr, "listen address host:port (port 0 picks a free port)")
	fs.StringVar(&o.Mode, "mode", o.Mode, "process model: fork | prefork | goroutine")
	fs.IntVar(&o.Backlog, "backlog", o.Backlog, "listen backlog")
	fs.IntVar(&o.MaxChildren, "max-children", o.MaxChildren, "fork mode: most live children; at the cap stop accepting")
	fs.IntVar(&o.Workers, "workers", o.Workers, "prefork mode: number of worker processes")
	fs.DurationVar(&o.Grace, "grace", o.Grace, "shutdown grace period for in-flight connections")
	fs.BoolVar(&o.Verbose, "v", o.Verbose, "log one line per connection")
	fs.IntVar(&o.MaxRequestLine, "max-request-line", o.MaxRequestLine, "longest request line in bytes (414 beyond)")
	fs.IntVar(&o.MaxHeaderBytes, "max-header-bytes", o.MaxHeaderBytes, "largest header section in bytes (431 beyond)")
	fs.IntVar(&o.MaxHeaderFields, "max-header-fields", o.MaxHeaderFields, "most header fields (431 beyond)")
	fs.Int64Var(&o.MaxBody, "max-body", o.MaxBody, "largest request body in bytes, positive (413 beyond)")
	fs.DurationVar(&o.HeaderTimeout, "header-timeout", o.HeaderTimeout, "time for a whole request head, positive (408 beyond)")
	fs.DurationVar(&o.IdleTimeout, "idle-timeout", o.IdleTimeout, "keep-alive wait for the next request, positive")
	fs.DurationVar(&o.BodyTimeout, "body-timeout", o.BodyTimeout, "time the body may stall, positive (408 beyond)")
	fs.StringVar(&o.Faults, "fault", o.Faults, "comma-separated deliberate bugs, for proving checks fail: "+strings.Join(FaultNames(), ", "))
}

// faultHelp describes every fault -fault accepts, the engine's and the process faults, by name.
func faultHelp() map[string]string {
	m := h1.FaultHelp()
	maps.Copy(m, ProcessFaults)
	return m
}

// FaultNames lists every fault name -fault accepts, sorted.
func FaultNames() []string {
	return slices.Sorted(maps.Keys(faultHelp()))
}

// procFaults are the process faults switched on.
type procFaults struct {
	leakFD, noReap, lingerChild bool
}

// splitFaults validates the list and splits it into the process faults and the engine's
// (HTTP) faults, as a list for the engine; a child gets only the engine's list.
func splitFaults(list string) (procFaults, string, error) {
	var pf procFaults
	var engine []string
	help := faultHelp()
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		switch _, known := help[name]; {
		case name == "":
		case !known:
			return procFaults{}, "", fmt.Errorf("-fault %q: unknown fault %q; known faults: %s", list, name, strings.Join(FaultNames(), ", "))
		case name == "leak-fd":
			pf.leakFD = true
		case name == "no-reap":
			pf.noReap = true
		case name == "linger-child":
			pf.lingerChild = true
		default:
			engine = append(engine, name)
		}
	}
	f, err := h1.ParseFaults(strings.Join(engine, ","))
	if err != nil { // a name in the engine's help it does not parse: cannot happen
		return procFaults{}, "", fmt.Errorf("-fault %q: %v", list, err)
	}
	return pf, f.String(), nil
}

// validate checks the options and returns the process faults and the engine's fault list.
func (o *Options) validate() (procFaults, string, error) {
	if !slices.Contains(Modes, o.Mode) {
		return procFaults{}, "", fmt.Errorf("-mode %q: want one of %s", o.Mode, strings.Join(Modes, ", "))
	}
	// The engine takes 0 for "the default", so 0 is refused here rather than quietly
	// becoming 8 MiB or 10s; only -grace 0 means what it says (no grace).
	for _, c := range []struct {
		name string
		v    int64
		min  int64
		dur  bool
	}{
		{"backlog", int64(o.Backlog), 1, false}, {"max-children", int64(o.MaxChildren), 1, false},
		{"workers", int64(o.Workers), 1, false}, {"max-request-line", int64(o.MaxRequestLine), 16, false},
		{"max-header-bytes", int64(o.MaxHeaderBytes), 16, false}, {"max-header-fields", int64(o.MaxHeaderFields), 1, false},
		{"max-body", o.MaxBody, 1, false}, {"grace", int64(o.Grace), 0, true},
		{"header-timeout", int64(o.HeaderTimeout), 1, true}, {"idle-timeout", int64(o.IdleTimeout), 1, true},
		{"body-timeout", int64(o.BodyTimeout), 1, true},
	} {
		if c.v >= c.min {
			continue
		}
		v := strconv.FormatInt(c.v, 10)
		if c.dur {
			v = time.Duration(c.v).String()
		}
		if c.min == 1 {
			return procFaults{}, "", fmt.Errorf("-%s %s: must be positive", c.name, v)
		}
		return procFaults{}, "", fmt.Errorf("-%s %s: must be at least %d", c.name, v, c.min)
	}
	return splitFaults(o.Faults)
}

// childConf is what a child process needs from the parent's options, passed in one
// environment variable so the child parses no flags.
type childConf struct {
	maxRequestLine, maxHeaderBytes, maxHeaderFields int
	maxBody                                         int64
	headerTimeout, idleTimeout, bodyTimeout         time.Duration
	faults                                          string // engine faults
	verbose, lingerChild                            bool
}

func (c childConf) encode() string {
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	return strings.Join([]string{
		strconv.Itoa(c.maxRequestLine), strconv.Itoa(c.maxHeaderBytes), strconv.Itoa(c.maxHeaderFields),
		strconv.FormatInt(c.maxBody, 10), strconv.FormatInt(int64(c.headerTimeout), 10),
		strconv.FormatInt(int64(c.idleTimeout), 10), strconv.FormatInt(int64(c.bodyTimeout), 10),
		b(c.verbose), b(c.lingerChild), c.faults,
	}, ";")
}

func decodeChildConf(s string) (childConf, error) {
	f := strings.Split(s, ";")
	if len(f) != 10 {
		return childConf{}, fmt.Errorf("child config %q: %d fields; want 10", s, len(f))
	}
	var n [7]int64
	for i := range n {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return childConf{}, fmt.Errorf("child config %q: field %d: %v", s, i, err)
		}
		n[i] = v
	}
	return childConf{
		maxRequestLine: int(n[0]), maxHeaderBytes: int(n[1]), maxHeaderFields: int(n[2]), maxBody: n[3],
		headerTimeout: time.Duration(n[4]), idleTimeout: time.Duration(n[5]), bodyTimeout: time.Duration(n[6]),
		verbose: f[7] == "1", lingerChild: f[8] == "1", faults: f[9],
	}, nil
}

// engineConfig builds the engine's configuration.
func (c childConf) engineConfig(log *slog.Logger) (h1.Config, error) {
	cfg := h1.DefaultConfig()
	cfg.MaxRequestLine = c.maxRequestLine
	cfg.MaxHeaderBytes = c.maxHeaderBytes
	cfg.MaxHeaderFields = c.maxHeaderFields
	cfg.MaxBody = c.maxBody
	cfg.HeaderTimeout = c.headerTimeout
	cfg.IdleTimeout = c.idleTimeout
	cfg.BodyTimeout = c.bodyTimeout
	cfg.Verbose = c.verbose
	cfg.Log = log
	f, err := h1.ParseFaults(c.faults)
	if err != nil {
		return cfg, err
	}
	cfg.Faults = f
	return cfg, nil
}

func (o *Options) childConf(engineFaults string, pf procFaults) childConf {
	return childConf{
		maxRequestLine: o.MaxRequestLine, maxHeaderBytes: o.MaxHeaderBytes, maxHeaderFields: o.MaxHeaderFields,
		maxBody: o.MaxBody, headerTimeout: o.HeaderTimeout, idleTimeout: o.IdleTimeout, bodyTimeout: o.BodyTimeout,
		faults: engineFaults, verbose: o.Verbose, lingerChild: pf.lingerChild,
	}
}
