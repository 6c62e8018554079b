package fuzz

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forkproof/forkproof/internal/testbin"
	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/targets"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sig is the signature of a finding of kind (cause) about request req of the input send.
func sig(kind, cause string, req int, send string) string {
	return signature(result{kind: kind, cause: cause, req: req}, analyze([]byte(send)))
}

// Findings that differ in their bytes but not in their cause share a signature; findings with
// different causes do not.
func TestSignature(t *testing.T) {
	same := [][2]string{
		// The nginx example: one malformed answer to a broken request line, reached
		// by four mutations.
		{sig(KindIllFramed, "status-line", 0, "T /\n"), sig(KindIllFramed, "status-line", 0, "E /\n")},
		{sig(KindIllFramed, "status-line", 0, "1\r\n\n"), sig(KindIllFramed, "status-line", 0, ".1\r\n\r\n")},
		{sig(KindIllFramed, "no-status-line", 0, "T l P"), sig(KindIllFramed, "no-status-line", 0, "\"\n")}, // incomplete, invalid
		// An extension method dropped without an answer, whatever the token.
		{sig(KindNoResponse, "closed", 0, "\r\nD / HTTP/1.1\r\nHost:\r\n\r\n"), sig(KindNoResponse, "closed", 0, "S / HTTP/1.1\r\nHost: a\r\n\r\n")},
		// The version is not part of it.
		{sig(KindNoClose, "extra-bytes", 0, "HEAD / HTTP/1.0\r\n\r\n"), sig(KindNoClose, "extra-bytes", 0, "HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")},
		{sig(KindAcceptInvalid, "", 0, noHost), sig(KindAcceptInvalid, "", 0, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")},
		// A body to HEAD: bytes where the connection should end, or where the next response
		// should start, whatever the next request.
		{sig(KindIllFramed, "extra-bytes", 0, "HEAD / HTTP/1.0\r\n\r\n"), sig(KindIllFramed, "no-status-line", 1, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"+getKA)},
		{sig(KindIllFramed, "no-status-line", 1, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"+getKA), sig(KindIllFramed, "no-status-line", 1, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\nD / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx")},
	}
	for _, p := range same {
		assert.Equal(t, p[0], p[1])
	}
	different := [][2]string{
		{sig(KindNoResponse, "closed", 0, "D / HTTP/1.1\r\nHost: a\r\n\r\n"), sig(KindNoResponse, "closed", 0, getKA)},
		{sig(KindNoResponse, "closed", 0, getKA), sig(KindNoResponse, "closed", 0, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")},
		{sig(KindIllFramed, "status-line", 0, "T /\n"), sig(KindIllFramed, "no-status-line", 0, "T /\n")},
		{sig(KindIllFramed, "status-line", 1, getKA+"T /\n"), sig(KindIllFramed, "status-line", 0, getKA)},
		// Bytes where the answer to a broken tail should start are graded as that answer
		// (warn), apart from those between valid requests (fail).
		{sig(KindIllFramed, "no-status-line", 1, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\nT /\n"), sig(KindIllFramed, "no-status-line", 1, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"+getKA)},
		{sig(KindIllFramed, "no-status-line", 1, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"+getKA), sig(KindIllFramed, "no-status-line", 0, getKA)},
		{sig(KindAcceptInvalid, "", 0, noHost), sig(KindAcceptInvalid, "", 0, "GET / HTTP/1.1\r\nHost : a\r\n\r\n")},
		{sig(KindNoResponse, "closed", 0, getKA), sig(KindHang, "silent", 0, getKA)},
	}
	for _, p := range different {
		assert.NotEqual(t, p[0], p[1])
	}
}

// Grades follow the sentence: a MUST broken fails, a SHOULD or a policy warns.
func TestGrade(t *testing.T) {
	for _, tt := range []struct {
		kind  string
		res   result
		send  string
		grade spec.Verdict
	}{
		{KindAcceptInvalid, result{}, noHost, spec.Fail},
		{KindEarlyResponse, result{req: 0}, echoReq, spec.Fail},
		{KindEarlyResponse, result{req: 0}, getKA, spec.Warn}, // no framing: a zero-length body, no keyword
		{KindEchoMismatch, result{req: 0}, echoReq, spec.Fail},
		{KindNoClose, result{class: "after-last"}, getClose, spec.Fail},
		{KindNoClose, result{class: "after-last-http10"}, "GET / HTTP/1.0\r\n\r\n", spec.Warn},
		{KindNoClose, result{class: "te-cl"}, teCL, spec.Fail},
		{KindIllFramed, result{req: 0, cause: "status-line"}, getKA, spec.Fail},
		{KindIllFramed, result{req: 0, cause: "extra-bytes"}, getClose, spec.Fail},
		{KindIllFramed, result{req: 0, cause: "truncated"}, getKA, spec.Warn},
		{KindIllFramed, result{req: 0, cause: "status-line"}, "T /\n", spec.Warn}, // after an invalid request: §2.2 SHOULD
		{KindNoResponse, result{req: 0, cause: "closed"}, getKA, spec.Warn},
		{KindHang, result{req: 0, cause: "silent"}, getKA, spec.Warn},
		{KindResetKills, result{req: -1}, getKA, spec.Warn},
		{KindTargetDied, result{req: -1, cause: "died"}, "", spec.Fail},
		{KindTargetDied, result{req: -1, cause: "stopped-accepting"}, "", spec.Warn},
		{KindServedIncomplete, result{}, headOnly, spec.Warn},
		{KindZombie, result{}, "", spec.Fail},
	} {
		g, why := grade(tt.kind, tt.res, analyze([]byte(tt.send)))
		assert.Equal(t, tt.grade, g, "%s %+v: %s", tt.kind, tt.res, why)
		assert.NotEmpty(t, why)
	}
}

// The shards of a campaign draw disjoint inputs that together are the whole campaign's.
func TestShardsAreDisjoint(t *testing.T) {
	const n = 1000
	seen := map[int64]int{}
	for i := range 3 {
		cp := &campaign{cfg: Config{Shard: i, Shards: 3, Inputs: n}}
		for {
			k, ok := cp.nextIndex()
			if !ok {
				break
			}
			assert.Equal(t, int64(i), k%3)
			seen[k]++
		}
	}
	require.Len(t, seen, n)
	for k, c := range seen {
		require.True(t, k >= 0 && k < n && c == 1, "input %d drawn %d times", k, c)
	}
	// Input k is the same whoever draws it.
	a, _ := genInput(RandSource(InputSeed(9, 42)), InputOptions{})
	b, _ := genInput(RandSource(InputSeed(9, 42)), InputOptions{})
	c, _ := genInput(RandSource(InputSeed(9, 43)), InputOptions{})
	assert.Equal(t, a.Send, b.Send)
	assert.NotEqual(t, a.Send, c.Send)
}

// A target whose answers to every request it cannot parse break the status line (as
// mini_httpd's "UNKNOWN 400 Bad Request"): many inputs, many reproducers, one finding.
func TestCampaignOneFindingPerCause(t *testing.T) {
	t.Parallel()
	addr := startFake(t, &fake{handle: answer, badRequest: "UNKNOWN 400 Bad Request\r\n\r\n"})
	rep, err := Run(context.Background(), Config{
		Target: &targets.Target{Addr: addr}, Duration: time.Minute, Inputs: 1500, Seed: 4, Out: t.TempDir(),
		MinimizeBudget: time.Second, Timeout: 2 * time.Second,
	})
	require.NoError(t, err)
	var bad []*Finding
	for _, f := range rep.Findings {
		t.Logf("%s %s (%d, %d variants): %s\n  %s", f.Grade, f.Signature, f.Count, f.Variants, f.Detail, f.Repro.SendText)
		if f.Kind == KindIllFramed && f.Repro != nil && f.Grade == spec.Warn {
			bad = append(bad, f)
		}
	}
	require.Len(t, bad, 1, "the malformed refusal should be one finding")
	assert.Greater(t, bad[0].Count, 10, "few inputs showed it: the test merged little")
}

// Merge adds the counts of findings with one signature and keeps the smallest reproducer; it
// refuses a directory that holds no campaign and an -out that is one of its inputs.
func TestMerge(t *testing.T) {
	dirs := []string{t.TempDir(), t.TempDir()}
	mk := func(dir, send string, count int, signature string) *Finding {
		f := &Finding{Kind: KindNoResponse, Grade: spec.Warn, Ground: "policy", Signature: signature, Detail: "d", Count: count, Variants: 1,
			File: filepath.Join(dir, signature+".json")}
		f.Repro = newRepro(f, 1, &Input{Send: []byte(send)})
		return f
	}
	require.NoError(t, writeFindings(dirs[0], &Summary{Tool: summaryTool, Seeds: []uint64{1}, Parts: []string{"seed 1 shard 0/2"}, Inputs: 10},
		[]*Finding{mk(dirs[0], "GET / long", 3, "a"), mk(dirs[0], "x", 1, "b")}))
	require.NoError(t, writeFindings(dirs[1], &Summary{Tool: summaryTool, Seeds: []uint64{1}, Parts: []string{"seed 1 shard 1/2"}, Inputs: 12},
		[]*Finding{mk(dirs[1], "GET / s", 4, "a")}))
	out := filepath.Join(t.TempDir(), "merged")
	sum, fs, err := Merge(dirs, out)
	require.NoError(t, err)
	assert.Equal(t, int64(22), sum.Inputs)
	assert.Equal(t, []string{"seed 1 shard 0/2", "seed 1 shard 1/2"}, sum.Parts)
	require.Len(t, fs, 2)
	assert.Equal(t, "a", fs[0].Signature)
	assert.Equal(t, 7, fs[0].Count)
	assert.Equal(t, 2, fs[0].Variants)
	assert.Equal(t, "GET / s", string(fs[0].Repro.Send))
	// What it wrote merges again to the same.
	again, fs2, err := Merge([]string{out}, "")
	require.NoError(t, err)
	assert.Equal(t, sum.Inputs, again.Inputs)
	assert.Equal(t, 7, fs2[0].Count)
	assert.Equal(t, "GET / s", string(fs2[0].Repro.Send))

	_, _, err = Merge([]string{dirs[0], out}, "")
	assert.ErrorContains(t, err, "seed 1 shard 0/2 is merged twice")
	_, _, err = Merge([]string{t.TempDir()}, "")
	assert.ErrorContains(t, err, "no findings.json")
	_, _, err = Merge(dirs, dirs[0])
	assert.ErrorContains(t, err, "is one of the directories merged")
	require.NoError(t, os.WriteFile(filepath.Join(dirs[1], SummaryFile), []byte("{}"), 0o644))
	_, _, err = Merge(dirs, "")
	assert.ErrorContains(t, err, "not a forkproof campaign summary")
}

// Two shards of one seed, merged, find what the whole campaign finds on the reference server's
// planted faults: the same root causes, from the same inputs.
func TestShardsMergeAsWhole(t *testing.T) {
	t.Parallel()
	for _, fault := range []string{"lenient-ws", "head-body"} {
		t.Run(fault, func(t *testing.T) {
			t.Parallel()
			tg, stop, err := targets.LaunchBinary(t.Context(), testbin.Path(t), "-mode", "prefork", "-fault", fault)
			require.NoError(t, err)
			t.Cleanup(func() { stop() })
			run := func(shard, shards int) (*Report, string) {
				out := t.TempDir()
				rep, err := Run(context.Background(), Config{Target: tg, Duration: 2 * time.Minute, Inputs: 1000, Seed: 8,
					Shard: shard, Shards: shards, Out: out, Timeout: 2 * time.Second, MinimizeBudget: 3 * time.Second})
				require.NoError(t, err)
				return rep, out
			}
			whole, _ := run(0, 1)
			r0, d0 := run(0, 2)
			r1, d1 := run(1, 2)
			assert.Equal(t, whole.Inputs, r0.Inputs+r1.Inputs)
			_, merged, err := Merge([]string{d0, d1}, "")
			require.NoError(t, err)
			sigs := func(fs []*Finding) []string {
				var out []string
				for _, f := range fs {
					out = append(out, f.Signature)
				}
				slices.Sort(out)
				return out
			}
			require.NotEmpty(t, whole.Findings, "the planted fault was not found")
			assert.Equal(t, sigs(whole.Findings), sigs(merged))
		})
	}
}

// A target that keeps a connection open after a request asking to close it, once and never
// again. Seen on a connection of its own, no earlier input did it, so the finding stands (a
// fail) although the target behaves when asked again; seen on a connection that served
// earlier inputs, it is unconfirmed (a warn).
func TestFindingSeenOnce(t *testing.T) {
	t.Parallel()
	closeOpt := func(req *http.Request) bool {
		return strings.Contains(strings.ToLower(req.Header.Get("Connection")), "close")
	}
	http10 := func(req *http.Request) bool { return req.ProtoMinor == 0 }
	for _, tt := range []struct {
		name    string
		first   bool // the request that asks to close is the first on its connection
		asks    func(*http.Request) bool
		finding string // the finding's signature starts so
		grade   spec.Verdict
		detail  string
	}{
		// A "close" option: RFC 9112 §9.6 MUST.
		{"on a fresh connection", true, closeOpt, "no-close/after-last/", spec.Fail, "seen on a fresh connection"},
		// Unconfirmed: a warn, with the mark.
		{"after other inputs", false, http10, "no-close/after-last-http10/", spec.Warn, "did not reproduce on a fresh connection"},
		// HTTP/1.0 alone: §9.3, no keyword, a warn even when seen on a fresh connection.
		{"HTTP/1.0 on a fresh connection", true, http10, "no-close/after-last-http10/", spec.Warn, "seen on a fresh connection"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			served := map[net.Conn]int{}
			done := false
			fk := &fake{}
			fk.handle = func(c net.Conn, req *http.Request) bool {
				mu.Lock()
				served[c]++
				alone, _ := fk.alone.Load(c)
				// First on its connection; or after other inputs on it: not first, and not
				// pipelined behind a request of the same input.
				at := served[c] == 1
				if !tt.first {
					at = served[c] > 1 && alone == true
				}
				// (Not the campaign's own probes, which name the host "forkproof".)
				once := tt.asks(req) && at && !done && req.Host != "forkproof"
				done = done || once
				mu.Unlock()
				if !answer(c, req) {
					return false
				}
				if once {
					<-time.After(5 * time.Second) // the bug: the connection stays open (the fake's own deadline)
				}
				return true
			}
			addr := startFake(t, fk)
			isNoClose := func(f *Finding) bool { return strings.HasPrefix(f.Signature, tt.finding) }
			rep, err := Run(context.Background(), Config{Target: &targets.Target{Addr: addr}, Duration: 30 * time.Second, Seed: 2, Workers: 1,
				MinimizeBudget: time.Second, Timeout: time.Second, StopWhen: isNoClose})
			require.NoError(t, err)
			f := firstFinding(rep, isNoClose)
			require.NotNil(t, f, "after %d inputs, no no-close finding", rep.Inputs)
			t.Logf("%s %s: %s\n  %s\n  %s", f.Grade, f.Signature, f.Detail, f.Repro.SendText, f.Repro.Plan())
			assert.Equal(t, tt.grade, f.Grade, f.Detail)
			assert.Contains(t, f.Detail, tt.detail)
		})
	}
}
