package conformance

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/forkproof/forkproof/clients"
	"github.com/forkproof/forkproof/hygiene"
	"github.com/forkproof/forkproof/spec"
)

// The hygiene/... checks that stress the target themselves (a burst of normal connections
// and resets at every phase), then look at its processes. hygiene/zombies and hygiene/fd-leak
// are judged at the end of every run (endOfRunCases) and after each stressing scenario.

// endOfRunCases are the hygiene checks judged against the baseline taken before the run: they
// run last, alone, once every other case has left the target (Quiet).
func endOfRunCases() []Case {
	var cs []Case
	for i, m := range hygiene.Metas() {
		cs = append(cs, Case{Meta: m, Needs: []spec.Need{spec.NeedPID}, Schedule: Quiet, Baseline: true,
			Run: func(ctx context.Context, env *Env) Result {
				return judgement(hygiene.CheckHygiene(ctx, env.Target, *env.Baseline, env.Hygiene)[i])
			}})
	}
	return cs
}

// judgement is a hygiene judgement as a case's Result.
func judgement(j hygiene.Judgement) Result {
	return Result{Meta: j.Meta, Verdict: j.Verdict, Detail: j.Detail, Duration: j.Duration}
}

func hygieneCases() []Case {
	pid := []spec.Need{spec.NeedPID}
	return []Case{
		scenario(hygieneMeta("hygiene/lingering-children", "children of closed and reset connections exit",
			"Once every client connection has closed — cleanly or by reset — the children that served them must exit; the number of live children comes back to the baseline (a prefork pool keeps its size and is not a leak).",
			hygiene.Policy,
			fmt.Sprintf("no child born during the stress still alive %v after it, beyond the baseline count (%v more at a time, up to %v, while their number still falls)", stressSettle, stressSettle, hygiene.MaxSettles*stressSettle),
			fmt.Sprintf("children still alive, but %d more connections one at a time leave fewer than %d new children alive (a pool)", hygiene.PoolProbeConns, hygiene.PoolGrowthLimit)),
			pid, runLingering),
		scenario(hygieneMeta("hygiene/idle-cpu", "no process of the target burns CPU when no client is connected",
			"After clients have gone (some by reset), the server and its children must be idle: a child that spins after a read error burns a core for nothing.",
			hygiene.Policy+" A process that spins with no client connected fails too (PRODUCT.md counts children that burn CPU while no client is connected as a leak).",
			fmt.Sprintf("within %v after the stress, a %v window in which no process of the target is runnable (spinning) %.0f%% of the time and the tree uses under %.0f%% of one core", stressSettle, idleWindow, 100*hygiene.RunnableShare, 100*idleShare)),
			pid, runIdleCPU),
		scenario(hygieneMeta("hygiene/threads-rss", "thread count and resident memory of the root process before and after a burst (recorded)",
			"Recorded for information: how many threads and how much memory the root process holds before and after a burst of connections.",
			"Figures only, never judged.",
			"info: the figures"),
			pid, runThreadsRSS),
	}
}

const idleWindow = 300 * time.Millisecond

// idleShare is the share of one core the target's tree may use in an idle window.
const idleShare = 0.5

// stressConns is how many connections the hygiene checks open to stress the target.
const stressConns = 18

// burstConns is how many connections hygiene/threads-rss opens.
const burstConns = 30

// stressMix opens n connections, par at a time: a third served normally, a third reset
// mid-request, a third reset mid-response. It returns how many were served (reached the point
// they aimed at).
func stressMix(ctx context.Context, env *Env, n, par int) (served int) {
	var ok atomic.Int32
	clients.ForEach(ctx, n, par, func(i int) {
		var served bool
		switch i % 3 {
		case 0:
			e := clients.PartialSend(ctx, env.Target.Addr, reqGet(env, "GET", "/", "Connection: close"), nil, 0, env.Timeout)
			served = e.OK()
		case 1:
			served = clients.ResetAt(ctx, env.Target.Addr, resetRequest(env, clients.PhaseMidRequest), clients.PhaseMidRequest, env.Timeout) == nil
		case 2:
			served = clients.ResetAt(ctx, env.Target.Addr, resetRequest(env, clients.PhaseMidResponse), clients.PhaseMidResponse, env.Timeout) == nil
		}
		if served {
			ok.Add(1)
		}
	})
	return int(ok.Load())
}

