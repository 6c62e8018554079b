package conformance

import (
	"context"
	"fmt"
	"time"

	"github.com/forkproof/forkproof/clients"
	"github.com/forkproof/forkproof/spec"
)

// Slow clients: a slowloris (a head dripped forever) and a slow body must be cut off within a
// bounded time, and while they hang the server must go on serving others. A slow reader must
// still get all of a large response.

// dripEvery is the interval between two dripped bytes.
const dripEvery = 100 * time.Millisecond

// slowBound is how long a slow client is kept up before the server is said to wait too long.
func slowBound(env *Env) time.Duration {
	if env.SlowBound > 0 {
		return env.SlowBound
	}
	return DefaultSlowBound
}

// slowPolicy is what the slow-client scenarios assume: no RFC sentence sets a timeout.
const slowPolicy = "No RFC sentence sets how long a server waits for a slow client (nginx cuts it at 60 s, Node at about 90 s, Apache without mod_reqtimeout never). We expect the slow connection cut within the slow bound (-slow-bound, default 6 s: short, so that the whole check stays short, and not the 5 s many servers choose, so that such a server is not judged by milliseconds) and other clients served meanwhile, and warn otherwise; a warning says the server's timeout is longer than the bound, and `forkproof check -run robust/slow -slow-bound 3m` measures it."

func slowCases() []Case {
	return []Case{
		scenario(robustPolicy("robust/slowloris/1", "a request head dripped forever is cut off, and others are served meanwhile",
			"A server must bound how long it waits for a request head (else a few slow clients hold all its workers), and must serve other clients while one is slow.",
			slowPolicy,
			"the slow connection is closed or answered (e.g. 408) within the bound, and a probe request is served meanwhile",
			"warn: the slow connection is still open at the bound (-slow-bound, default 6s)",
			"warn: a probe request is not served while the slow client hangs"), nil,
			func(ctx context.Context, env *Env) Result {
				return runSlow(ctx, env, "header bytes", func(ctx context.Context, hanging func()) clients.SlowObservation {
					return clients.Slowloris(ctx, env.Target.Addr, env.Target.Addr, dripEvery, slowBound(env), hanging)
				})
			}),
		scenario(robustPolicy("robust/slow-body/1", "a request body dripped forever is cut off, and others are served meanwhile",
			"A server must bound how long it waits for a request body, and must serve other clients while one is slow.",
			slowPolicy,
			"the slow connection is closed or answered (e.g. 408) within the bound, and a probe request is served meanwhile",
			"warn: the slow connection is still open at the bound (-slow-bound, default 6s)",
			"warn: a probe request is not served while the slow client hangs"), []spec.Need{spec.NeedEcho},
			func(ctx context.Context, env *Env) Result {
				return runSlow(ctx, env, "body bytes", func(ctx context.Context, hanging func()) clients.SlowObservation {
					return clients.SlowBody(ctx, env.Target.Addr, env.Target.Addr, "/echo", dripEvery, slowBound(env), hanging)
				})
			}),
		scenario(robustPolicy("robust/slow-reader/1", "a client reading a 1 MiB response slowly through a small window gets all of it",
			"A server must finish writing a response to a client that reads slowly (partial writes, a full send buffer), byte for byte.",
			"No RFC sentence obliges a server to keep writing to a slow reader; we expect a 1 MiB response read 4 KiB at a time through a 4 KiB window (within the timeout per read) to arrive whole, and warn otherwise. Needs GET /bytes/N (skipped without it).",
			"the same 1 MiB body as a fast reader gets", "warn: a truncated or different body, or a stall"), nil,
			runSlowReader),
	}
}

// runSlow runs one slow client and, once the server holds it, a probe request.
// Once the probe has failed the verdict is known: the slow client is stopped then rather than
// kept up to the bound.
func runSlow(ctx context.Context, env *Env, what string, slow func(ctx context.Context, hanging func()) clients.SlowObservation) Result {
	hanging := make(chan struct{})
	done := make(chan clients.SlowObservation, 1)
	slowCtx, stopSlow := context.WithCancel(ctx)
	defer stopSlow()
	go func() { done <- slow(slowCtx, func() { close(hanging) }) }()
	var probeWhy string
	var probe *clients.Exchange
	select {
	case <-hanging:
		probeWhy, probe = probeServed(ctx, env)
	case <-ctx.Done():
	}
	if probeWhy != "" {
		stopSlow()
	}
	o := <-done
	bound := slowBound(env)
	slowWire := &clients.Exchange{Sent: o.Sent, Received: o.Received}
	switch {
	case o.Err != nil:
		return judged(spec.Warn, "cannot connect: %v", o.Err)
	case probeWhy != "":
		r := exchangeFailed(probe, "while a slow client dripped %s, a probe GET / was not served: %s — a few slow clients can hold the server", what, probeWhy)
		r.Verdict = spec.Warn // a policy
		return r
	case !o.Cut && ctx.Err() != nil:
		return judged(spec.Skip, "interrupted: %v", ctx.Err())
	case !o.Cut:
		return withWire(judged(spec.Warn, "the slow client dripped %d %s over %v and the connection is still open: the server holds a slow client longer than the bound (-slow-bound %v), perhaps for ever; a probe was served meanwhile. To measure the server's own timeout: forkproof check -run robust/slow -slow-bound 3m",
			o.Dripped, what, bound, bound), slowWire)
	}
	how := o.End.String()
	if o.Response != nil {
		how = fmt.Sprintf("answered %d", o.Response.StatusCode)
	}
	return judged(spec.Pass, "cut off after %v (%s; %d %s dripped); a probe was served meanwhile", o.After.Round(time.Millisecond), how, o.Dripped, what)
}

const slowReadSize = 1 << 20

func runSlowReader(ctx context.Context, env *Env) Result {
	req := reqGet(env, "GET", fmt.Sprintf("/bytes/%d", slowReadSize), "Connection: close")
	want, we := sendWhole(ctx, env, req)
	if want == nil {
		r := exchangeFailed(we, "GET /bytes/%d read fast: %s", slowReadSize, exchangeSays(we))
		r.Verdict = spec.Warn // a policy
		return r
	}
	if want.StatusCode != 200 || len(want.Body) != slowReadSize {
		return judged(spec.Skip, "needs GET /bytes/N returning N bytes; GET /bytes/%d got %d with %d bytes", slowReadSize, want.StatusCode, len(want.Body))
	}
	start := time.Now()
	e := clients.SlowRead(ctx, env.Target.Addr, req, 4096, 4096, time.Millisecond, env.Timeout)
	if !e.OK() {
		r := exchangeFailed(&e, "GET /bytes/%d read 4 KiB at a time through a 4 KiB receive buffer: %s", slowReadSize, exchangeSays(&e))
		r.Verdict = spec.Warn // a policy
		return r
	}
	if why := sameResponse(e.Responses[0], want); why != "" {
		return withWire(judged(spec.Warn, "GET /bytes/%d read slowly: %s (read fast it was intact)", slowReadSize, why), &e)
	}
	return judged(spec.Pass, "1 MiB read slowly in %v, intact", roundedSince(start))
}
