package watch

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePosition_AcceptsCanonicalDecimals(t *testing.T) {
	for _, n := range []uint64{0, 1, 7, 10, 1234567890, MaxPosition} {
		got, err := ParsePosition(strconv.FormatUint(n, 10))
		require.NoError(t, err, n)
		assert.Equal(t, n, got)
	}
}

func TestParsePosition_RefusesEveryOtherSpelling(t *testing.T) {
	for _, s := range []string{
		"", "00", "007", "-1", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "x", "１",
		strconv.FormatUint(MaxPosition+1, 10), "18446744073709551616", "99999999999999999",
	} {
		_, err := ParsePosition(s)
		assert.ErrorIs(t, err, ErrBadPosition, "%q", s)
	}
}

func FuzzParsePosition(f *testing.F) {
	f.Add("007")
	f.Add("9007199254740991")
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParsePosition(s)
		if err != nil {
			return
		}
		assert.Equal(t, s, strconv.FormatUint(n, 10), "an accepted position has one spelling")
		assert.LessOrEqual(t, n, uint64(MaxPosition))
	})
}
