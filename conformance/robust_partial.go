package conformance

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/forkproof/forkproof/clients"
	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/spec/wire"
	"github.com/forkproof/forkproof/targets"
)

// Partial sends: TCP is a byte stream; a request may arrive in any number of pieces. The
// classic learner bug answers whatever one recv() returned.

// splitPause is how long the client watches the connection between two pieces: long enough
// for a forking server's child to start and read the first piece alone.
const splitPause = 10 * time.Millisecond

func partialCases() []Case {
	// TCP delivers a byte stream: how it is cut is not part of the message, which a recipient
	// MUST parse "as a sequence of octets" (RFC 9112 §2.2), as rfc9112/2.1 does.
	const req = "A request split into pieces, with pauses between them, is the same request: the server must wait for all of it and answer exactly as if it had arrived in one piece."
	partialSentences := []spec.Sentence{spec.SentenceOctets}
	return []Case{
		scenario(robustRule("robust/partial/1", "GET and HEAD split at every byte boundary get the same response as sent whole", req, partialSentences,
			"the same status and body as the request sent whole, and nothing before the last byte"), nil,
			func(ctx context.Context, env *Env) Result {
				return runSplits(ctx, env, []clients.Request{
					reqGet(env, "GET", "/"),
					reqGet(env, "HEAD", "/", "User-Agent: forkproof", "Accept: */*"),
				}, everyBoundary)
			}),
		scenario(robustRule("robust/partial/2", "POST bodies (Content-Length and chunked) split at every byte boundary are echoed whole", req, partialSentences,
			"200 with the whole body echoed, and nothing before the last byte"), []spec.Need{spec.NeedEcho},
			func(ctx context.Context, env *Env) Result {
				chunked := clients.Request{Method: "POST", Bytes: []byte("POST /echo HTTP/1.1\r\nHost: " + env.Target.Addr +
					"\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n")}
				return runSplits(ctx, env, []clients.Request{reqPost(env, "/echo", []byte("hello world")), chunked}, everyBoundary)
			}),
		scenario(robustRule("robust/partial/3", "requests cut at random points into several pieces with pauses get the same response", req, partialSentences,
			"the same status and body as the request sent whole, and nothing before the last byte"), nil,
			func(ctx context.Context, env *Env) Result {
				return runSplits(ctx, env, []clients.Request{
					reqGet(env, "GET", "/", "User-Agent: forkproof", "Accept: */*", "Accept-Language: en"),
					reqGet(env, "HEAD", "/"),
					reqGet(env, "GET", "/forkproof-no-such-path"),
				}, randomCuts)
			}),
	}
}

// A cutter returns the ways to cut a request of n bytes.
type cutter func(n int) [][]int

func everyBoundary(n int) [][]int {
	cuts := make([][]int, 0, n-1)
	for i := 1; i < n; i++ {
		cuts = append(cuts, []int{i})
	}
	return cuts
}

// randomCuts gives 12 cuttings into 2-6 pieces; the seed is fixed so a failure reproduces.
func randomCuts(n int) [][]int {
	r := rand.New(rand.NewPCG(uint64(n), 4))
	var cuts [][]int
	for range 12 {
		k := 1 + r.IntN(5)
		var at []int
		for range k {
			at = append(at, 1+r.IntN(n-1))
		}
		cuts = append(cuts, sortedUnique(at))
	}
	return cuts
}

func sortedUnique(a []int) []int {
	slices.Sort(a)
	return slices.Compact(a)
}

