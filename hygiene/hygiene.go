// Package hygiene measures a target's process tree — open descriptors by kind, children,
// zombies, CPU, threads and memory — and judges it against the target's own baseline: after
// a run (CheckHygiene) and after a stress (LingeringAfter, IdleCPU). It knows nothing of cases
// or runs; package conformance turns its judgements into results.
package hygiene

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/forkproof/forkproof/internal/proc"
	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/targets"
)

// Policy is what every hygiene judgement assumes; no RFC sentence speaks of processes.
const Policy = "Hygiene is judged against the target's own baseline, taken after a warm-up request once its numbers hold still. A zombie is a child that stays in state Z, under the same PID, for the zombie grace (half the settle period, at least 1.5 s): a child reaped and replaced is not the same zombie. Open fds of the root process may end at most the tolerance above baseline. Children born during a stress must exit within the settle bound (5 s), unless 12 more connections made one at a time leave fewer than 3 new children alive: a pool within its own bounds serves them with the workers it has and is not a leak; children that grow with connections are. A zombie, a leaked fd or a leaked child fails (PRODUCT.md: a hygiene failure)."

// ZombiesMeta is the catalogue entry of the end-of-run zombie check; like the fd check it is
// judged against the target's own baseline.
var ZombiesMeta = spec.Meta{
	ID:          "hygiene/zombies",
	Category:    spec.Hygiene,
	Level:       spec.None,
	Title:       "no zombie children remain after the run",
	Requirement: "A server that forks must reap its children (SIGCHLD + waitpid); a child that stays a zombie past the settle period is a leak.",
	Outcomes:    []string{"no child of the target stays in state Z (same PID) for the zombie grace once the run has settled"},
	Policy:      Policy,
}

// fdLeakMeta is the catalogue entry of the end-of-run fd check with tolerance tol. It is a
// function, not a package variable, so the fmt.Sprintf is not paid in init by every child
// that serve -mode fork re-executes.
func fdLeakMeta(tol int) spec.Meta {
	return spec.Meta{
		ID:          "hygiene/fd-leak",
		Category:    spec.Hygiene,
		Level:       spec.None,
		Title:       "the target's open descriptors return to their baseline",
		Requirement: "The parent must close its copy of every accepted connection and every other descriptor it opens per request; its fd count must come back to the warm-up baseline.",
		Outcomes:    []string{fmt.Sprintf("open fds of the root process at most baseline + %d once the run has settled", tol)},
		Policy:      Policy,
	}
}

// Metas lists the hygiene checks judged at the end of every run against its baseline (with
// the default fd tolerance), in the order CheckHygiene judges them.
func Metas() []spec.Meta { return []spec.Meta{ZombiesMeta, fdLeakMeta(DefaultFDTolerance)} }

// DefaultFDTolerance is how many fds above baseline a target may hold after the run: servers
// legitimately open a log, a timer or an epoll instance lazily.
const DefaultFDTolerance = 4

// Snapshot is a picture of a target's process tree at one moment.
type Snapshot struct {
	PID      int
	FDs      int            // open fds of the root process
	FDKinds  map[string]int // fds by kind: socket, pipe, file, anon, other
	Children []int          // direct children, live or zombie
	Zombies  []int          // children in state Z
}

// TakeSnapshot reads /proc for pid: its fds by kind, its children and which are zombies.
func TakeSnapshot(pid int) (Snapshot, error) {
	s := Snapshot{PID: pid}
	kinds, n, err := FDKinds(pid)
	if err != nil {
		return s, err
	}
	s.FDs, s.FDKinds = n, kinds
	if s.Children, err = Children(pid); err != nil {
		return s, err
	}
	for _, c := range s.Children {
		if isZombie(c) {
			s.Zombies = append(s.Zombies, c)
		}
	}
	return s, nil
}

// FDKinds counts the open fds of pid by kind ("socket", "pipe", "file", "anon", "other") and
// returns the total.
func FDKinds(pid int) (map[string]int, int, error) {
	fds, err := proc.FDs(pid) // leaves out fds closed while it looks
	if err != nil {
		return nil, 0, fmt.Errorf("reading fds: %w", err)
	}
	kinds := map[string]int{}
	for _, fd := range fds {
		kinds[fdKind(fd.Target)]++
	}
	return kinds, len(fds), nil
}

func fdKind(link string) string {
	switch {
	case strings.HasPrefix(link, "socket:"):
		return "socket"
	case strings.HasPrefix(link, "pipe:"):
		return "pipe"
	case strings.HasPrefix(link, "anon_inode:"):
		return "anon"
	case strings.HasPrefix(link, "/"):
		return "file"
	default:
		return "other"
	}
}

