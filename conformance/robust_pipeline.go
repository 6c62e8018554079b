package conformance

import (
	"context"
	"fmt"
	"sync"

	"github.com/forkproof/forkproof/clients"
	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/spec/wire"
)

// Pipelining, half-close and concurrency: many requests in one write, a client that shuts its
// sending side after the request, many keep-alive clients at once.

var pipelineDepths = []int{1, 2, 3, 5, 8, 16, 32, 64}

func pipelineCases() []Case {
	return []Case{
		scenario(robust("robust/pipeline/1", "pipelined GET, HEAD and 404 requests, depth 1 to 64, are answered completely and in order",
			"A client may send several requests without waiting (RFC 9112 §9.3.2); the server must answer every one, in the order received.",
			"one response per request, each the response of that request sent alone, in order"), nil,
			func(ctx context.Context, env *Env) Result {
				return runPipelines(ctx, env, []clients.Request{
					reqGet(env, "GET", "/"), reqGet(env, "HEAD", "/"), reqGet(env, "GET", "/forkproof-no-such-path"),
				})
			}),
		scenario(robust("robust/pipeline/2", "pipelined POSTs with distinct bodies mixed with GETs, depth 1 to 64, are answered in order",
			"Pipelined requests with bodies are answered in order: each response echoes its own request's body.",
			"one response per request, each echoing its own body, in order"), []spec.Need{spec.NeedEcho},
			func(ctx context.Context, env *Env) Result {
				var reqs []clients.Request
				for i := range 5 {
					reqs = append(reqs, reqPost(env, "/echo", fmt.Appendf(nil, "body-%d-%s", i, pattern(10*i))))
				}
				reqs = append(reqs, reqGet(env, "HEAD", "/"))
				return runPipelines(ctx, env, reqs)
			}),
		scenario(robust("robust/pipeline/3", "an invalid request pipelined after valid ones is answered after them",
			"The valid requests before an invalid one are answered in full and in order; then the invalid one gets its error response.",
			"three 2xx responses, then 400 (or another 4xx)", "warn: three 2xx responses, then close without an error response"), nil,
			runPipelineInvalid),
		scenario(robust("robust/half-close/1", "a GET followed by shutdown(SHUT_WR) gets its response",
			"A client that sends a complete request and then half-closes (shutdown(SHUT_WR)) is still waiting for the response; the end of its input is not the end of the conversation.",
			"the response GET / gets"), nil,
			func(ctx context.Context, env *Env) Result { return runHalfClose(ctx, env, reqGet(env, "GET", "/")) }),
		scenario(robust("robust/half-close/2", "a POST followed by shutdown(SHUT_WR) gets its body echoed",
			"A client that sends a complete request with a body and then half-closes still gets the response.",
			"200 echoing the body"), []spec.Need{spec.NeedEcho},
			func(ctx context.Context, env *Env) Result {
				return runHalfClose(ctx, env, reqPost(env, "/echo", []byte("half-closed body")))
			}),
		scenario(robust("robust/concurrency/1", "32 simultaneous keep-alive clients sending 8 requests each are all answered correctly",
			"Many clients at once, each reusing its connection, must each get correct responses.",
			"every response equals the response of the same request sent alone"), nil,
			runConcurrency),
	}
}

// wantEach fetches the response of each distinct request sent alone.
func wantEach(ctx context.Context, env *Env, reqs []clients.Request) ([]*wire.Response, Result, bool) {
	want := make([]*wire.Response, len(reqs))
	for i, r := range reqs {
		w, e := sendWhole(ctx, env, r)
		if w == nil {
			return nil, exchangeFailed(e, "%q sent alone: %s", requestLine(r.Bytes), exchangeSays(e)), false
		}
		want[i] = w
	}
	return want, Result{}, true
}

func runPipelines(ctx context.Context, env *Env, kinds []clients.Request) Result {
	want, res, ok := wantEach(ctx, env, kinds)
	if !ok {
		return res
	}
	var (
		mu         sync.Mutex
		first      *Result
		firstDepth int
	)
	clients.ForEach(ctx, len(pipelineDepths), robustPar, func(d int) {
		depth := pipelineDepths[d]
		reqs := make([]clients.Request, depth)
		wants := make([]*wire.Response, depth)
		for i := range depth {
			k := (i*7 + d) % len(kinds) // a mix that differs from depth to depth
			reqs[i], wants[i] = kinds[k], want[k]
		}
		e := clients.Pipeline(ctx, env.Target.Addr, reqs, env.Timeout)
		why := ""
		for i, r := range e.Responses {
			if w := sameResponse(r, wants[i]); w != "" {
				why = fmt.Sprintf("response %d of %d (to %q): %s", i+1, depth, requestLine(reqs[i].Bytes), w)
				break
			}
		}
		if why == "" && !e.OK() {
			why = fmt.Sprintf("%d requests in one write: %s", depth, exchangeSays(&e))
		}
		if why == "" {
			return
		}
		r := exchangeFailed(&e, "pipeline depth %d: %s", depth, why)
		mu.Lock()
		if first == nil || depth < firstDepth { // report the shallowest failure
			first, firstDepth = &r, depth
		}
		mu.Unlock()
	})
	if first != nil {
		return *first
	}
	if ctx.Err() != nil {
		return judged(spec.Skip, "interrupted: %v", ctx.Err())
	}
	return judged(spec.Pass, "depths %v all answered completely and in order", pipelineDepths)
}

