package conformance

import (
	"fmt"
	"regexp"
	"strings"
)

// Select keeps the cases chosen by pattern, in their order.
//
// A plain pattern (letters, digits and "/._-" only) is an ID prefix that stops at an element
// boundary, so it selects a group: "rfc9112/6" keeps rfc9112/6/1 and rfc9112/6.1/2 but not
// rfc9112/60/1, and "rfc9112/6.1" does not keep rfc9112/6.10/1. Any other pattern is a regular
// expression matched anywhere in the ID ("^rfc9112/(6|7)/"). An empty pattern keeps everything.
// A bad regular expression is an error naming the pattern.
func Select(cases []Case, pattern string) ([]Case, error) {
	if pattern == "" {
		return append([]Case(nil), cases...), nil
	}
	match := func(id string) bool { return hasGroupPrefix(id, pattern) }
	if !isPlainPrefix(pattern) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return nil, fmt.Errorf("bad case pattern %q: %v", pattern, err)
		}
		match = re.MatchString
	}
	var kept []Case
	for _, c := range cases {
		if match(c.ID) {
			kept = append(kept, c)
		}
	}
	return kept, nil
}

// isPlainPrefix reports whether p can only be meant as an ID prefix. "." is allowed although
// it is a regexp metacharacter, because section numbers are full of dots.
func isPlainPrefix(p string) bool {
	for _, r := range p {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '/' || r == '.' || r == '_' || r == '-':
		default:
			return false
		}
	}
	return true
}

// hasGroupPrefix reports whether prefix selects id: equal, or a prefix ending where an ID
// element or section number ends.
func hasGroupPrefix(id, prefix string) bool {
	if !strings.HasPrefix(id, prefix) {
		return false
	}
	if len(id) == len(prefix) || strings.HasSuffix(prefix, "/") || strings.HasSuffix(prefix, ".") {
		return true
	}
	next := id[len(prefix)]
	return next == '/' || next == '.'
}