// Children lists the direct children of pid (live or zombie), read from
// /proc/PID/task/*/children, or by scanning every process's parent when the kernel lacks it.
func Children(pid int) ([]int, error) { return proc.Children(pid) }

func isZombie(pid int) bool {
	st, err := proc.ReadStat(pid)
	return err == nil && st.State == 'Z'
}

// Options tunes the end-of-run checks; zero values take the defaults.
type Options struct {
	FDTolerance int           // default DefaultFDTolerance
	Settle      time.Duration // how long to wait for the numbers to settle; default 2s
	Poll        time.Duration // polling interval; default 20ms
}

// WithDefaults returns o with its zero values replaced by the defaults.
func (o Options) WithDefaults() Options {
	if o.FDTolerance <= 0 {
		o.FDTolerance = DefaultFDTolerance
	}
	if o.Settle <= 0 {
		o.Settle = 2 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 20 * time.Millisecond
	}
	return o
}

// WarmUp sends one GET / on its own connection and reads the answer until the server closes
// or timeout passes, so the baseline includes whatever the server opens lazily.
func WarmUp(ctx context.Context, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("warm-up request: %v", err)
	}
	defer c.Close()
	deadline, _ := ctx.Deadline()
	c.SetDeadline(deadline)
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: " + addr + "\r\nConnection: close\r\n\r\n")); err != nil {
		return fmt.Errorf("warm-up request: %v", err)
	}
	buf := make([]byte, 4096)
	for {
		if _, err := c.Read(buf); err != nil {
			return nil // EOF, reset or deadline: the request was served or the server is slow
		}
	}
}

// baselineSettle bounds the wait for a baseline; it also bounds the warm-up connect, which may
// meet a full backlog (robust/backlog) and wait for a SYN retransmission.
const baselineSettle = 3 * time.Second

// baselineSteady is how long the numbers must stay unchanged for a baseline with zombies in
// it to be taken: a server that never reaps keeps its zombies, and waiting for them to go
// would only delay every scenario by baselineSettle.
const baselineSteady = 300 * time.Millisecond

// Baseline warms the target up and takes its baseline snapshot once the warm-up connection
// is fully handled: polling every opts.Poll until the fd count holds still with no zombie (two
// polls in a row), or fds and zombies have held still for baselineSteady (a server that never
// reaps keeps its zombies, and waiting for them to go would only delay the run), or
// baselineSettle passes. The run's baseline and every stressing scenario's take it this way.
func Baseline(ctx context.Context, t *targets.Target, opts Options) (Snapshot, error) {
	opts = opts.WithDefaults()
	opts.Settle = baselineSettle
	if t.PID <= 0 {
		return Snapshot{}, fmt.Errorf("the target's PID is unknown")
	}
	if err := WarmUp(ctx, t.Addr, baselineSettle); err != nil {
		return Snapshot{}, fmt.Errorf("taking the baseline: %v", err)
	}
	var prev Snapshot
	var steadySince time.Time
	s, err := settle(ctx, t.PID, opts, func(s Snapshot) bool {
		defer func() { prev = s }()
		if prev.PID == 0 || s.FDs != prev.FDs || len(s.Zombies) != len(prev.Zombies) {
			steadySince = time.Now()
			return false
		}
		return len(s.Zombies) == 0 || time.Since(steadySince) >= baselineSteady
	})
	if err != nil {
		return s, fmt.Errorf("taking the baseline: %v", err)
	}
	return s, nil
}

// settle polls snapshots until done says so or opts.Settle passes; it returns the last one.
func settle(ctx context.Context, pid int, opts Options, done func(Snapshot) bool) (Snapshot, error) {
	deadline := time.Now().Add(opts.Settle)
	tick := time.NewTicker(opts.Poll)
	defer tick.Stop()
	for {
		s, err := TakeSnapshot(pid)
		if err != nil {
			return s, err
		}
		if done(s) || time.Now().After(deadline) {
			return s, nil
		}
		select {
		case <-ctx.Done():
			return s, nil
		case <-tick.C:
		}
	}
}

// zombieGrace is how long a child may stay a zombie before it is a leak: half the settle
// period, at least 1.5 s (a server that reaps in a once-a-second maintenance loop, as Apache
// does, leaves each exited child Z for up to a second).
func zombieGrace(settle time.Duration) time.Duration {
	return max(settle/2, 1500*time.Millisecond)
}

// Judgement is one hygiene check's verdict on a target (package conformance makes it a
// Result).
type Judgement struct {
	spec.Meta
	Verdict  spec.Verdict
	Detail   string
	Duration time.Duration
}

