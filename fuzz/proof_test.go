package fuzz

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forkproof/forkproof/internal/testbin"
	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/targets"
	"github.com/stretchr/testify/require"
)

// fakeServer is a throwaway HTTP/1.1 server with one planted bug: bug inspects each request
// and says whether to drop the connection without answering.
func fakeServer(t *testing.T, bug func(*http.Request) bool) string {
	t.Helper()
	return startFake(t, &fake{handle: func(c net.Conn, r *http.Request) bool { return !bug(r) && answer(c, r) }})
}

// highByteInHeader is the planted bug: a header value holding a byte above 0x7e (legal
// obs-text) kills the connection.
func highByteInHeader(req *http.Request) bool {
	for _, vs := range req.Header {
		for _, v := range vs {
			for i := 0; i < len(v); i++ {
				if v[i] > 0x7e {
					return true
				}
			}
		}
	}
	return false
}

func hasHighByteHeader(b []byte) bool {
	head, _, _ := bytes.Cut(b, []byte("\r\n\r\n"))
	for _, line := range bytes.Split(head, []byte("\r\n"))[1:] {
		for _, c := range line {
			if c > 0x7e {
				return true
			}
		}
	}
	return false
}

// The campaign finds a planted crash within 30 seconds, minimises it, and replay reproduces
// it, in-process and through the forkproof binary.
func TestCampaignFindsPlantedCrash(t *testing.T) {
	t.Parallel()
	addr := fakeServer(t, highByteInHeader)
	out := t.TempDir()
	planted := func(f *Finding) bool {
		return f.Kind == KindNoResponse && f.Repro != nil && hasHighByteHeader(f.Repro.Send)
	}
	rep, err := Run(context.Background(), Config{
		Target: &targets.Target{Addr: addr}, Duration: 30 * time.Second, Seed: 7, Out: out,
		MinimizeBudget: 5 * time.Second, StopWhen: planted,
	})
	if err != nil {
		t.Fatal(err)
	}
	var found *Finding
	for _, f := range rep.Findings {
		t.Logf("finding %s: %s\n  %s", f.Kind, f.Detail, f.Repro.SendText)
		if planted(f) {
			found = f
		}
	}
	if found == nil {
		t.Fatalf("after %s and %d inputs, no no-response finding with a high byte in a header; findings: %d", rep.Elapsed, rep.Inputs, len(rep.Findings))
	}
	t.Logf("found after %s, %d inputs; minimised to %d bytes", rep.Elapsed, rep.Inputs, len(found.Repro.Send))
	if found.File == "" {
		t.Fatal("finding has no reproducer file")
	}
	repro, err := ReadRepro(found.File)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Replay(addr, repro, 2*time.Second)
	if err != nil || got.Kind != KindNoResponse || got.Grade != spec.Warn {
		t.Fatalf("Replay(%s) = %+v, %v; want a %s warn", found.File, got, err, KindNoResponse)
	}

	// The binary: replay says REPRODUCED, and exits 0 for a warn (1 is for a fail, as fuzz:
	// TestFuzzCommandGrades).
	cmd := exec.Command(testbin.Path(t), "replay", found.File, "-addr", addr)
	outb, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(outb), "REPRODUCED WARN no-response") {
		t.Fatalf("forkproof replay: %v\n%s", err, outb)
	}
	// Several files at once, with a count.
	outb, err = exec.Command(testbin.Path(t), "replay", found.File, found.File, "-addr", addr).CombinedOutput()
	if err != nil || !strings.Contains(string(outb), "2 of 2 reproduced, 0 of them failing") {
		t.Fatalf("forkproof replay of two files: %v\n%s", err, outb)
	}
	// Without a target it says which one it used: "not reproduced" there is no verdict on
	// the user's server.
	outb, err = exec.Command(testbin.Path(t), "replay", found.File).CombinedOutput()
	if err != nil || !strings.Contains(string(outb), "target: the embedded reference server") {
		t.Fatalf("forkproof replay without a target: %v\n%s", err, outb)
	}
}

// The binary's campaign finds the same bug, writes reproducers and a summary, and exits 0:
// a connection dropped without an answer breaks no MUST (RFC 9112 §9.5 lets a server close
// at any time), so it is a warn. A target that serves whatever net/http's reader takes (a
// request without Host, against RFC 9112 §3.2's MUST; Content-Length with Transfer-Encoding,
// kept open against §6.1's) makes it exit 1.
func TestFuzzCommandGrades(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		bug   func(*http.Request) bool
		code  int
		grade string
	}{
		{"drops a connection", highByteInHeader, 0, "FINDING WARN no-response"},
		{"accepts what must be refused", func(*http.Request) bool { return false }, 1, "FINDING FAIL "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr := fakeServer(t, tt.bug)
			out := t.TempDir()
			cmd := exec.Command(testbin.Path(t), "fuzz", "-addr", addr, "-duration", "20s", "-out", out, "-seed", "3", "-workers", "1", "-max-findings", "1", "-minimize", "1s")
			b, err := cmd.CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.code || !strings.Contains(string(b), tt.grade) {
				t.Fatalf("forkproof fuzz: exit %d; want %d and %q\n%s", code, tt.code, tt.grade, b)
			}
			files, _ := filepath.Glob(filepath.Join(out, "*.json"))
			sum, err := ReadSummary(out)
			if err != nil || len(files) != 2 || len(sum.Findings) != 1 {
				t.Fatalf("forkproof fuzz wrote %d files; summary %+v, %v:\n%s", len(files), sum, err, b)
			}
			// Merged alone, the campaign's findings are themselves, with the same exit code.
			merged := filepath.Join(t.TempDir(), "merged")
			b, err = exec.Command(testbin.Path(t), "fuzz", "merge", "-out", merged, out).CombinedOutput()
			code = 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			if code != tt.code || !strings.Contains(string(b), "merged seed 3 shard 0/1") || !strings.Contains(string(b), tt.grade) {
				t.Fatalf("forkproof fuzz merge: exit %d; want %d\n%s", code, tt.code, b)
			}
			// Replayed, the finding shows again with its grade, and the exit code follows it.
			repros, _ := filepath.Glob(filepath.Join(out, "01-*.json"))
			require.Len(t, repros, 1)
			b, err = exec.Command(testbin.Path(t), "replay", repros[0], "-addr", addr).CombinedOutput()
			code = 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			if code != tt.code || !strings.Contains(string(b), "REPRODUCED "+strings.TrimPrefix(tt.grade, "FINDING ")) {
				t.Fatalf("forkproof replay: exit %d; want %d\n%s", code, tt.code, b)
			}
		})
	}
}

func TestFuzzCommandUsage(t *testing.T) {
	for _, args := range [][]string{
		{"fuzz"},                                // no -out
		{"fuzz", "-out", t.TempDir(), "-bogus"}, // unknown flag
		{"fuzz", "-out", t.TempDir(), "-addr", "127.0.0.1:1", "-duration", "1s"}, // unreachable
		{"fuzz", "-out", t.TempDir(), "-shard", "2/2"},                           // no such shard
		{"fuzz", "-out", t.TempDir(), "-shard", "x"},
		{"fuzz", "merge"},              // nothing to merge
		{"fuzz", "merge", t.TempDir()}, // not a campaign's directory
		{"replay"},                     // no file
		{"replay", filepath.Join(t.TempDir(), "missing.json"), "-addr", "127.0.0.1:1"},
	} {
		cmd := exec.Command(testbin.Path(t), args...)
		b, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
			t.Errorf("forkproof %q: %v; want exit 2\n%s", args, err, b)
		}
	}
}
