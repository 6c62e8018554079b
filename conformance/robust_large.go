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
	const req = "A request larger than one read buffer must be read completely before it is answered (or refused with a 4xx); what is left unread must not be taken for a next request."
	const owedNote = " When the server announces close after the large request (or closes), the request is sent again alone with Connection: close: a clean close after the response shows it was read to its end, a reset shows bytes were left unread."
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
		head := "GET " + env.Target.RootPath() + " HTTP/1.1\r\n" + strings.Join(fields(n, size), "\r\n") + "\r\nHost: " + env.Target.Addr + "\r\n\r\n"
		return clients.Request{Method: "GET", Bytes: []byte(head)}
	}
	heads := []spec.Sentence{s9110TooLarge, s9112CloseNoMore}
	const answered = "the response of the same request without the fields, then the response to the request sent after it (or a clean close, when the first response announced it)"
	return []Case{
		scenario(withPolicy(robustRule("robust/large/1", "a 1 KiB header field is read completely", req+owedNote, heads,
			answered, "warn (policy): 431, 413, 414 or 400 refusing a 1 KiB field"),
			"RFC 9110 §5.4 lets a server refuse any header section it does not wish to process; we warn when one refuses a single 1 KiB field, which every common server accepts (cookies are that long)."), nil,
			func(ctx context.Context, env *Env) Result {
				return runLarge(ctx, env, big(env, 1, 1024), reqGet(env, "GET", "/"), spec.Warn)
			}),
		scenario(robustRule("robust/large/2", "an 8 KiB header section of 80 fields is read completely or refused cleanly", req+owedNote, heads,
			answered, "431, 413, 414 or 400 refusing the head (RFC 9110 §5.4)"), nil,
			func(ctx context.Context, env *Env) Result {
				return runLarge(ctx, env, big(env, 80, 90), reqGet(env, "GET", "/"), spec.Pass)
			}),
		scenario(robustRule("robust/large/3", "a 64 KiB header section is read completely or refused cleanly", req+owedNote, heads,
			answered, "431, 413, 414 or 400 refusing the head (RFC 9110 §5.4)"), nil,
			func(ctx context.Context, env *Env) Result {
				return runLarge(ctx, env, big(env, 16, 4096), reqGet(env, "GET", "/"), spec.Pass)
			}),
		scenario(robustRule("robust/large/4", "a 64 KiB body is echoed byte for byte", req, []spec.Sentence{spec.SentenceCLFrames},
			"200 with the whole body echoed, then no extra response"), []spec.Need{spec.NeedEcho},
			func(ctx context.Context, env *Env) Result {
				return runEcho(ctx, env, 64<<10)
			}),
		scenario(robustRule("robust/large/5", "a 1 MiB body is echoed byte for byte", req, []spec.Sentence{spec.SentenceCLFrames},
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

// sizeRefusal reports whether status is a refusal of a request's size (RFC 9110 §5.4's
// "appropriate 4xx"; 400 too, which a server may give for any head it will not take).
func sizeRefusal(status int) bool {
	return status == 400 || status == 413 || status == 414 || status == 431
}

// runLarge sends big followed by small in one write and judges the response to big against
// the response to small sent alone; then small must get its own response, which shows the
// server found where big ended. refused is the verdict for a 4xx refusing big's size. When
// the server announces close after big's response (or closes), small is not owed: big is sent
// again alone, with Connection: close, and the connection watched after the response.
func runLarge(ctx context.Context, env *Env, big, small clients.Request, refused spec.Verdict) Result {
	wants, res, ok := wantEach(ctx, env, []clients.Request{small})
	if !ok {
		return res
	}
	want := wants[0]
	e := clients.Pipeline(ctx, env.Target.Addr, []clients.Request{big, small}, env.Timeout)
	size := fmt.Sprintf("%q with a %d-byte head", requestLine(big.Bytes), len(big.Bytes))
	if len(e.Responses) == 0 {
		return exchangeFailed(&e, "%s: %s (RFC 9110 §5.4: a head too large to process gets a 4xx)", size, exchangeSays(&e))
	}
	got := e.Responses[0]
	if sizeRefusal(got.StatusCode) && want.StatusCode != got.StatusCode {
		then := ""
		if e.End == clients.Reset {
			then = ", then reset (the refusal arrived here; on a slower network a reset can destroy it: RFC 9112 §9.6 on closing in stages)"
		}
		return withWire(judged(refused, "%s: refused with %d%s", size, got.StatusCode, then), &e)
	}
	if why := sameResponse(got, want); why != "" {
		return withWire(judged(spec.Fail, "%s: %s (the request without its large part got %d)", size, why, want.StatusCode), &e)
	}
	if _, cut := owed(&e, 2); cut != "" {
		return runLargeAlone(ctx, env, big, want, refused, size, cut)
	}
	if len(e.Responses) < 2 {
		return exchangeFailed(&e, "%s: answered, but the request sent right after it in the same write got %s, with the connection still open — the server lost track of where the large request ended",
			size, exchangeSays(&e))
	}
	if why := sameResponse(e.Responses[1], want); why != "" {
		return withWire(judged(spec.Fail, "%s: the request sent right after it got %s — the server lost track of where the large request ended", size, why), &e)
	}
	return judged(spec.Pass, "%s: %d, same as without the large part, and the next request was answered too", size, got.StatusCode)
}

// runLargeAlone answers what a close left open: big is sent alone with Connection: close,
// its last CRLF held back until the server has read the rest. A server that answers then has
// answered a head it had not finished reading (the one-recv bug); one that waits and gives the
// same response as without the large part has read it all. (Watching for a reset after the
// response would not do: a server that drains its input before closing, as it should, hides
// the bytes it never parsed.)
func runLargeAlone(ctx context.Context, env *Env, big clients.Request, want *wire.Response, refused spec.Verdict, size, cut string) Result {
	head := bytes.TrimSuffix(big.Bytes, []byte("\r\n"))
	alone := clients.Request{Method: big.Method, Bytes: append(append([]byte(nil), head...), "Connection: close\r\n\r\n"...)}
	held := len(alone.Bytes) - 2
	// Held for the watch window: a server that answers within it did not wait for the end of
	// the head (a short hold would let a slow one-read server answer "after" it and pass).
	e := clients.PartialSend(ctx, env.Target.Addr, alone, []int{held}, env.Window, env.Timeout)
	what := fmt.Sprintf("%s sent alone with Connection: close, its final CRLF held back", size)
	switch {
	case e.Premature != clients.NoEnding:
		return withWire(judged(spec.Fail, "%s: %s — it did not read the whole head (pipelined with a second request, %s)", what, exchangeSays(&e), cut), &e)
	case !e.OK():
		return exchangeFailed(&e, "%s (pipelined with a second request, %s): %s", what, cut, exchangeSays(&e))
	}
	got := e.Responses[0]
	if sizeRefusal(got.StatusCode) && want.StatusCode != got.StatusCode {
		return withWire(judged(refused, "%s: refused with %d", what, got.StatusCode), &e)
	}
	if why := sameResponse(got, want); why != "" {
		return withWire(judged(spec.Fail, "%s: %s", what, why), &e)
	}
	return judged(spec.Pass, "%s: the server waited for the end of the head, then answered %d, same as without the large part (pipelined with a second request, %s)",
		what, got.StatusCode, cut)
}

// judgeAftermath fails an exchange after which the server sent more (a response to the part
// of the request it had not read) or reset the connection (it closed with request bytes
// unread). A reset after a refusal only warns: the server gave up reading on purpose.
func judgeAftermath(e *clients.Exchange, what string, refused bool) (Result, bool) {
	switch e.End {
	case clients.Data:
		return withWire(judged(spec.Fail, "%s: after the response came more: %s — the server answered before reading the whole request",
			what, bytesPreview(e.Extra)), e), true
	case clients.Reset:
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
