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
	outcomes := []string{"a probe is served after the resets; when the PID is known: no zombie, fds back to baseline, no child born during the resets still alive (a pool that serves more connections without growing is not a leak)",
		"warn: the probe is not served after the resets",
		"fail: a zombie, a leaked fd or a leaked child (hygiene)"}
	const policy = "No RFC sentence: a client MAY close at any time (RFC 9112 §9.5), and a reset is one way. We expect the server to go on serving (warn otherwise) and to release what each connection held; a zombie, a leaked fd or a leaked child fails, as hygiene failures do. " + hygiene.Policy
	phase := func(n int, p clients.Phase, title string) Case {
		return scenario(robustPolicy(fmt.Sprintf("robust/reset/%d", n), title, req, policy, outcomes...), nil,
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
		return judged(spec.Warn, "%v", err)
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
		return judged(spec.Warn, "none of %d connections reached the point of the reset (%s): %v", resetsPerPhase, p, firstErr.Load())
	}
	more := func(ctx context.Context, n int) (served int) {
		for range n {
			if clients.ResetAt(ctx, env.Target.Addr, req, p, env.Timeout) == nil {
				served++
			}
		}
		return served
	}
	r, failed := probeAfterStress(ctx, env, base, more, fmt.Sprintf("after %d resets %s,", resetsPerPhase, p))
	if failed {
		return r
	}
	numbers := r.Detail
	note := ""
	if n := setupErrs.Load(); n > 0 {
		note = fmt.Sprintf(" (%d connections ended before the reset point: %v)", n, firstErr.Load())
	}
	return judged(spec.Pass, "%d resets %s in %v%s; a probe was served after; %s", resetsPerPhase, p, took, note, numbers)
}
