package conformance

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/forkproof/forkproof/clients"
	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/spec/wire"
)

// Large requests: heads and bodies bigger than one read buffer must be read completely.

func largeCases() []Case {
	const req = "A request larger than one read buffer must be read completely before it is answered; what is left unread must not be taken for a next request."
	fields := func(n, size int) []string {
		var fs []string
		for i := range n {
			fs = append(fs, fmt.Sprintf("X-Large-%d: %s", i, strings.Repeat("a", size)))
		}
		return fs
	}
	// The large fields come before Host, so a server that reads only the first part of the
	// head sees a request without Host, and answers differently.
	big := func(env *Env, n, size int) clients.Request {
		head := "GET / HTTP/1.1\r\n" + strings.Join(fields(n, size), "\r\n") + "\r\nHost: " + env.Target.Addr + "\r\n\r\n"
		return clients.Request{Method: "GET", Bytes: []byte(head)}
	}
	return []Case{
		scenario(robust("robust/large/1", "a 1 KiB header field is read completely", req,
			"the response of the same request without the field, then the response to the request sent after it"), nil,
			func(ctx context.Context, env *Env) Result {
				return runLarge(ctx, env, big(env, 1, 1024), reqGet(env, "GET", "/"), false)
			}),
		scenario(robust("robust/large/2", "an 8 KiB header section of 80 fields is read completely", req,
			"the response of the same request without the fields, then the response to the request sent after it"), nil,
			func(ctx context.Context, env *Env) Result {
				return runLarge(ctx, env, big(env, 80, 90), reqGet(env, "GET", "/"), false)
			}),
		scenario(robust("robust/large/3", "a 64 KiB header section is read completely or refused cleanly", req,
			"the response of the same request without the fields, then the response to the request sent after it", "431 (or 400, 413) refusing the head"), nil,
			func(ctx context.Context, env *Env) Result {
				return runLarge(ctx, env, big(env, 16, 4096), reqGet(env, "GET", "/"), true)
			}),
		scenario(robust("robust/large/4", "a 64 KiB body is echoed byte for byte", req,
			"200 with the whole body echoed, then no extra response"), []spec.Need{spec.NeedEcho},
			func(ctx context.Context, env *Env) Result {
				return runEcho(ctx, env, 64<<10)
			}),
		scenario(robust("robust/large/5", "a 1 MiB body is echoed byte for byte", req,
			"200 with the whole body echoed, then no extra response"), []spec.Need{spec.NeedEcho},
			func(ctx context.Context, env *Env) Result {
				return runEcho(ctx, env, 1<<20)
			}),
	}
}

// pattern returns n bytes that change along their length, so a misplaced chunk shows.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[(i/7)%36]
	}
	return b
}

// runLarge sends big followed by small in one write and judges the response to big against
// the response to small sent alone; then small must get its own response, which shows the
// server found where big ended. mayRefuse lets a 4xx refusal of the size pass.
func runLarge(ctx context.Context, env *Env, big, small clients.Request, mayRefuse bool) Result {
	wants, res, ok := wantEach(ctx, env, []clients.Request{small})
	if !ok {
		return res
	}
	want := wants[0]
	e := clients.Pipeline(ctx, env.Target.Addr, []clients.Request{big, small}, env.Timeout)
	size := fmt.Sprintf("%q with a %d-byte head", requestLine(big.Bytes), len(big.Bytes))
	if len(e.Responses) == 0 {
		return exchangeFailed(&e, "%s: %s", size, exchangeSays(&e))
	}
	got := e.Responses[0]
	if mayRefuse && (got.StatusCode == 431 || got.StatusCode == 400 || got.StatusCode == 413) {
		return judged(spec.Pass, "%s: refused with %d", size, got.StatusCode)
	}
	if why := sameResponse(got, want); why != "" {
		return withWire(judged(spec.Fail, "%s: %s (the request without its large part got %d)", size, why, want.StatusCode), &e)
	}
	if len(e.Responses) < 2 {
		return exchangeFailed(&e, "%s: answered, but the request sent right after it in the same write got %s — the server lost track of where the large request ended",
			size, exchangeSays(&e))
	}
	if why := sameResponse(e.Responses[1], want); why != "" {
		return withWire(judged(spec.Fail, "%s: the request sent right after it got %s — the server lost track of where the large request ended", size, why), &e)
	}
	return judged(spec.Pass, "%s: %d, same as without the large part, and the next request was answered too", size, got.StatusCode)
}

// judgeAftermath fails an exchange after which the server sent more (a response to the part
// of the request it had not read) or reset the connection (it closed with request bytes
// unread). A reset after a refusal only warns: the server gave up reading on purpose.
func judgeAftermath(e *clients.Exchange, what string, refused bool) (Result, bool) {
	switch e.After {
	case clients.EndData:
		return withWire(judged(spec.Fail, "%s: after the response came more: %s — the server answered before reading the whole request",
			what, bytesPreview(e.AfterData)), e), true
	case clients.EndRST:
		if refused {
			return withWire(judged(spec.Warn, "%s: refused with %d, then reset: the client may lose the refusal (close lingering, RFC 9112 §9.6)",
				what, e.Responses[0].StatusCode), e), true
		}
		return withWire(judged(spec.Fail, "%s: answered, then reset the connection — it closed with request bytes unread", what), e), true
	}
	return Result{}, false
}

// runEcho posts n bytes to /echo and wants them back.
func runEcho(ctx context.Context, env *Env, n int) Result {
	body := pattern(n)
	e := clients.SendWatch(ctx, env.Target.Addr, reqPost(env, "/echo", body), env.Timeout, env.Window)
	what := fmt.Sprintf("POST /echo with %d body bytes", n)
	if !e.OK() {
		return exchangeFailed(&e, "%s: %s", what, exchangeSays(&e))
	}
	if why := sameResponse(e.Responses[0], &wire.Response{StatusCode: 200, Body: body}); why != "" {
		if got := e.Responses[0].Body; len(got) == len(body) && !bytes.Equal(got, body) {
			why += fmt.Sprintf(" (first difference at byte %d)", firstDiff(got, body))
		}
		return withWire(judged(spec.Fail, "%s: %s", what, why), &e)
	}
	if r, bad := judgeAftermath(&e, what, false); bad {
		return r
	}
	return judged(spec.Pass, "%s: echoed intact", what)
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
