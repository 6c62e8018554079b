package conformance

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/forkproof/forkproof/clients"
	"github.com/forkproof/forkproof/spec"
)

// Abrupt resets: clients that vanish (RST) at any point of a conversation, hundreds of times.
// The server must stay up, serve the next client, and clean up after each: no zombie, no
// leaked descriptor, no child left behind.

// resetsPerPhase is how many connections each reset scenario resets.
const resetsPerPhase = 64

// resetBody is the size of the response being written when the client resets mid-response:
// bigger than the socket buffers, so the server is still writing.
const resetBody = 2 << 20

func resetCases() []Case {
	const req = "A client may reset its connection at any moment; the server must survive it, go on serving, and release everything the connection held (the child serving it exits, the parent reaps it and holds no descriptor for it)."
	outcomes := []string{"a probe is served after the resets; when the PID is known: no zombie, fds back to baseline, no child born during the resets still alive"}
	phase := func(n int, p clients.Phase, title string) Case {
		return scenario(robust(fmt.Sprintf("robust/reset/%d", n), title, req, outcomes...), nil,
			func(ctx context.Context, env *Env) Result { return runResets(ctx, env, p) })
	}
	return []Case{
		phase(1, clients.PhaseMidRequest, fmt.Sprintf("%d clients reset halfway through their request head", resetsPerPhase)),
		phase(2, clients.PhaseAfterRequest, fmt.Sprintf("%d clients reset right after sending their request", resetsPerPhase)),
		phase(3, clients.PhaseMidResponse, fmt.Sprintf("%d clients reset while a %d MiB response is being written", resetsPerPhase, resetBody>>20)),
	}
}

// resetRequest is the request a reset scenario sends for phase.
func resetRequest(env *Env, p clients.Phase) clients.Request {
	if p == clients.PhaseMidResponse {
		return reqGet(env, "GET", fmt.Sprintf("/bytes/%d", resetBody))
	}
	return reqGet(env, "GET", "/", "User-Agent: forkproof-reset")
}

func runResets(ctx context.Context, env *Env, p clients.Phase) Result {
	base, err := stressBaseline(ctx, env)
	if err != nil {
		return judged(spec.Fail, "%v", err)
	}
	start := time.Now()
	var setupErrs atomic.Int32
	var firstErr atomic.Value
	req := resetRequest(env, p)
	clients.ForEach(ctx, resetsPerPhase, robustPar, func(int) {
		if err := clients.ResetAt(ctx, env.Target.Addr, req, p, env.Timeout); err != nil {
			setupErrs.Add(1)
			firstErr.CompareAndSwap(nil, err.Error())
		}
	})
	if ctx.Err() != nil {
		return judged(spec.Skip, "interrupted: %v", ctx.Err())
	}
	took := roundedSince(start)
	if n := setupErrs.Load(); n == resetsPerPhase {
		return judged(spec.Fail, "none of %d connections reached the point of the reset (%s): %v", resetsPerPhase, p, firstErr.Load())
	}
	if why, e := probeServed(ctx, env); why != "" {
		return exchangeFailed(e, "after %d resets %s, a probe GET / was not served: %s", resetsPerPhase, p, why)
	}
	wrong, numbers := afterStress(ctx, env, base)
	if wrong != "" {
		return judged(spec.Fail, "after %d resets %s: %s", resetsPerPhase, p, wrong)
	}
	note := ""
	if n := setupErrs.Load(); n > 0 {
		note = fmt.Sprintf(" (%d connections ended before the reset point: %v)", n, firstErr.Load())
	}
	return judged(spec.Pass, "%d resets %s in %v%s; a probe was served after; %s", resetsPerPhase, p, took, note, numbers)
}
