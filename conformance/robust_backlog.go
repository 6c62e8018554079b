package conformance

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/forkproof/forkproof/clients"
	"github.com/forkproof/forkproof/hygiene"
	"github.com/forkproof/forkproof/spec"
)

// Backlog overflow: while the target cannot accept (its processes are stopped with SIGSTOP),
// connections pile up in the listen backlog and, once it is full, the kernel drops new SYNs.
// After SIGCONT every connection must get a correct response or a clean refusal — never a
// wrong or mixed-up one — and the server must clean up after them.

const (
	backlogBatch    = 64   // connections dialled at once while the target is stopped
	backlogMaxConns = 1024 // stop there even if the backlog never overflowed
)

func backlogCases() []Case {
	return []Case{
		scenario(robustPolicy("robust/backlog/1", "connections beyond a full listen backlog get a correct response or a clean refusal",
			"With the target stopped, more connections are opened than its backlog holds; once it resumes, each connection must get the right response, or be refused or reset cleanly — never a wrong or mixed-up response — and the server must leave no zombie and no leaked fd.",
			"No RFC sentence covers a full listen backlog: it is the kernel's, and a server MAY close any connection (RFC 9112 §9.5). We expect every connection answered right or ended cleanly, and the server serving a probe afterwards (warn otherwise). Connections that time out are counted, not judged: with SYN cookies (net.ipv4.tcp_syncookies) or TCP_DEFER_ACCEPT (Apache's default) the kernel completes handshakes the accept queue has no room for, and drops what it cannot queue, so those clients wait for TCP retransmissions the server never sees. "+hygiene.Policy,
			"every connection gets the response GET / gets, or a close, a reset, a 5xx or a timeout (counted); then a probe is served, no zombie, fds back to baseline, no leaked child",
			"warn: a wrong response, or no probe served after",
			"fail: a zombie, a leaked fd or a leaked child (hygiene)"),
			[]spec.Need{spec.NeedPID}, runBacklog),
	}
}

// stopped is a set of processes paused with SIGSTOP; resume is safe to call more than once.
type stopped struct {
	once sync.Once
	pids []int
}

func stopTree(pid int) (*stopped, error) {
	kids, err := hygiene.Children(pid)
	if err != nil {
		return nil, err
	}
	s := &stopped{pids: append([]int{pid}, kids...)}
	for _, p := range s.pids {
		if err := syscall.Kill(p, syscall.SIGSTOP); err != nil && p == pid {
			s.resume()
			return nil, fmt.Errorf("SIGSTOP %d: %v", p, err)
		}
	}
	return s, nil
}

func (s *stopped) resume() {
	s.once.Do(func() {
		for _, p := range s.pids {
			syscall.Kill(p, syscall.SIGCONT)
		}
	})
}

func runBacklog(ctx context.Context, env *Env) Result {
	base, err := stressBaseline(ctx, env)
	if err != nil {
		return judged(spec.Warn, "%v", err)
	}
	req := reqGet(env, "GET", "/", "Connection: close")
	want, we := sendWhole(ctx, env, req)
	if want == nil {
		// Timed when it got no response in time: re-run with longer waits, as any expired
		// wait is (a loaded machine delays a fork server's first answer past a short timeout).
		res := exchangeFailed(we, "GET / before the overflow: %s", exchangeSays(we))
		res.Verdict = spec.Warn
		return res
	}
	st, err := stopTree(env.Target.PID)
	if err != nil {
		return judged(spec.Warn, "cannot pause the target: %v", err)
	}
	defer st.resume()
	// Dial in batches until the accept queue is full (the kernel says so for a target on
	// this host) or some connections no longer complete their handshake. Completing the
	// handshake does not mean being queued: with SYN cookies, or TCP_DEFER_ACCEPT (Apache's
	// default: a connection is queued when its first data arrives), the kernel finishes
	// handshakes it has no room to queue.
	dialTimeout := max(250*time.Millisecond, env.Window)
	var conns []*clients.Conn
	var sendErrs []error
	dropped, queued, backlog := 0, 0, 0
	known := false
	for len(conns)+dropped < backlogMaxConns && dropped == 0 && !(known && queued >= backlog) && ctx.Err() == nil {
		cs, errs := clients.DialEach(ctx, env.Target.Addr, backlogBatch, dialTimeout)
		var batch []*clients.Conn
		for i, c := range cs {
			if errs[i] != nil {
				dropped++
			} else {
				batch = append(batch, c)
			}
		}
		// Each batch sends its requests at once: a server that defers accepting until data
		// arrives (TCP_DEFER_ACCEPT) has the connection queued then, so the loop stops once
		// the queue is full instead of dialling on to backlogMaxConns.
		conns = append(conns, batch...)
		sendErrs = append(sendErrs, clients.SendEach(batch, req)...)
		queued, backlog, known = clients.ListenQueue(env.Target.Addr)
	}
	st.resume()
	ex := clients.ReadEach(ctx, conns, "GET", env.Timeout)
	if ctx.Err() != nil {
		return judged(spec.Skip, "interrupted: %v", ctx.Err())
	}
	var served, refused, reset, timedOut, wrong int
	var firstWrong *clients.Exchange
	var firstWhy string
	for i := range ex {
		e := &ex[i]
		switch {
		case sendErrs[i] != nil:
			reset++
		case e.Err == nil && e.Responses[0].StatusCode/100 == 5 && want.StatusCode/100 != 5:
			refused++ // 503 and the like: a clean refusal under load
		case e.Err == nil:
			if why := sameResponse(e.Responses[0], want); why != "" {
				wrong++
				if firstWrong == nil {
					firstWrong, firstWhy = e, why
				}
			} else {
				served++
			}
		case e.End == clients.Closed:
			refused++
		case e.End == clients.Reset:
			reset++
		case e.End == clients.Silent:
			timedOut++
		default:
			wrong++
			if firstWrong == nil {
				firstWrong, firstWhy = e, e.End.WhyStopped()+": "+e.Err.Error()
			}
		}
	}
	var full string
	switch {
	case known && queued >= backlog:
		full = fmt.Sprintf("yes, accept queue %d of %d", queued, backlog)
	case known:
		full = fmt.Sprintf("no, accept queue %d of %d", queued, backlog)
	default:
		full = "unknown (the target is not on this host)"
	}
	if dropped > 0 {
		full += fmt.Sprintf("; %d more connections could not complete their handshake", dropped)
	}
	counts := fmt.Sprintf("%d connections completed the handshake while the target was stopped; backlog full: %s; served %d, refused %d, reset %d, timed out %d (not judged: see the policy), wrong %d",
		len(conns), full, served, refused, reset, timedOut, wrong)
	if wrong > 0 {
		return withWire(judged(spec.Warn, "%s; first wrong: %s", counts, firstWhy), firstWrong)
	}
	more := func(ctx context.Context, n int) (ok int) {
		for range n {
			if e := clients.PartialSend(ctx, env.Target.Addr, req, nil, 0, env.Timeout); e.OK() {
				ok++
			}
		}
		return ok
	}
	r, failed := probeAfterStress(ctx, env, base, more, counts+"; then")
	if failed {
		return r
	}
	return judged(spec.Pass, "%s; a probe was served after; %s", counts, r.Detail)
}