// runSplits sends every request whole, then cut every way cut gives, and fails on the first
// cutting that gets a different answer (or an answer before the request is complete).
func runSplits(ctx context.Context, env *Env, reqs []clients.Request, cut cutter) Result {
	type job struct {
		req  clients.Request
		want *wire.Response
		at   []int
	}
	want, res, ok := wantEach(ctx, env, reqs)
	if !ok {
		return res
	}
	var jobs []job
	for i, req := range reqs {
		for _, at := range cut(len(req.Bytes)) {
			jobs = append(jobs, job{req, want[i], at})
		}
	}
	var (
		mu    sync.Mutex
		first *Result
		timed bool
	)
	// Each of robustPar lanes takes every robustPar-th cutting, in order, on one kept-alive
	// connection while the server keeps it (each fresh connection costs a fork-per-connection
	// server a process: hundreds of them cost as much as the whole catalogue). A cutting that
	// does not get its response on the kept-alive connection is judged as before, on fresh
	// connections, which decide the verdict.
	clients.ForEach(ctx, robustPar, robustPar, func(lane int) {
		var kept *clients.Conn
		defer func() {
			if kept != nil {
				kept.Close()
			}
		}()
		for i := lane; i < len(jobs); i += robustPar {
			mu.Lock()
			failed := first != nil
			mu.Unlock()
			if failed || ctx.Err() != nil {
				return
			}
			j := jobs[i]
			if kept == nil {
				kept, _ = clients.Dial(ctx, env.Target.Addr)
			}
			if kept != nil {
				e := clients.PartialSendOn(kept, j.req, j.at, splitPause, env.Timeout)
				if e.OK() && sameResponse(e.Responses[0], j.want) == "" {
					if targets.AnnouncesClose(e.Responses[0]) {
						kept.Close()
						kept = nil
					}
					continue
				}
				kept.Close()
				kept = nil
			}
			if r, isTimed, ok := judgeCut(ctx, env, j.req, j.want, j.at); !ok {
				mu.Lock()
				if first == nil {
					first, timed = &r, isTimed
				}
				mu.Unlock()
				return
			}
		}
	})
	if first != nil {
		first.Timed = timed
		return *first
	}
	if err := ctx.Err(); err != nil {
		return judged(spec.Skip, "interrupted: %v", err)
	}
	return judged(spec.Pass, "%d cuttings of %d requests all got the response of the whole request", len(jobs), len(reqs))
}

// judgeCut sends req cut at at on a fresh connection and compares the response with want: ok
// when they agree, else the failing result and whether it may come from a pause stretched
// past the server's timeout by a loaded machine.
func judgeCut(ctx context.Context, env *Env, req clients.Request, want *wire.Response, at []int) (r Result, timed, ok bool) {
	var e clients.Exchange
	var why string
	// A cutting that fails is tried once more before it is believed: on a loaded machine a
	// pause can stretch past a server's timeout. A server with the bug fails both times.
	for try := 0; try < 2; try++ {
		e = clients.PartialSend(ctx, env.Target.Addr, req, at, splitPause, env.Timeout)
		if !e.OK() {
			why = exchangeSays(&e)
		} else {
			why = sameResponse(e.Responses[0], want)
		}
		if why == "" {
			return Result{}, false, true
		}
	}
	r = withWire(judged(spec.Fail, "%q cut at %v (pauses %v): %s; sent whole it got %d",
		requestLine(req.Bytes), at, splitPause, why, want.StatusCode), &e)
	// A 408 or a reset may come from a pause stretched past the server's timeout.
	timed = e.End == clients.Silent || e.End == clients.Reset ||
		(len(e.Responses) == 1 && e.Responses[0].StatusCode == 408) ||
		is408(e.PrematureData) // a 408 sent during a pause stretched by a loaded machine
	return r, timed, false
}

// firstLine returns the request line of a request, for details.
func requestLine(b []byte) string {
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '\r' && b[i+1] == '\n' {
			return string(b[:i])
		}
	}
	if len(b) > 40 {
		b = b[:40]
	}
	return fmt.Sprintf("%s…", b)
}

// is408 reports whether data starts with a 408 status line.
func is408(data []byte) bool {
	line, _, _ := bytes.Cut(data, []byte("\r\n"))
	f := bytes.Fields(line)
	return len(f) >= 2 && bytes.HasPrefix(f[0], []byte("HTTP/")) && string(f[1]) == "408"
}
