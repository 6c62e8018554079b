package fuzz

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/forkproof/forkproof/clients"
	"github.com/forkproof/forkproof/internal/testbin"
	"github.com/forkproof/forkproof/spec/wire"
	"github.com/forkproof/forkproof/targets"
	"pgregory.net/rapid"
)

var modes = []string{"fork", "prefork", "goroutine"}

// reference starts the reference server in mode; it is stopped when the test ends.
func reference(t testing.TB, mode string) *targets.Target {
	t.Helper()
	bin := testbin.Path(t) // built once, which can take long on a busy machine: not counted in the start
	tg, stop, err := targets.LaunchBinary(t.Context(), bin, "-mode", mode)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Logf("stopping the %s server: %v", mode, err)
		}
	})
	return tg
}

// reflection is the JSON /reflect answers with.
type reflection struct {
	Method, Target, Version string
	Headers, Trailers       [][2]string
	Body                    []byte
}

// latin1 undoes the server's \u00XX escaping of bytes above 0x7e.
func latin1(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		b = append(b, byte(r))
	}
	return string(b)
}

func checkReflection(r *Request, resp *wire.Response) error {
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d %s; want 200", resp.StatusCode, resp.Body)
	}
	var got reflection
	if err := json.Unmarshal(resp.Body, &got); err != nil {
		return fmt.Errorf("reflect JSON %q: %v", resp.Body, err)
	}
	fix := func(fs [][2]string) [][2]string {
		for i := range fs {
			fs[i] = [2]string{latin1(fs[i][0]), latin1(fs[i][1])}
		}
		if fs == nil {
			fs = [][2]string{}
		}
		return fs
	}
	want := func(fs [][2]string) [][2]string {
		if fs == nil {
			return [][2]string{}
		}
		return fs
	}
	switch {
	case got.Method != r.Method || latin1(got.Target) != r.Target || got.Version != r.Version:
		return fmt.Errorf("request line %s %s %s; want %s %s %s", got.Method, got.Target, got.Version, r.Method, r.Target, r.Version)
	case !slices.Equal(fix(got.Headers), want(r.Fields())):
		return fmt.Errorf("headers %q; want %q", got.Headers, r.Fields())
	case !bytes.Equal(got.Body, r.Body):
		return fmt.Errorf("body %q; want %q", got.Body, r.Body)
	case !slices.Equal(fix(got.Trailers), want(r.TrailerFields())):
		return fmt.Errorf("trailers %q; want %q", got.Trailers, r.TrailerFields())
	}
	return nil
}

var reflectOptions = ReqOptions{Path: "/reflect", Methods: []string{"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}, NoHTTP10: true}

// TestReferenceReflectsGeneratedRequests: in every mode, valid requests pipelined with a
// generated delivery plan come back from /reflect exactly as sent, in order.
func TestReferenceReflectsGeneratedRequests(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			tg := reference(t, mode)
			rapid.Check(t, func(rt *rapid.T) {
				s := RapidSource(rt)
				plan := GenPlan(s, 4)
				var reqs []*Request
				var send []byte
				for range plan.Depth {
					r := GenRequest(s, reflectOptions)
					reqs = append(reqs, r)
					send = append(send, r.Bytes()...)
				}
				in := &Input{Send: send, SplitAt: Splits(s, len(send), 3), Pause: plan.Pause, HalfClose: plan.HalfClose}
				tgt := &target{addr: tg.Addr, timeout: 10 * time.Second}
				res, err := tgt.probe(in, analyze(send))
				if err != nil {
					rt.Fatal(err)
				}
				if res.kind != "" {
					rt.Fatalf("For %q: %s: %s", send, res.kind, res.detail)
				}
				// Re-send on a fresh connection and compare each reflection.
				c2, err := tgt.dial()
				if err != nil {
					rt.Fatal(err)
				}
				defer c2.Close()
				if err := c2.Send(send); err != nil {
					rt.Fatal(err)
				}
				for i, r := range reqs {
					resp, err := readFinal(c2, r.Method, 10*time.Second)
					if err != nil {
						rt.Fatalf("For %q, response %d: %v", send, i+1, err)
					}
					if err := checkReflection(r, resp); err != nil {
						rt.Fatalf("For %q, request %d: %v", r.Bytes(), i+1, err)
					}
				}
			})
		})
	}
}

// TestReferenceRejectsMutations: in every mode, each targeted invalid request gets the status
// its mutation calls for, and the connection is closed.
func TestReferenceRejectsMutations(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			tg := reference(t, mode)
			rapid.Check(t, func(rt *rapid.T) {
				inv := GenInvalid(RapidSource(rt), reflectOptions)
				c, err := (&target{addr: tg.Addr, timeout: 10 * time.Second}).dial()
				if err != nil {
					rt.Fatal(err)
				}
				defer c.Close()
				if err := c.Send(inv.Bytes); err != nil {
					rt.Fatal(err)
				}
				resp, err := readFinal(c, tailMethod(inv.Bytes), 10*time.Second)
				if err != nil {
					rt.Fatalf("For %q (%s), no response: %v; want %v then close", inv.Bytes, inv.Mutation.Name, err, inv.Mutation.Status)
				}
				if !slices.Contains(inv.Mutation.Status, resp.StatusCode) {
					rt.Fatalf("For %q (%s), Status = %d; want %v", inv.Bytes, inv.Mutation.Name, resp.StatusCode, inv.Mutation.Status)
				}
				if end, data := c.WaitEnd(10 * time.Second); end == clients.Data || end == clients.Silent {
					rt.Fatalf("For %q (%s), after %d: %s %q; want close", inv.Bytes, inv.Mutation.Name, resp.StatusCode, end, data)
				}
			})
		})
	}
}
