package storage

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// PrefixEnd bounds exactly the strings with the prefix: for random valid
// UTF-8 prefixes and strings, s starts with p if and only if p <= s < end
// (or p <= s when there is no end).
func TestPrefixEnd_BoundsExactlyThePrefix(t *testing.T) {
	runes := []rune{'a', 'b', 0, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFF, 0x10000, utf8.MaxRune}
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteRune(runes[rng.IntN(len(runes))])
		}
		return b.String()
	}
	for range 20000 {
		p := word(rng.IntN(4))
		s := word(rng.IntN(6))
		if rng.IntN(2) == 0 {
			s = p + s
		}
		end, bounded := PrefixEnd(p)
		in := p <= s && (!bounded || s < end)
		require.Equal(t, strings.HasPrefix(s, p), in, "prefix %q, string %q, end %q", p, s, end)
		if bounded {
			assert.True(t, utf8.ValidString(end), "end %q", end)
		} else {
			assert.Empty(t, end)
		}
	}
}
