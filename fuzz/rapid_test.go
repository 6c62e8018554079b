package fuzz

import "pgregory.net/rapid"

// RapidSource draws from a rapid test, labelling every draw so failures shrink and print well.
func RapidSource(t *rapid.T) Source { return rapidSource{t} }

type rapidSource struct{ t *rapid.T }

func (s rapidSource) Int(lo, hi int, label string) int {
	return rapid.IntRange(lo, hi).Draw(s.t, label)
}