func runPipelineInvalid(ctx context.Context, env *Env) Result {
	valid := reqGet(env, "GET", "/")
	wants, res, ok := wantEach(ctx, env, []clients.Request{valid})
	if !ok {
		return res
	}
	want := wants[0]
	invalid := clients.Request{Method: "GET", Bytes: []byte("GET / HTTP/1.1\r\nHost: " + env.Target.Addr + "\r\nBad Header: x\r\n\r\n")}
	e := clients.Pipeline(ctx, env.Target.Addr, []clients.Request{valid, valid, valid, invalid}, env.Timeout)
	for i, r := range e.Responses {
		if i == 3 {
			break
		}
		if why := sameResponse(r, want); why != "" {
			return withWire(judged(spec.Fail, "response %d of 3 valid pipelined requests: %s", i+1, why), &e)
		}
	}
	switch {
	case len(e.Responses) < 3:
		return exchangeFailed(&e, "3 valid requests then an invalid one: %s", exchangeSays(&e))
	case len(e.Responses) == 4 && e.Responses[3].StatusCode/100 == 4:
		return judged(spec.Pass, "3 × %d, then %d for the invalid request", want.StatusCode, e.Responses[3].StatusCode)
	case len(e.Responses) == 4:
		return withWire(judged(spec.Fail, "the invalid request (field name with a space) got %d; want 4xx", e.Responses[3].StatusCode), &e)
	case e.Kind == clients.KindFIN || e.Kind == clients.KindRST:
		return withWire(judged(spec.Warn, "the 3 valid requests were answered, then the connection ended (%s) without an error response to the invalid one", e.Kind), &e)
	}
	return exchangeFailed(&e, "after the 3 valid responses: %s", exchangeSays(&e))
}

func runHalfClose(ctx context.Context, env *Env, req clients.Request) Result {
	var want *wire.Response
	if req.Method == "POST" {
		want = &wire.Response{StatusCode: 200, Body: []byte("half-closed body")}
	} else {
		wants, res, ok := wantEach(ctx, env, []clients.Request{req})
		if !ok {
			return res
		}
		want = wants[0]
	}
	e := clients.HalfClose(ctx, env.Target.Addr, req, env.Timeout)
	if !e.OK() {
		return exchangeFailed(&e, "%q then shutdown(SHUT_WR): %s", requestLine(req.Bytes), exchangeSays(&e))
	}
	if why := sameResponse(e.Responses[0], want); why != "" {
		return withWire(judged(spec.Fail, "%q then shutdown(SHUT_WR): %s", requestLine(req.Bytes), why), &e)
	}
	return judged(spec.Pass, "answered %d after the half-close", e.Responses[0].StatusCode)
}

const (
	concurrentClients = 32
	requestsPerClient = 8
)

func runConcurrency(ctx context.Context, env *Env) Result {
	kinds := []clients.Request{reqGet(env, "GET", "/"), reqGet(env, "HEAD", "/"), reqGet(env, "GET", "/forkproof-no-such-path")}
	want, res, ok := wantEach(ctx, env, kinds)
	if !ok {
		return res
	}
	var (
		mu    sync.Mutex
		first *Result
		good  int
	)
	// Every client connects before any sends: the server holds all of them at once (a server
	// that serves only a few connections at a time and drops the rest is caught for sure),
	// and then they all talk at once.
	conns, errs := clients.DialEach(ctx, env.Target.Addr, concurrentClients, env.Timeout)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	clients.ForEach(ctx, concurrentClients, concurrentClients, func(c int) {
		var e clients.Exchange
		e.DialErr = errs[c]
		reqs := make([]clients.Request, requestsPerClient)
		wants := make([]*wire.Response, requestsPerClient)
		for i := range reqs {
			k := (c + i) % len(kinds)
			reqs[i], wants[i] = kinds[k], want[k]
		}
		if e.DialErr == nil {
			// Closed when done, so a server with fewer workers than clients goes on to the
			// connections waiting for one.
			e = clients.KeepAliveOn(conns[c], reqs, env.Timeout)
			conns[c].Close()
		}
		why := ""
		for i, r := range e.Responses {
			if w := sameResponse(r, wants[i]); w != "" {
				why = fmt.Sprintf("client %d, request %d (%q): %s", c+1, i+1, requestLine(reqs[i].Bytes), w)
				break
			}
		}
		if why == "" && !e.OK() {
			why = fmt.Sprintf("client %d: %s", c+1, exchangeSays(&e))
		}
		mu.Lock()
		defer mu.Unlock()
		if why == "" {
			good++
			return
		}
		if first == nil {
			r := exchangeFailed(&e, "%s", why)
			first = &r
		}
	})
	if first != nil {
		first.Detail = fmt.Sprintf("%d of %d keep-alive clients answered correctly; first failure: %s", good, concurrentClients, first.Detail)
		return *first
	}
	if ctx.Err() != nil {
		return judged(spec.Skip, "interrupted: %v", ctx.Err())
	}
	return judged(spec.Pass, "%d clients × %d keep-alive requests all answered correctly", concurrentClients, requestsPerClient)
}
