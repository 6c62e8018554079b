package conformance

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/forkproof/forkproof/clients"
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
		lockedScenario(robust("robust/backlog/1", "connections beyond a full listen backlog get a correct response or a clean refusal",
			"With the target stopped, more connections are opened than its backlog holds; once it resumes, each connection must get the right response, or be refused or reset cleanly — never a wrong or mixed-up response — and the server must leave no zombie and no leaked fd.",
			"every connection gets the response GET / gets, or a close, a reset or a timeout (counted); then a probe is served, no zombie, fds back to baseline"),
			[]spec.Need{spec.NeedPID}, true, runBacklog),
	}
}

// stopped is a set of processes paused with SIGSTOP; resume is safe to call more than once.
type stopped struct {
	once sync.Once
	pids []int
}

func stopTree(pid int) (*stopped, error) {
	kids, err := Children(pid)
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
		return judged(spec.Fail, "%v", err)
	}
	req := reqGet(env, "GET", "/", "Connection: close")
	want, we := sendWhole(ctx, env, req)
	if want == nil {
		return exchangeFailed(we, "GET / before the overflow: %s", exchangeSays(we))
	}
	st, err := stopTree(env.Target.PID)
	if err != nil {
		return judged(spec.Fail, "cannot pause the target: %v", err)
	}
	defer st.resume()
	// Dial in batches until some connections no longer complete their handshake: the backlog
	// is full and the kernel drops their SYNs.
	dialTimeout := max(250*time.Millisecond, env.Window)
	var conns []*clients.Conn
	dropped := 0
	for len(conns)+dropped < backlogMaxConns && dropped == 0 && ctx.Err() == nil {
		cs, errs := clients.DialEach(ctx, env.Target.Addr, backlogBatch, dialTimeout)
		for i, c := range cs {
			if errs[i] != nil {
				dropped++
			} else {
				conns = append(conns, c)
			}
		}
	}
	sendErrs := clients.SendEach(conns, req)
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
		case e.Err == nil:
			if why := sameResponse(e.Responses[0], want); why != "" {
				wrong++
				if firstWrong == nil {
					firstWrong, firstWhy = e, why
				}
			} else {
				served++
			}
		case e.Kind == clients.KindFIN:
			refused++
		case e.Kind == clients.KindRST:
			reset++
		case e.Kind == clients.KindTimeout:
			timedOut++
		default:
			wrong++
			if firstWrong == nil {
				firstWrong, firstWhy = e, e.Kind.String()+": "+e.Err.Error()
			}
		}
	}
	counts := fmt.Sprintf("%d connections completed the handshake while the target was stopped, %d more were dropped (backlog full: %v); served %d, refused %d, reset %d, timed out %d, wrong %d",
		len(conns), dropped, dropped > 0, served, refused, reset, timedOut, wrong)
	if wrong > 0 {
		return withWire(judged(spec.Fail, "%s; first wrong: %s", counts, firstWhy), firstWrong)
	}
	if why, e := probeServed(ctx, env); why != "" {
		return exchangeFailed(e, "%s; then a probe GET / was not served: %s", counts, why)
	}
	if bad, numbers := afterStress(ctx, env, base); bad != "" {
		return judged(spec.Fail, "%s; then %s", counts, bad)
	} else {
		return judged(spec.Pass, "%s; a probe was served after; %s", counts, numbers)
	}
}
