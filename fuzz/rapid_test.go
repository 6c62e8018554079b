package fuzz

import "pgregory.net/rapid"

// RapidSource draws from a rapid test, labelling every draw so failures shrink and print well.
func RapidSource(t *rapid.T) Source { return rapidSource{t} }

type rapidSource struct{ t *rapid.T }

func (s rapidSource) Int(lo, hi int, label string) int {
	return rapid.IntRange(lo, hi).Draw(s.t, label)
}

// Requests is the rapid generator of valid requests.
func Requests(o ReqOptions) *rapid.Generator[*Request] {
	return rapid.Custom(func(t *rapid.T) *Request { return GenRequest(RapidSource(t), o) })
}

// Responses is the rapid generator of well-framed responses.
func Responses() *rapid.Generator[*Response] {
	return rapid.Custom(func(t *rapid.T) *Response { return GenResponse(RapidSource(t)) })
}
