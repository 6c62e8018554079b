package hygiene

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/forkproof/forkproof/internal/proc"
)

// The process tree after a stress: which children born during it outlive it
// (LingeringAfter, telling a pool from a leak), whether the tree idles (IdleCPU), and the root's
// threads and memory (ThreadsRSS). The caller stresses the target and chooses how long the
// numbers may take to come back.

// child is one child process as seen in /proc.
type child struct {
	PID   int
	State string
	CPU   float64 // seconds of CPU used so far
}

// liveChildren lists the children of pid that are not zombies, with their start times.
func liveChildren(pid int) ([]child, error) {
	kids, err := Children(pid)
	if err != nil {
		return nil, err
	}
	var out []child
	for _, k := range kids {
		st, err := proc.ReadStat(k)
		if err != nil || st.State == 'Z' || st.State == 'X' {
			continue // gone or dead
		}
		out = append(out, child{PID: k, State: string(st.State), CPU: st.CPUTime()})
	}
	return out, nil
}

// MoreConns makes n more connections of the kind a stress made, one at a time, and says how
// many were served (reached the point the stress aimed at). LingeringAfter uses it to tell a
// pool from a leak.
type MoreConns func(ctx context.Context, n int) (served int)

// PoolProbeConns is how many connections, one at a time, the pool test makes; a target left
// with PoolGrowthLimit or more children born during them grows with connections: a leak.
const (
	PoolProbeConns  = 12
	PoolGrowthLimit = PoolProbeConns / 4
)

// MaxSettles bounds how many settle periods LingeringAfter waits while children keep leaving.
const MaxSettles = 4

