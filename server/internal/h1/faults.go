package h1

import (
	"fmt"
	"sort"
	"strings"
)

// Faults are deliberate bugs, switched on by name, so forkproof can prove its checks fail.
// These are the engine's (HTTP) faults; the faults of the process side (leak-fd, no-reap, ...)
// belong to the server package, which accepts both kinds in one -fault list.
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
}

type faultDef struct {
	name, help string
	field      func(*Faults) *bool
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

func lookup(name string) *faultDef {
	for i := range httpFaults {
		if httpFaults[i].name == name {
			return &httpFaults[i]
		}
	}
	return nil
}

// FaultNames returns the names of the engine's faults, sorted.
func FaultNames() []string {
	h := FaultHelp()
	names := make([]string, 0, len(h))
	for n := range h {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// FaultHelp returns a one-line description of each of the engine's faults, by name (a new map
// on each call: the caller may add to it).
func FaultHelp() map[string]string {
	m := make(map[string]string, len(httpFaults))
	for _, d := range httpFaults {
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
		d := lookup(name)
		if d == nil {
			return Faults{}, fmt.Errorf("unknown fault %q; known faults: %s", name, strings.Join(FaultNames(), ", "))
		}
		*d.field(&f) = true
	}
	return f, nil
}

// Has reports whether the fault called name is switched on (false for a name that is not one
// of the engine's faults).
func (f *Faults) Has(name string) bool {
	if d := lookup(name); d != nil {
		return *d.field(f)
	}
	return false
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
	sort.Strings(on)
	return strings.Join(on, ",")
}
