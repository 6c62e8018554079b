package conformance

import (
	"context"
	"strings"
	"time"

	"github.com/forkproof/forkproof/hygiene"
)

// Hygiene after stress: the scenarios that stress a server's processes (resets, backlog
// overflow) take a baseline first and judge the process tree after, and the hygiene/... checks
// below stress it themselves. Everything is judged against the target's own baseline: a
// prefork pool that stays the same size is not a leak.

// stressSettle is how long numbers may take to come back after a stress. Other cases run at
// the same time and hold connections (and, in a forking server, children) for up to a couple
// of seconds; polling stops as soon as the numbers are back. It is the default of
// Options.stressSettle (Env.settleAfterStress), which tests of failing targets shorten.
const stressSettle = 5 * time.Second

// settleAfterStress is how long numbers may take to come back after a stress in this run:
// stressSettle unless the run's options shortened it.
func (env *Env) settleAfterStress() time.Duration {
	if env.stressSettle > 0 {
		return env.stressSettle
	}
	return stressSettle
}

// stressBaseline takes the target's baseline before a stress (see hygiene.Baseline); nil when the
// PID is unknown.
func stressBaseline(ctx context.Context, env *Env) (*hygiene.Snapshot, error) {
	if env.Target.PID <= 0 {
		return nil, nil
	}
	s, err := hygiene.Baseline(ctx, env.Target, hygiene.Options{})
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// afterStress judges the process tree after a stress that began after base was taken:
// zombies, fd growth and children born since that are still alive. It returns what is wrong ("" when
// nothing) and a summary of the numbers. The checks poll side by side, so a target failing
// several of them costs one settle period, not one each.
// more makes further connections of the stress's kind for the pool test (see hygiene.LingeringAfter).
func afterStress(ctx context.Context, env *Env, base *hygiene.Snapshot, more hygiene.MoreConns) (wrong, numbers string) {
	if base == nil {
		return "", "hygiene not checked (PID unknown)"
	}
	var lw, ln string
	lingered := make(chan struct{})
	go func() {
		defer close(lingered)
		lw, ln = hygiene.LingeringAfter(ctx, env.Target.PID, *base, env.settleAfterStress(), more)
	}()
	var problems []string
	for _, r := range hygiene.CheckHygiene(ctx, env.Target, *base, hygiene.Options{Settle: env.settleAfterStress()}) {
		if r.Verdict != "pass" {
			problems = append(problems, r.ID+": "+r.Detail)
		} else {
			numbers += r.Detail + "; "
		}
	}
	<-lingered
	if lw != "" {
		problems = append(problems, "hygiene/lingering-children: "+lw)
	} else {
		numbers += ln
	}
	return strings.Join(problems, "; "), strings.TrimSuffix(numbers, "; ")
}
