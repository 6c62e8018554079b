package conformance

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/forkproof/forkproof/spec"
)

func TestProgressLine(t *testing.T) {
	var out bytes.Buffer
	p := NewProgress(&out, false, 10)
	defer p.Close()
	assert.Equal(t, "forkproof: 0/10 done · 0.0s\n", out.String(), "a plain progress says at once that a run started")

	p.mu.Lock()
	start := p.start
	p.mu.Unlock()
	p.Start(spec.Meta{ID: "a"})
	p.Start(spec.Meta{ID: "b"})
	p.Start(spec.Meta{ID: "c"})
	p.Result(Result{Meta: spec.Meta{ID: "b"}, Verdict: spec.Fail})
	p.Result(Result{Meta: spec.Meta{ID: "c"}, Verdict: spec.Warn})
	p.mu.Lock()
	p.running["a"] = start // waited on longest
	line := p.Line(start.Add(4 * time.Second))
	p.mu.Unlock()
	assert.Equal(t, "2/10 done · 1 fail · 1 warn · 4.0s · waiting 4.0s on a · about 16.0s left", line)
}

func TestProgressLiveRedrawsAndErases(t *testing.T) {
	var out bytes.Buffer // written under p.mu, read after Close
	p := NewProgress(&out, true, 2)
	p.Start(spec.Meta{ID: "x"})
	p.Result(Result{Meta: spec.Meta{ID: "x"}, Verdict: spec.Pass})
	p.Close()
	p.Close() // twice is harmless
	s := out.String()
	assert.True(t, strings.HasPrefix(s, "\r\x1b[K1/2 done"), "%q", s)
	assert.True(t, strings.HasSuffix(s, "\r\x1b[K"), "the live line is erased at the end: %q", s)
	assert.NotContains(t, s, "\n", "a live line never scrolls")
}
