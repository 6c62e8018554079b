// Package conformance runs forkproof's cases against a target — any HTTP/1.1 server reachable
// on loopback — and turns what happened into verdicts and reports.
package conformance

import (
	"context"
	"time"

	"github.com/forkproof/forkproof/hygiene"
	"github.com/forkproof/forkproof/spec"
	"github.com/forkproof/forkproof/targets"
)

// Wire is the transcript of one case: the exact bytes, escaped, with split points and pauses
// marked ("⟨split⟩", "⟨pause 50ms⟩", "⟨shutdown wr⟩", "⟨reconnect⟩"), and what came back
// ending with how the connection ended ("⟨close⟩", "⟨reset⟩", "⟨timeout 300ms⟩").
type Wire struct {
	Sent     string `json:"sent"`
	Received string `json:"received"`
}

// Result is the judgement of one case.
type Result struct {
	spec.Meta
	Verdict  spec.Verdict  `json:"verdict"`
	Detail   string        `json:"detail,omitempty"` // "got 200 then close; want one of [400 then close, close without a response]"
	Duration time.Duration `json:"-"`
	Wire     *Wire         `json:"wire,omitempty"`
	// Quirk is the reason from the quirks file when this case is a known, expected deviation.
	Quirk string `json:"quirk,omitempty"`
	// Timed reports that a non-pass verdict rests on a timed observation (a response that did
	// not arrive within Env.Timeout, a close not seen within Env.Window): the runner re-runs
	// such a case with longer waits before believing it.
	Timed bool `json:"-"`
	// Silence, with Timed, is how long the server stayed silent and open where the verdict
	// wanted a response or a close: Env.Timeout when it never answered, Env.Window when it
	// did not close in time.
	Silence time.Duration `json:"-"`
	// Attempts, when the case was re-run, says what each earlier run saw and why it was not
	// believed: only a verdict resting on an expired wait is re-run, with longer waits.
	Attempts []Attempt `json:"attempts,omitempty"`
}

// Attempt is one earlier run of a case that was re-run: the waits it had and what it saw.
type Attempt struct {
	WindowMS  int64        `json:"window_ms"`
	TimeoutMS int64        `json:"timeout_ms"`
	Verdict   spec.Verdict `json:"verdict"`
	Detail    string       `json:"detail"`
}

// Case is one runnable case: a catalogue entry interpreted by the runner, or a scenario written
// in Go (robustness, hygiene).
type Case struct {
	spec.Meta
	Needs []spec.Need
	// Schedule says when the runner may run the case alongside others (default: any time).
	Schedule Schedule
	// Baseline says the case judges the target against the hygiene baseline the runner takes
	// before any case runs (Env.Baseline); without one (no PID) the case is skipped.
	Baseline bool
	Run      func(ctx context.Context, env *Env) Result
}

// Schedule is when the runner may run a case, so that long waits overlap the rest of the run
// while cases that stop or measure the whole target run alone.
type Schedule int

const (
	// Anytime cases run alongside up to Options.Parallel others.
	Anytime Schedule = iota
	// Long cases run alongside others too, but their cost is a fixed wait or hundreds of
	// connections (slow clients, every byte split, resets): they start first, so their waits
	// overlap the short cases, and the quick profile (-short) leaves them out.
	Long
	// Alone cases stop or flood the whole target (the backlog scenario pauses it): each runs by
	// itself once the cases run alongside are done.
	Alone
	// Quiet cases judge the target's processes at rest (hygiene): each runs by itself, last.
	Quiet
)

// Env is what a running case gets: where the target is and how patient to be.
type Env struct {
	Target *targets.Target
	// Timeout bounds every wait for a response.
	Timeout time.Duration
	// Window is how long "the server waits / stays silent" is observed before it is believed.
	// Runs that would fail on a timed observation are retried with a longer window.
	Window time.Duration
	// SlowBound is how long a slow client (slowloris, slow body) is kept up before the server
	// is said to wait too long. It is the user's bound, not a timing window: retries keep it.
	SlowBound time.Duration
	// Hygiene tunes the hygiene judgements (fd tolerance, settle period), defaults filled in.
	Hygiene hygiene.Options
	// Baseline is the target's process tree taken before the run, for the cases that say
	// Case.Baseline (nil for the others).
	Baseline *hygiene.Snapshot
	// stressSettle is Options.stressSettle (see settleAfterStress).
	stressSettle time.Duration
}
