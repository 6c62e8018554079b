package conformance

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/forkproof/forkproof/clients"
	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/spec/wire"
	"github.com/forkproof/forkproof/targets"
)

// Pipelining, half-close and concurrency: many requests in one write, a client that shuts its
// sending side after the request, many keep-alive clients at once.

var pipelineDepths = []int{1, 2, 3, 5, 8, 16, 32, 64}

// pipelineOwed is what the pipelining scenarios assume beyond RFC 9112 §9.3.2's MUST.
const pipelineOwed = "Responses are owed until one announces close (RFC 9112 §9.6); after an unannounced close the rest cannot be judged (RFC 9112 §9.5; announcing it is §9.6's SHOULD, graded by rfc9112/9.3). A connection left open with requests sent and never answered owes their responses still."

func pipelineCases() []Case {
	return []Case{
		scheduled(Long, scenario(robustRule("robust/pipeline/1", "pipelined GET, HEAD and 404 requests, depth 1 to 64, are answered completely and in order",
			"A client may send several requests without waiting; the server must send the corresponding responses, in the order received. "+pipelineOwed,
			[]spec.Sentence{s9112Pipeline, s9112CloseNoMore, s9112CloseAnyTime},
			"one response per request, each the response of that request sent alone, in order",
			"the responses up to one that announces close, each right and in order (the rest are not owed)",
			"skip: the server closed every pipeline after its first response, so pipelining cannot be judged"), nil,
			func(ctx context.Context, env *Env) Result {
				return runPipelines(ctx, env, []clients.Request{
					reqGet(env, "GET", "/"), reqGet(env, "HEAD", "/"), reqGet(env, "GET", "/forkproof-no-such-path"),
				})
			})),
		scheduled(Long, scenario(robustRule("robust/pipeline/2", "pipelined POSTs with distinct bodies mixed with GETs, depth 1 to 64, are answered in order",
			"Pipelined requests with bodies are answered in order: each response echoes its own request's body. "+pipelineOwed,
			[]spec.Sentence{s9112Pipeline, s9112CloseNoMore, s9112CloseAnyTime},
			"one response per request, each echoing its own body, in order",
			"the responses up to one that announces close, each right and in order (the rest are not owed)",
			"skip: the server closed every pipeline after its first response"), []spec.Need{spec.NeedEcho},
			func(ctx context.Context, env *Env) Result {
				var reqs []clients.Request
				for i := range 5 {
					reqs = append(reqs, reqPost(env, "/echo", fmt.Appendf(nil, "body-%d-%s", i, pattern(10*i))))
				}
				reqs = append(reqs, reqGet(env, "HEAD", "/"))
				return runPipelines(ctx, env, reqs)
			})),
		scenario(robustRule("robust/pipeline/3", "an invalid request pipelined after valid ones is answered after them",
			"The valid requests before an invalid one are answered in full and in order; then the invalid one gets its error response (400 and close, RFC 9112 §2.2, a SHOULD). "+pipelineOwed,
			[]spec.Sentence{s9112Pipeline, s9112Invalid400, s9112CloseNoMore},
			"three 2xx responses, then 400 (or another 4xx)",
			"warn: three 2xx responses, then close without an error response (RFC 9112 §2.2 SHOULD)",
			"warn: three 2xx responses, then a response that is not 4xx (RFC 9112 §2.2 SHOULD)",
			"skip: the server announced close (or closed) before the invalid request's turn"), nil,
			runPipelineInvalid),
		scenario(robustPolicy("robust/half-close/1", "a GET followed by shutdown(SHUT_WR) gets its response",
			"A client that sends a complete request and then half-closes (shutdown(SHUT_WR)) is still waiting for the response; the end of its input is not the end of the conversation.",
			"No RFC sentence covers a half-closed client; we expect it answered, as curl and proxies that half-close rely on, and warn otherwise.",
			"the response GET / gets", "warn: no response, or a different one"), nil,
			func(ctx context.Context, env *Env) Result { return runHalfClose(ctx, env, reqGet(env, "GET", "/")) }),
		scenario(robustPolicy("robust/half-close/2", "a POST followed by shutdown(SHUT_WR) gets its body echoed",
			"A client that sends a complete request with a body and then half-closes still gets the response.",
			"No RFC sentence covers a half-closed client; we expect it answered, and warn otherwise.",
			"200 echoing the body", "warn: no response, or a different one"), []spec.Need{spec.NeedEcho},
			func(ctx context.Context, env *Env) Result {
				return runHalfClose(ctx, env, reqPost(env, "/echo", []byte("half-closed body")))
			}),
		scheduled(Long, scenario(withPolicy(robustRule("robust/concurrency/1", "32 simultaneous keep-alive clients sending 8 requests each are all answered correctly",
			"Many clients at once, each reusing its connection, must each get the responses that correspond to their requests, in order. "+pipelineOwed,
			[]spec.Sentence{s9112Pipeline, s9112CloseNoMore, s9112CloseAnyTime},
			"every response equals the response of the same request sent alone",
			"responses up to one that announces close, each right (the rest are not owed)",
			fmt.Sprintf("warn (policy: a server serves %d clients at once, each answered within the timeout): a client refused, reset or left without an answer", concurrentClients)),
			fmt.Sprintf("No sentence sets how many clients a server must serve at once; we expect %d simultaneous clients served, and warn when one is refused, reset or left waiting past the timeout. A wrong response is a MUST failure (RFC 9112 §9.3.2).", concurrentClients)), nil,
			runConcurrency)),
	}
}

