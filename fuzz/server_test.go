package fuzz

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/forkproof/forkproof/internal/testbin"
	"github.com/forkproof/forkproof/spec/wire"
	"github.com/forkproof/forkproof/targets"
	"pgregory.net/rapid"
)

var modes = []string{"fork", "prefork", "goroutine"}

// reference starts the reference server in mode; it is stopped when the test ends.
func reference(t *testing.T, mode string) *targets.Target {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tg, stop, err := targets.LaunchBinary(ctx, testbin.Path(t), "-mode", mode)
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
				c, err := dial(tg.Addr, 10*time.Second)
				if err != nil {
					rt.Fatal(err)
				}
				defer c.close()
				res := exchange(c, in, analyze(send), 10*time.Second)
				if res.kind != "" {
					rt.Fatalf("For %q: %s: %s", send, res.kind, res.detail)
				}
				// Re-send on a fresh connection and compare each reflection.
				c2, err := dial(tg.Addr, 10*time.Second)
				if err != nil {
					rt.Fatal(err)
				}
				defer c2.close()
				c2.c.SetDeadline(time.Now().Add(15 * time.Second))
				if _, err := c2.c.Write(send); err != nil {
					rt.Fatal(err)
				}
				for i, r := range reqs {
					resp, err := c2.readFinal(r.Method, 10*time.Second)
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
				c, err := dial(tg.Addr, 10*time.Second)
				if err != nil {
					rt.Fatal(err)
				}
				defer c.close()
				c.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
				if _, err := c.c.Write(inv.Bytes); err != nil {
					rt.Fatal(err)
				}
				resp, err := c.readFinal(tailMethod(inv.Bytes), 10*time.Second)
				if err != nil {
					rt.Fatalf("For %q (%s), no response: %v; want %v then close", inv.Bytes, inv.Mutation.Name, err, inv.Mutation.Status)
				}
				if !slices.Contains(inv.Mutation.Status, resp.StatusCode) {
					rt.Fatalf("For %q (%s), Status = %d; want %v", inv.Bytes, inv.Mutation.Name, resp.StatusCode, inv.Mutation.Status)
				}
				c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
				if n, err := io.Copy(io.Discard, c.br); err != nil && !isReset(err) || n > 0 {
					rt.Fatalf("For %q (%s), after %d: %d more bytes, %v; want close", inv.Bytes, inv.Mutation.Name, resp.StatusCode, n, err)
				}
			})
		})
	}
}

func isReset(err error) bool {
	var ne interface{ Timeout() bool }
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}