func runLingering(ctx context.Context, env *Env) Result {
	base, err := stressBaseline(ctx, env)
	if err != nil {
		return judged(spec.Fail, "%v", err)
	}
	stressMix(ctx, env, stressConns, robustPar)
	if ctx.Err() != nil {
		return judged(spec.Skip, "interrupted: %v", ctx.Err())
	}
	wrong, numbers := hygiene.LingeringAfter(ctx, env.Target.PID, *base, env.settleAfterStress(), func(ctx context.Context, n int) int {
		return stressMix(ctx, env, n, 1)
	})
	if wrong != "" {
		return judged(spec.Fail, "after %d connections (a third each: normal, reset mid-request, reset mid-response): %s", stressConns, wrong)
	}
	return judged(spec.Pass, "after %d connections (two thirds reset): %s", stressConns, numbers)
}

func runIdleCPU(ctx context.Context, env *Env) Result {
	if _, err := stressBaseline(ctx, env); err != nil {
		return judged(spec.Fail, "%v", err)
	}
	stressMix(ctx, env, stressConns, robustPar)
	if ctx.Err() != nil {
		return judged(spec.Skip, "interrupted: %v", ctx.Err())
	}
	// Other cases may be loading the target right now: the check passes as soon as one window
	// is idle, and fails only when some process stays busy for the whole settle period.
	deadline := time.Now().Add(env.settleAfterStress())
	for windows := 1; ; windows++ {
		busy, share, err := hygiene.IdleCPU(ctx, env.Target.PID, idleWindow)
		if err != nil {
			if ctx.Err() != nil {
				return judged(spec.Skip, "interrupted: %v", ctx.Err())
			}
			return judged(spec.Fail, "cannot read the target's processes (did it die?): %v", err)
		}
		if len(busy) == 0 && share < idleShare {
			return judged(spec.Pass, "after %d connections (two thirds reset): no process runnable in %.0f%% of a %v window; the tree used %.0f%% of one core",
				stressConns, 100*hygiene.RunnableShare, idleWindow, 100*share)
		}
		if time.Now().After(deadline) {
			return judged(spec.Fail, "after %d connections (two thirds reset), with no client connected, the target stayed busy through %d windows of %v: %d processes runnable (spinning) %s; the tree used %.0f%% of one core in the last window (limit %.0f%%)",
				stressConns, windows, idleWindow, len(busy), hygiene.PIDList(busy, 10), 100*share, 100*idleShare)
		}
	}
}

func runThreadsRSS(ctx context.Context, env *Env) Result {
	if _, err := stressBaseline(ctx, env); err != nil {
		return judged(spec.Fail, "%v", err)
	}
	t0, r0, err := hygiene.ThreadsRSS(env.Target.PID)
	if err != nil {
		return judged(spec.Fail, "cannot read the target's status: %v", err)
	}
	clients.ForEach(ctx, burstConns, robustPar, func(int) {
		clients.PartialSend(ctx, env.Target.Addr, reqGet(env, "GET", "/", "Connection: close"), nil, 0, env.Timeout)
	})
	t1, r1, err := hygiene.ThreadsRSS(env.Target.PID)
	if err != nil {
		return judged(spec.Fail, "cannot read the target's status after %d connections (did it die?): %v", burstConns, err)
	}
	return judged(spec.Info, "root process: threads %d → %d, RSS %.1f MiB → %.1f MiB after %d connections",
		t0, t1, float64(r0)/(1<<20), float64(r1)/(1<<20), burstConns)
}