// wantEach fetches the response of each distinct request sent alone. When one gets no
// response the scenario has nothing to compare with and grades warn: a server may close a
// connection at any time (RFC 9112 §9.6), so no sentence is broken by that alone, and the
// catalogue's own cases judge how the server answers such a request.
func wantEach(ctx context.Context, env *Env, reqs []clients.Request) ([]*wire.Response, Result, bool) {
	want := make([]*wire.Response, len(reqs))
	for i, r := range reqs {
		w, e := sendWhole(ctx, env, r)
		if w == nil {
			res := exchangeFailed(e, "could not learn the expected response: %q sent alone: %s", requestLine(r.Bytes), exchangeSays(e))
			res.Verdict = spec.Warn
			return nil, res, false
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
		short      = map[int]string{} // depth -> why its pipeline was cut short
		whole      int                // pipelines of 2 or more answered in full
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
		n, cut := owed(&e, depth)
		why := ""
		for i, r := range e.Responses[:min(n, len(e.Responses))] {
			if w := sameResponse(r, wants[i]); w != "" {
				why = fmt.Sprintf("response %d of %d (to %q): %s", i+1, depth, requestLine(reqs[i].Bytes), w)
				break
			}
		}
		if why == "" && cut == "" && !e.OK() {
			why = fmt.Sprintf("%d requests in one write: %s", depth, exchangeSays(&e))
			if e.End == clients.Silent {
				why += " — the connection stayed open with the requests sent and unanswered"
			}
		}
		mu.Lock()
		defer mu.Unlock()
		switch {
		case why != "":
			r := exchangeFailed(&e, "pipeline depth %d: %s", depth, why)
			if first == nil || depth < firstDepth { // report the shallowest failure
				first, firstDepth = &r, depth
			}
		case cut != "":
			short[depth] = cut
		case depth > 1:
			whole++
		}
	})
	if first != nil {
		return *first
	}
	if ctx.Err() != nil {
		return judged(spec.Skip, "interrupted: %v", ctx.Err())
	}
	if len(short) > 0 {
		d := slices.Min(slices.Collect(maps.Keys(short)))
		if whole == 0 {
			return judged(spec.Skip, "no pipeline of 2 or more requests was answered in full, so pipelining cannot be judged (persistence is graded by rfc9112/9.3); at depth %d %s; every response that came was right", d, short[d])
		}
		return judged(spec.Pass, "%d pipelines answered completely and in order; %d cut short with every response that came right (at depth %d %s)", whole, len(short), d, short[d])
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
	invalid := clients.Request{Method: "GET", Bytes: []byte("GET " + env.Target.RootPath() + " HTTP/1.1\r\nHost: " + env.Target.Addr + "\r\nBad Header: x\r\n\r\n")}
	e := clients.Pipeline(ctx, env.Target.Addr, []clients.Request{valid, valid, valid, invalid}, env.Timeout)
	n, cut := owed(&e, 3) // the invalid request's answer is judged apart
	for i, r := range e.Responses[:min(n, len(e.Responses))] {
		if why := sameResponse(r, want); why != "" {
			return withWire(judged(spec.Fail, "response %d of 3 valid pipelined requests: %s", i+1, why), &e)
		}
	}
	switch {
	case cut != "":
		return judged(spec.Skip, "the invalid request's turn never came: %s; the responses that came were right", cut)
	case len(e.Responses) < 3:
		r := exchangeFailed(&e, "3 valid requests then an invalid one: %s", exchangeSays(&e))
		if e.End == clients.Silent {
			r.Detail += " — the connection stayed open with the requests sent and unanswered"
		}
		return r
	case targets.AnnouncesClose(e.Responses[2]):
		return judged(spec.Skip, "the third response announced close (%s), so the invalid request was not processed (RFC 9112 §9.6); the 3 valid ones were answered in order", targets.CloseAnnouncement(e.Responses[2]))
	case len(e.Responses) == 4 && e.Responses[3].StatusCode/100 == 4:
		return judged(spec.Pass, "3 × %d, then %d for the invalid request", want.StatusCode, e.Responses[3].StatusCode)
	case len(e.Responses) == 4:
		return withWire(judged(spec.Warn, "the invalid request (field name with a space) got %d; want 400 (RFC 9112 §2.2, SHOULD)", e.Responses[3].StatusCode), &e)
	case e.End == clients.Closed || e.End == clients.Reset:
		return withWire(judged(spec.Warn, "the 3 valid requests were answered, then the connection ended (%s) without an error response to the invalid one (RFC 9112 §2.2: SHOULD respond with 400)", e.End.WhyStopped()), &e)
	}
	r := exchangeFailed(&e, "after the 3 valid responses, the invalid request: %s", exchangeSays(&e))
	r.Verdict = spec.Warn // what the invalid request gets is a SHOULD (RFC 9112 §2.2)
	return r
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
		r := exchangeFailed(&e, "%q then shutdown(SHUT_WR): %s", requestLine(req.Bytes), exchangeSays(&e))
		r.Verdict = spec.Warn // a policy
		return r
	}
	if why := sameResponse(e.Responses[0], want); why != "" {
		return withWire(judged(spec.Warn, "%q then shutdown(SHUT_WR): %s", requestLine(req.Bytes), why), &e)
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
		mu          sync.Mutex
		wrong, miss *Result // the first wrong response (a MUST), the first client left unserved (policy)
		good, short int
		shortWhy    string
	)
	// Every client connects before any sends: the server holds all of them at once (a server
	// that serves only a few connections at a time and drops the rest is caught for sure),
	// and then they all talk at once.
	// Lateness counts from before the first connect: a connection accepted early in a slow
	// DialEach has been idle at the server for longer than since DialEach returned.
	dialed := time.Now()
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
		late := time.Since(dialed) > env.Window
		if e.DialErr == nil {
			// Closed when done, so a server with fewer workers than clients goes on to the
			// connections waiting for one.
			e = clients.KeepAliveOn(conns[c], reqs, env.Timeout)
			conns[c].Close()
		}
		if late && e.DialErr == nil && len(e.Responses) == 0 && (e.End == clients.Closed || e.End == clients.Reset) {
			// Our client was late to speak (a busy machine), and a server may close a
			// connection left idle (RFC 9112 §9.6): the close may have crossed the request.
			// Inconclusive, so the client tries once more, on a fresh connection at once. A
			// server that closes connections it cannot serve is still seen doing so: a
			// client on time is not given a second try.
			var again *clients.Conn
			if again, e.DialErr = clients.Dial(ctx, env.Target.Addr); e.DialErr == nil {
				e = clients.KeepAliveOn(again, reqs, env.Timeout)
				again.Close()
			}
		}
		n, cut := owed(&e, requestsPerClient)
		why := ""
		for i, r := range e.Responses[:min(n, len(e.Responses))] {
			if w := sameResponse(r, wants[i]); w != "" {
				why = fmt.Sprintf("client %d, request %d (%q): %s", c+1, i+1, requestLine(reqs[i].Bytes), w)
				break
			}
		}
		mu.Lock()
		defer mu.Unlock()
		switch {
		case why != "":
			if wrong == nil {
				r := exchangeFailed(&e, "%s", why)
				wrong = &r
			}
		case cut != "":
			good++
			if short++; shortWhy == "" {
				shortWhy = fmt.Sprintf("client %d: %s", c+1, cut)
			}
		case !e.OK():
			if miss == nil {
				r := exchangeFailed(&e, "client %d: %s", c+1, exchangeSays(&e))
				r.Verdict = spec.Warn // serving this many at once is a policy
				miss = &r
			}
		default:
			good++
		}
	})
	tally := fmt.Sprintf("%d of %d keep-alive clients answered correctly", good, concurrentClients)
	if short > 0 {
		tally += fmt.Sprintf(" (%d of them cut short: %s)", short, shortWhy)
	}
	switch {
	case wrong != nil:
		wrong.Detail = fmt.Sprintf("%s; a wrong response (RFC 9112 §9.3.2): %s", tally, wrong.Detail)
		return *wrong
	case miss != nil:
		miss.Detail = fmt.Sprintf("%s; first left unserved: %s", tally, miss.Detail)
		return *miss
	case ctx.Err() != nil:
		return judged(spec.Skip, "interrupted: %v", ctx.Err())
	}
	return judged(spec.Pass, "%d clients × %d keep-alive requests: %s", concurrentClients, requestsPerClient, tally)
}
