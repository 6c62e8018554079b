package fuzz

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/forkproof/forkproof/spec/wire"
	"pgregory.net/rapid"
)

// checkParsed says how got differs from what r sent.
func checkParsed(r *Request, got *wire.Request) error {
	switch {
	case got.Method != r.Method:
		return fmt.Errorf("method %q; want %q", got.Method, r.Method)
	case got.Target != r.Target:
		return fmt.Errorf("target %q; want %q", got.Target, r.Target)
	case got.Version != r.Version:
		return fmt.Errorf("version %q; want %q", got.Version, r.Version)
	case !slices.Equal(got.Header, r.Fields()):
		return fmt.Errorf("header %q; want %q", got.Header, r.Fields())
	case !bytes.Equal(got.Body, r.Body):
		return fmt.Errorf("body %q; want %q", got.Body, r.Body)
	case got.Chunked != r.Chunked:
		return fmt.Errorf("chunked %v; want %v", got.Chunked, r.Chunked)
	case !slices.Equal(got.Trailer, r.TrailerFields()):
		return fmt.Errorf("trailer %q; want %q", got.Trailer, r.TrailerFields())
	}
	return nil
}

// propValidRequest: every generated valid request is accepted whole and read back exactly,
// and parse ∘ serialize is the identity on its parts.
func propValidRequest(t *rapid.T) { checkValidRequest(t, RapidSource(t)) }

// fatalfT is what the properties need of a test: a *rapid.T, or in the libFuzzer build the
// *testing.T of go-118-fuzz-build's shim.
type fatalfT interface {
	Helper()
	Fatalf(format string, args ...any)
}

// checkValidRequest is propValidRequest with its draws from s.
func checkValidRequest(t fatalfT, s Source) {
	t.Helper()
	r := GenRequest(s, ReqOptions{})
	b := r.Bytes()
	got, n, err := wire.ParseRequest(b)
	if err != nil {
		t.Fatalf("ParseRequest(%q): %v", b, err)
	}
	if n != len(b) || !bytes.Equal(got.Raw, b) {
		t.Fatalf("ParseRequest(%q) consumed %d bytes; want %d", b, n, len(b))
	}
	if err := checkParsed(r, got); err != nil {
		t.Fatalf("ParseRequest(%q): %v", b, err)
	}
	again, n2, err := wire.ParseRequest(got.Bytes())
	if err != nil || n2 != len(got.Bytes()) {
		t.Fatalf("ParseRequest(Bytes()=%q) = %v, %d bytes", got.Bytes(), err, n2)
	}
	if err := checkParsed(r, again); err != nil {
		t.Fatalf("parse∘serialize of %q: %v", b, err)
	}
	// Every strict prefix is incomplete, never an error or a request.
	cut := s.Int(0, len(b)-1, "prefix")
	if _, _, err := wire.ParseRequest(b[:cut]); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("ParseRequest(%q) (prefix of a valid request) = %v; want io.ErrUnexpectedEOF", b[:cut], err)
	}
}

func TestJudgeAcceptsValidRequests(t *testing.T) { rapid.Check(t, propValidRequest) }

// propInvalidRequest: every targeted mutation is rejected for the recorded reason.
func propInvalidRequest(t *rapid.T) { checkInvalidRequest(t, RapidSource(t)) }

// checkInvalidRequest is propInvalidRequest with its draws from s.
func checkInvalidRequest(t fatalfT, s Source) {
	t.Helper()
	inv := GenInvalid(s, ReqOptions{})
	_, _, err := wire.ParseRequest(inv.Bytes)
	var we *wire.Error
	if !errors.As(err, &we) {
		t.Fatalf("For %q (%s), ParseRequest error = %v; want rule %s", inv.Bytes, inv.Mutation.Name, err, inv.Mutation.Rule)
	}
	if we.Rule != inv.Mutation.Rule {
		t.Fatalf("For %q (%s), rule = %s (%v); want %s", inv.Bytes, inv.Mutation.Name, we.Rule, we, inv.Mutation.Rule)
	}
}

func TestJudgeRejectsMutations(t *testing.T) { rapid.Check(t, propInvalidRequest) }

// Every mutation is exercised: the generator reaches each of them.
func TestEveryMutationApplies(t *testing.T) {
	for i, m := range Mutations {
		t.Run(m.Name, func(t *testing.T) {
			for seed := range uint64(20) {
				s := RandSource(seed*100 + uint64(i))
				base := GenRequest(s, ReqOptions{})
				b := m.apply(s, base.clone())
				_, _, err := wire.ParseRequest(b)
				var we *wire.Error
				if !errors.As(err, &we) || we.Rule != m.Rule {
					t.Fatalf("For %q, ParseRequest error = %v; want rule %s", b, err, m.Rule)
				}
			}
		})
	}
}

// propResponseRoundTrip: generated responses are read back exactly by the strict reader and
// re-serialise to something it reads the same way.
func propResponseRoundTrip(t *rapid.T) {
	resp := GenResponse(RapidSource(t))
	b := resp.Bytes()
	got, err := wire.ReadResponse(bufio.NewReader(bytes.NewReader(b)), resp.Method)
	if err != nil {
		t.Fatalf("ReadResponse(%q, %s): %v", b, resp.Method, err)
	}
	if err := resp.check(got); err != nil {
		t.Fatalf("ReadResponse(%q, %s): %v", b, resp.Method, err)
	}
	again, err := wire.ReadResponse(bufio.NewReader(bytes.NewReader(got.Bytes())), resp.Method)
	if err != nil {
		t.Fatalf("ReadResponse(Bytes()=%q): %v", got.Bytes(), err)
	}
	if err := resp.check(again); err != nil {
		t.Fatalf("parse∘serialize of %q: %v", b, err)
	}
}

func TestJudgeReadsResponses(t *testing.T) { rapid.Check(t, propResponseRoundTrip) }
