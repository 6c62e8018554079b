package server

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forkproof/forkproof/server/internal/h1"
)

func TestValidateRefusesZeroLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(o *Options)
		want string
	}{
		{"max-body", func(o *Options) { o.MaxBody = 0 }, "-max-body 0: must be positive"},
		{"header-timeout", func(o *Options) { o.HeaderTimeout = 0 }, "-header-timeout 0s: must be positive"},
		{"idle-timeout", func(o *Options) { o.IdleTimeout = 0 }, "-idle-timeout 0s: must be positive"},
		{"body-timeout", func(o *Options) { o.BodyTimeout = -time.Second }, "-body-timeout -1s: must be positive"},
		{"workers", func(o *Options) { o.Workers = 0 }, "-workers 0: must be positive"},
		{"max-request-line", func(o *Options) { o.MaxRequestLine = 15 }, "-max-request-line 15: must be at least 16"},
		{"grace", func(o *Options) { o.Grace = -time.Second }, "-grace -1s: must be at least 0"},
	} {
		o := DefaultOptions()
		tc.set(&o)
		_, _, err := o.validate()
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: validate() = %v; want %q", tc.name, err, tc.want)
		}
	}
	o := DefaultOptions()
	o.Grace = 0 // no grace period is a real setting, not a stand-in for the default
	if _, _, err := o.validate(); err != nil {
		t.Errorf("-grace 0: %v; want it accepted", err)
	}
}

// TestSplitFaults: the process faults stay with the parent; the child's list holds only the
// engine's faults, which the engine parses on its own.
func TestSplitFaults(t *testing.T) {
	pf, engine, err := splitFaults("linger-child, no-date,leak-fd,no-reap")
	if err != nil {
		t.Fatal(err)
	}
	if pf != (procFaults{leakFD: true, noReap: true, lingerChild: true}) || engine != "no-date" {
		t.Errorf("splitFaults = %+v, %q; want all three process faults and engine list \"no-date\"", pf, engine)
	}

	_, _, err = splitFaults("leak-fd,nonsense")
	if err == nil {
		t.Fatal("splitFaults(leak-fd,nonsense): no error")
	}
	for _, name := range []string{"nonsense", "leak-fd", "no-reap", "linger-child", "smuggle-cl"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %q", err, name)
		}
	}
}

// TestFaultNames: -fault accepts the engine's faults and the process faults, and no name is
// both (splitFaults would take it for a process fault, and the engine would never see it).
func TestFaultNames(t *testing.T) {
	engine := h1.FaultNames()
	for name := range ProcessFaults {
		if slices.Contains(engine, name) {
			t.Errorf("fault %q is both a process fault and the engine's", name)
		}
	}
	if got, want := len(FaultNames()), len(engine)+len(ProcessFaults); got != want {
		t.Errorf("FaultNames() = %q: %d names; want %d", FaultNames(), got, want)
	}
	if !slices.IsSorted(FaultNames()) {
		t.Errorf("FaultNames() = %q; want them sorted", FaultNames())
	}
	for _, name := range FaultNames() {
		pf, list, err := splitFaults(name)
		if err != nil || (pf == procFaults{}) == (list == "") {
			t.Errorf("splitFaults(%q) = %+v, %q, %v; want it switched on on exactly one side", name, pf, list, err)
		}
	}
}
