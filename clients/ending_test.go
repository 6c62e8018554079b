package clients

import "testing"

// TestEndingWords pins the words of each ending: verdict details and transcripts quote them
// and are compared with golden files.
func TestEndingWords(t *testing.T) {
	tests := []struct {
		e                 Ending
		watch, whyStopped string
	}{
		{NoEnding, "none", "response"},
		{Closed, "close", "close without a response"},
		{Reset, "reset", "reset"},
		{Silent, "timeout", "timeout"},
		{Data, "data", "data"},
		{IllFramed, "ill-framed response", "ill-framed response"},
		{Truncated, "truncated response", "truncated response"},
		{Failed, "error", "error"},
		{Ending(99), "ending 99", "ending 99"},
	}
	for _, tt := range tests {
		if got := tt.e.String(); got != tt.watch {
			t.Errorf("Ending(%d).String() = %q; want %q", int(tt.e), got, tt.watch)
		}
		if got := tt.e.WhyStopped(); got != tt.whyStopped {
			t.Errorf("Ending(%d).WhyStopped() = %q; want %q", int(tt.e), got, tt.whyStopped)
		}
	}
}
