package wire

import "fmt"

// Error is a grammar violation found by the strict parser or reader. Rule names the grammar
// rule that was broken (e.g. "field-name", "obs-fold", "bare-cr", "chunk-size"), so callers
// and tests can tell apart why a message was rejected; Offset is the byte offset in the input
// where the violation was detected.
type Error struct {
	Rule   string
	Offset int
	Msg    string
	// StatusLine holds the first line of a response whose status line broke the grammar (nil
	// for other errors): the judge tells a malformed status line from an HTTP/0.9 answer,
	// which has none.
	StatusLine []byte
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return fmt.Sprintf("wire: %s at byte %d", e.Rule, e.Offset)
	}
	return fmt.Sprintf("wire: %s at byte %d: %s", e.Rule, e.Offset, e.Msg)
}

func errAt(rule string, off int, format string, args ...any) *Error {
	return &Error{Rule: rule, Offset: off, Msg: fmt.Sprintf(format, args...)}
}