// CheckHygiene judges the target against its baseline after a run: it polls until there is
// no zombie and the fd count is within tolerance, or Settle passes, then gives one Judgement
// for zombies and one for fds. Without a PID (or baseline) both are skipped.
func CheckHygiene(ctx context.Context, t *targets.Target, base Snapshot, opts Options) []Judgement {
	opts = opts.WithDefaults()
	start := time.Now()
	z := Judgement{Meta: ZombiesMeta}
	f := Judgement{Meta: fdLeakMeta(opts.FDTolerance)}
	if t == nil || t.PID <= 0 || base.PID != t.PID {
		for _, r := range []*Judgement{&z, &f} {
			r.Verdict, r.Detail = spec.Skip, "the target's PID is unknown (give -pid, or let forkproof launch the target)"
		}
		return []Judgement{z, f}
	}
	// A zombie is tracked by PID: a pool that retires workers shows a zombie now and then,
	// each reaped within a moment; only one that stays Z for the grace is a leak.
	grace := zombieGrace(opts.Settle)
	firstZ := map[int]time.Time{}
	stale := func(s Snapshot, now time.Time) []int {
		var old []int
		for _, z := range s.Zombies {
			if now.Sub(firstZ[z]) >= grace {
				old = append(old, z)
			}
		}
		return old
	}
	opts.Settle = max(opts.Settle, grace+opts.Settle/4)
	done := func(s Snapshot) bool {
		now := time.Now()
		seen := map[int]bool{}
		for _, z := range s.Zombies {
			seen[z] = true
			if _, ok := firstZ[z]; !ok {
				firstZ[z] = now
			}
		}
		for z := range firstZ {
			if !seen[z] {
				delete(firstZ, z) // reaped: a later zombie with this PID is another child
			}
		}
		// Done once the fds are back and every zombie left is either gone or already stale.
		return s.FDs <= base.FDs+opts.FDTolerance && len(stale(s, now)) == len(s.Zombies)
	}
	after, err := settle(ctx, t.PID, opts, done)
	if err == nil && len(stale(after, time.Now())) < len(after.Zombies) {
		// Children that became zombies late in the settle period (a loaded machine finishes
		// the last connections late) get their whole grace too, or they would pass unseen.
		late := opts
		late.Settle = grace + opts.Poll
		after, err = settle(ctx, t.PID, late, done)
	}
	elapsed := time.Since(start)
	z.Duration, f.Duration = elapsed, elapsed
	if err != nil {
		for _, r := range []*Judgement{&z, &f} {
			r.Verdict, r.Detail = spec.Fail, fmt.Sprintf("could not inspect the target after the run (did it die?): %v", err)
		}
		return []Judgement{z, f}
	}
	settled := fmt.Sprintf("after settling up to %v", opts.Settle)
	if leaked := stale(after, time.Now()); len(leaked) > 0 {
		z.Verdict = spec.Fail
		z.Detail = fmt.Sprintf("%d zombie children stayed Z for %v or more %s (baseline %d zombies, tolerance 0): pids %s",
			len(leaked), grace, settled, len(base.Zombies), PIDList(leaked, 10))
	} else {
		z.Verdict = spec.Pass
		z.Detail = fmt.Sprintf("no zombie children (%d live children; baseline %d", len(after.Children)-len(after.Zombies), len(base.Children))
		if n := len(after.Zombies); n > 0 {
			z.Detail += fmt.Sprintf("; %d child(ren) Z for less than %v, being reaped", n, grace)
		}
		z.Detail += ")"
	}
	growth := after.FDs - base.FDs
	if growth > opts.FDTolerance {
		f.Verdict = spec.Fail
		f.Detail = fmt.Sprintf("open fds: baseline %d, after %d (+%d), tolerance +%d %s; new: %s",
			base.FDs, after.FDs, growth, opts.FDTolerance, settled, KindGrowth(base.FDKinds, after.FDKinds))
	} else {
		f.Verdict = spec.Pass
		f.Detail = fmt.Sprintf("open fds: baseline %d, after %d, tolerance +%d", base.FDs, after.FDs, opts.FDTolerance)
	}
	return []Judgement{z, f}
}

// KindGrowth describes how the fd counts by kind grew from before to after ("socket +50, pipe +1").
func KindGrowth(before, after map[string]int) string {
	kinds := make([]string, 0, len(after))
	for k := range after {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var parts []string
	for _, k := range kinds {
		if d := after[k] - before[k]; d > 0 {
			parts = append(parts, fmt.Sprintf("%s +%d", k, d))
		}
	}
	if len(parts) == 0 {
		return "none by kind"
	}
	return strings.Join(parts, ", ")
}

// PIDList lists pids, at most max of them, saying how many more there are.
func PIDList(pids []int, max int) string {
	var s []string
	for i, p := range pids {
		if i == max {
			s = append(s, fmt.Sprintf("… (%d more)", len(pids)-max))
			break
		}
		s = append(s, strconv.Itoa(p))
	}
	return strings.Join(s, " ")
}
