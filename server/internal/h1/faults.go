package h1

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Faults are deliberate bugs, switched on by name, so forkproof can prove its checks fail.
// The HTTP faults are fields; faults of the process side (leak-fd, no-reap, ...) are
// registered by their owner with RegisterFault and land in Other.
type Faults struct {
	SmuggleCL      bool // smuggle-cl
	NoHostCheck    bool // no-host-check
	HeadBody       bool // head-body
	NoDate         bool // no-date
	LenientWS      bool // lenient-ws
	BareLF         bool // bare-lf
	OneRecv        bool // one-recv
	IgnoreClose    bool // ignore-close
	NoTimeout      bool // no-timeout
	DropPipelined  bool // drop-pipelined
	BadChunked     bool // bad-chunked
	No100          bool // no-100
	WrongLength    bool // wrong-length
	SpinAfterReset bool // spin-after-reset

	// Other holds the registered faults of other packages that are switched on.
	Other map[string]bool
}

type faultDef struct {
	name, help string
	field      func(*Faults) *bool // nil for registered faults
}

var httpFaults = []faultDef{
	{"smuggle-cl", "accept Content-Length together with Transfer-Encoding and frame by Content-Length", func(f *Faults) *bool { return &f.SmuggleCL }},
	{"no-host-check", "accept a missing, duplicate or invalid Host", func(f *Faults) *bool { return &f.NoHostCheck }},
	{"head-body", "send the body in responses to HEAD", func(f *Faults) *bool { return &f.HeadBody }},
	{"no-date", "omit the Date header", func(f *Faults) *bool { return &f.NoDate }},
	{"lenient-ws", "accept whitespace between field name and colon, and obs-fold", func(f *Faults) *bool { return &f.LenientWS }},
	{"bare-lf", "accept a bare LF as line terminator", func(f *Faults) *bool { return &f.BareLF }},
	{"one-recv", "read the request with one read of up to 1024 bytes and answer whatever arrived, then close", func(f *Faults) *bool { return &f.OneRecv }},
	{"ignore-close", "keep the connection open after Connection: close", func(f *Faults) *bool { return &f.IgnoreClose }},
	{"no-timeout", "never time out header, body or idle reads", func(f *Faults) *bool { return &f.NoTimeout }},
	{"drop-pipelined", "discard bytes buffered after the first request of a read", func(f *Faults) *bool { return &f.DropPipelined }},
	{"bad-chunked", "accept invalid chunk sizes (ignore a non-hex suffix, whitespace)", func(f *Faults) *bool { return &f.BadChunked }},
	{"no-100", "ignore Expect: 100-continue (wait for the body without sending 100)", func(f *Faults) *bool { return &f.No100 }},
	{"wrong-length", "send a Content-Length one larger than the body", func(f *Faults) *bool { return &f.WrongLength }},
	{"spin-after-reset", "after a read/write error such as ECONNRESET, burn CPU for ~10s before exiting", func(f *Faults) *bool { return &f.SpinAfterReset }},
}

var (
	regMu      sync.Mutex
	registered []faultDef
)

// RegisterFault adds a fault owned by another package (e.g. the process side's "leak-fd"),
// so that one -fault flag carries all of them. Call it from init. Registering a name twice,
// or one of the HTTP faults, panics: it is a programming error found at start-up.
func RegisterFault(name, help string) {
	regMu.Lock()
	defer regMu.Unlock()
	if lookupLocked(name) != nil {
		panic("h1: fault " + name + " registered twice")
	}
	registered = append(registered, faultDef{name: name, help: help})
}

func lookupLocked(name string) *faultDef {
	for i := range httpFaults {
		if httpFaults[i].name == name {
			return &httpFaults[i]
		}
	}
	for i := range registered {
		if registered[i].name == name {
			return &registered[i]
		}
	}
	return nil
}

// FaultNames returns the names of every known fault, sorted.
func FaultNames() []string {
	h := FaultHelp()
	names := make([]string, 0, len(h))
	for n := range h {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// FaultHelp returns a one-line description of every known fault, by name.
func FaultHelp() map[string]string {
	regMu.Lock()
	defer regMu.Unlock()
	m := make(map[string]string, len(httpFaults)+len(registered))
	for _, d := range httpFaults {
		m[d.name] = d.help
	}
	for _, d := range registered {
		m[d.name] = d.help
	}
	return m
}

// ParseFaults parses a comma-separated list of fault names ("a,b,c"; spaces and empty
// elements are ignored). An unknown name is an error that lists the known ones.
func ParseFaults(list string) (Faults, error) {
	var f Faults
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		regMu.Lock()
		d := lookupLocked(name)
		regMu.Unlock()
		switch {
		case d == nil:
			return Faults{}, fmt.Errorf("unknown fault %q; known faults: %s", name, strings.Join(FaultNames(), ", "))
		case d.field != nil:
			*d.field(&f) = true
		default:
			if f.Other == nil {
				f.Other = map[string]bool{}
			}
			f.Other[name] = true
		}
	}
	return f, nil
}

// Has reports whether the fault called name is switched on.
func (f *Faults) Has(name string) bool {
	for _, d := range httpFaults {
		if d.name == name {
			return *d.field(f)
		}
	}
	return f.Other[name]
}

// String returns the switched-on faults as a list ParseFaults accepts (for passing them to a
// child process), sorted by name.
func (f Faults) String() string {
	var on []string
	for _, d := range httpFaults {
		if *d.field(&f) {
			on = append(on, d.name)
		}
	}
	for n, v := range f.Other {
		if v {
			on = append(on, n)
		}
	}
	sort.Strings(on)
	return strings.Join(on, ",")
}
