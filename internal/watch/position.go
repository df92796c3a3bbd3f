package watch

import "errors"

// ErrBadPosition is the error of ParsePosition.
var ErrBadPosition = errors.New("a watch position is a whole number in canonical decimal (no sign, no leading zeros) below 2^53")

// ParsePosition parses the text of a watch position, as ServeWatch reads
// it from a query and the object reads it from a watch request. It is the
// one rule for both: "0" or decimal digits without a leading zero, at most
// MaxPosition, the largest integer JavaScript holds exactly. Padded ("007"),
// signed, spaced or larger text is refused, so that one position has one
// spelling and no layer reads it differently from another.
func ParsePosition(s string) (uint64, error) {
	if s == "" || len(s) > 16 || (s[0] == '0' && len(s) > 1) {
		return 0, ErrBadPosition
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, ErrBadPosition
		}
		n = n*10 + uint64(c-'0')
	}
	if n > MaxPosition {
		return 0, ErrBadPosition
	}
	return n, nil
}
