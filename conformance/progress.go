package conformance

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/forkproof/forkproof/spec"
)

// Progress shows how far a run is: on a terminal one status line rewritten in place (done of
// total, fails and warns so far, the case waited on longest, an estimate of the rest);
// elsewhere (a CI log) the same as a plain line every PlainEvery. Feed it Options.OnStart and
// Options.OnResult; Close erases the live line before the report is printed.
type Progress struct {
	w     io.Writer
	live  bool
	total int
	start time.Time
	every time.Duration

	mu      sync.Mutex
	done    int
	fails   int
	warns   int
	running map[string]time.Time
	drawn   time.Time // when the live line was last drawn
	closed  bool
	quit    chan struct{}
	wg      sync.WaitGroup
}

// PlainEvery is how often a Progress that is not live prints a line.
const PlainEvery = 5 * time.Second

// liveEvery is how often the live line is redrawn.
const liveEvery = 200 * time.Millisecond

// NewProgress starts showing the progress of a run of total cases on w: live (a terminal) or
// plain lines.
func NewProgress(w io.Writer, live bool, total int) *Progress {
	p := &Progress{w: w, live: live, total: total, start: time.Now(), every: PlainEvery,
		running: map[string]time.Time{}, quit: make(chan struct{})}
	if live {
		p.every = liveEvery
	} else {
		p.draw(p.start) // a log shows at once that a run started, and how big it is
	}
	p.wg.Go(func() {
		tick := time.NewTicker(p.every)
		defer tick.Stop()
		for {
			select {
			case <-p.quit:
				return
			case <-tick.C:
				p.mu.Lock()
				p.draw(time.Now())
				p.mu.Unlock()
			}
		}
	})
	return p
}

// Start records that a case started (Options.OnStart).
func (p *Progress) Start(m spec.Meta) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running[m.ID] = time.Now()
}

// Result records that a case ended (Options.OnResult).
func (p *Progress) Result(r Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.running, r.ID)
	p.done++
	switch r.Verdict {
	case spec.Fail:
		p.fails++
	case spec.Warn:
		p.warns++
	}
	if now := time.Now(); p.live && now.Sub(p.drawn) >= liveEvery/2 {
		p.draw(now) // at most a few redraws a second, however fast cases end
	}
}

// Close stops the display and erases the live line.
func (p *Progress) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	if p.live {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	p.mu.Unlock()
	close(p.quit)
	p.wg.Wait()
}

// draw prints the status line; p.mu is held.
func (p *Progress) draw(now time.Time) {
	if p.closed {
		return
	}
	line := p.Line(now)
	p.drawn = now
	if p.live {
		fmt.Fprint(p.w, "\r\x1b[K"+line)
		return
	}
	fmt.Fprintln(p.w, "forkproof: "+line)
}

// Line is the status line at now: "123/439 done · 2 fail · 1 warn · 12s · waiting 4.1s on
// robust/slowloris/1 (+7 more) · about 6s left".
func (p *Progress) Line(now time.Time) string {
	elapsed := now.Sub(p.start)
	parts := []string{fmt.Sprintf("%d/%d done", p.done, p.total)}
	if p.fails > 0 {
		parts = append(parts, fmt.Sprintf("%d fail", p.fails))
	}
	if p.warns > 0 {
		parts = append(parts, fmt.Sprintf("%d warn", p.warns))
	}
	parts = append(parts, roundDuration(elapsed))
	if len(p.running) > 0 {
		ids := make([]string, 0, len(p.running))
		for id := range p.running {
			ids = append(ids, id)
		}
		// The case waited on longest, ties by ID so the line does not flicker.
		slices.SortFunc(ids, func(a, b string) int {
			if c := p.running[a].Compare(p.running[b]); c != 0 {
				return c
			}
			return strings.Compare(a, b)
		})
		w := fmt.Sprintf("waiting %s on %s", roundDuration(now.Sub(p.running[ids[0]])), ids[0])
		if len(ids) > 1 {
			w += fmt.Sprintf(" (+%d more)", len(ids)-1)
		}
		parts = append(parts, w)
	}
	if p.done > 0 && p.done < p.total {
		// The rate so far, applied to what is left: rough, since long cases start first.
		left := time.Duration(float64(elapsed) * float64(p.total-p.done) / float64(p.done))
		parts = append(parts, "about "+roundDuration(left)+" left")
	}
	return strings.Join(parts, " · ")
}

// roundDuration prints d to a tenth of a second under a minute, to the second above.
func roundDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}