// LingeringAfter polls until no child born since the baseline is alive beyond the baseline's
// number of children, or settle passes. A pool that keeps its size (prefork, including workers
// that were replaced) is not lingering: only growth over the baseline is. Children are told
// apart by PID, not start time: /proc's boot time has a resolution of one second.
//
// Children still there after settle may be a pool that grew under the stress and shrinks at
// its own pace (Apache prefork retires one idle worker a second): when more is given, the
// target is asked for PoolProbeConns more connections of the same kind, one at a time. A pool
// serves them with the workers it has; a server whose children outlive their connections is
// left with about one new child for each. Only growth that scales so is a leak.
func LingeringAfter(ctx context.Context, pid int, base Snapshot, settle time.Duration, more MoreConns) (wrong, numbers string) {
	baseLive := len(base.Children) - len(base.Zombies)
	old := map[int]bool{}
	for _, c := range base.Children {
		old[c] = true
	}
	deadline := time.Now().Add(settle)
	waited := settle
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	peak, before := 0, -1 // before: young children at the start of this settle period
	for {
		live, err := liveChildren(pid)
		if err != nil {
			return fmt.Sprintf("cannot read the target's children (did it die?): %v", err), ""
		}
		peak = max(peak, len(live))
		var young []child
		for _, c := range live {
			if !old[c.PID] {
				young = append(young, c)
			}
		}
		if len(young) == 0 || len(live) <= baseLive {
			return "", fmt.Sprintf("live children: baseline %d, after %d", baseLive, len(live))
		}
		if before < 0 {
			before = len(young)
		}
		if time.Now().After(deadline) && len(young) < before && waited < MaxSettles*settle && ctx.Err() == nil {
			// Children are still leaving (a starved machine slows their exit): judge
			// progress, not an instant; another settle period while their number falls.
			before, deadline, waited = len(young), time.Now().Add(settle), waited+settle
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			stayed := fmt.Sprintf("%d children born during the stress are still alive %v after it (live children: baseline %d, peak %d, after %d)",
				len(young), waited, baseLive, peak, len(live))
			if more == nil || ctx.Err() != nil {
				return stayed + ": " + describeChildren(young, 8), ""
			}
			return judgePool(ctx, pid, more, settle, stayed, young)
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

// judgePool makes more connections one at a time against a target and says whether they
// left children of their own alive (a leak: about one per connection) or were served by the
// children already there (a pool). Children born before the probe are not counted: a fork
// server whose earlier children are still on their way out would otherwise look like a pool
// shrinking.
func judgePool(ctx context.Context, pid int, more MoreConns, settle time.Duration, stayed string, young []child) (wrong, numbers string) {
	before := map[int]bool{}
	live, err := liveChildren(pid)
	if err != nil {
		return fmt.Sprintf("cannot read the target's children (did it die?): %v", err), ""
	}
	for _, c := range live {
		before[c.PID] = true
	}
	served := more(ctx, PoolProbeConns)
	if served < PoolProbeConns/2 {
		return fmt.Sprintf("%s; only %d of %d further connections were served, so a pool cannot be told from a leak: %s",
			stayed, served, PoolProbeConns, describeChildren(young, 8)), ""
	}
	// The children of the last connections may take a moment to exit: poll until fewer than
	// the limit are left or settle passes.
	deadline := time.Now().Add(settle)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		live, err := liveChildren(pid)
		if err != nil {
			return fmt.Sprintf("cannot read the target's children (did it die?): %v", err), ""
		}
		var born []child
		for _, c := range live {
			if !before[c.PID] {
				born = append(born, c)
			}
		}
		if len(born) < PoolGrowthLimit {
			return "", fmt.Sprintf("%s, a pool: %d more connections one at a time left %d new children alive (limit %d) and %d live in all — it does not grow with connections",
				stayed, served, len(born), PoolGrowthLimit, len(live))
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Sprintf("%s, and %d more connections one at a time left %d new children alive %v after (limit %d): children that grow with the connections made: %s",
				stayed, served, len(born), settle, PoolGrowthLimit, describeChildren(born, 8)), ""
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

func describeChildren(cs []child, max int) string {
	sort.Slice(cs, func(i, j int) bool { return cs[i].CPU > cs[j].CPU })
	var parts []string
	for i, c := range cs {
		if i == max {
			parts = append(parts, fmt.Sprintf("… (%d more)", len(cs)-max))
			break
		}
		parts = append(parts, fmt.Sprintf("pid %d state %s cpu %.2fs", c.PID, c.State, c.CPU))
	}
	return strings.Join(parts, ", ")
}

// treeCPU returns the CPU seconds used so far by pid and each of its live children.
func treeCPU(pid int) (map[int]float64, error) {
	st, err := proc.ReadStat(pid)
	if err != nil {
		return nil, err
	}
	cpu := map[int]float64{pid: st.CPUTime()}
	live, err := liveChildren(pid)
	if err != nil {
		return nil, err
	}
	for _, c := range live {
		cpu[c.PID] = c.CPU
	}
	return cpu, nil
}

// IdleCPU watches the tree of pid for window. It reports the processes that were runnable
// (some thread in state R) in at least RunnableShare of the samples — a process spinning on a CPU is R even
// when a loaded machine does not schedule it, while an idle one sleeps in a syscall (S) —
// and, for the record, the CPU the tree burned as a fraction of one core.
func IdleCPU(ctx context.Context, pid int, window time.Duration) (busy []int, share float64, err error) {
	before, err := treeCPU(pid)
	if err != nil {
		return nil, 0, err
	}
	t0 := time.Now()
	runnable := map[int]int{}
	samples := 0
	tick := time.NewTicker(window / 15)
	defer tick.Stop()
	for time.Since(t0) < window {
		select {
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		case <-tick.C: // sampling the state, not synchronising
		}
		samples++
		for _, p := range append([]int{pid}, childPIDs(pid)...) {
			if anyThreadRunnable(p) {
				runnable[p]++
			}
		}
	}
	after, err := treeCPU(pid)
	if err != nil {
		return nil, 0, err
	}
	wall := time.Since(t0).Seconds()
	for p, c := range after {
		if b, ok := before[p]; ok {
			share += c - b
		}
	}
	for p, n := range runnable {
		if float64(n) >= RunnableShare*float64(samples) {
			busy = append(busy, p)
		}
	}
	sort.Ints(busy)
	return busy, share / wall, nil
}

// RunnableShare is the share of samples in which a process must be runnable to count as busy.
const RunnableShare = 0.5

// anyThreadRunnable reports whether some thread of pid is runnable: a multi-threaded process
// (a Go server) spins on one thread while its main thread sleeps.
func anyThreadRunnable(pid int) bool {
	threads, err := proc.Threads(pid)
	if err != nil {
		return false
	}
	for _, t := range threads {
		if t.State == 'R' {
			return true
		}
	}
	return false
}

func childPIDs(pid int) []int {
	kids, _ := Children(pid)
	return kids
}

// ThreadsRSS reads the thread count and resident memory of pid.
func ThreadsRSS(pid int) (threads int, rss int, err error) {
	st, err := proc.ReadStat(pid)
	if err != nil {
		return 0, 0, err
	}
	return st.NumThreads, int(st.ResidentMemory()), nil
}
