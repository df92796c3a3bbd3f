package object

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/internal/protocol"
)

// The key a browser asked to watch reaches the object from a URL: it is
// checked as a stored key is, and comes back as its messages carry it.
func TestWatchedKeyJSON(t *testing.T) {
	b, err := WatchedKeyJSON(`job "1" <a>`)
	require.NoError(t, err)
	assert.Equal(t, `"job \"1\" \u003ca\u003e"`, string(b))
	for _, bad := range []string{"", "\xff", strings.Repeat("k", protocol.MaxKeyBytes+1)} {
		_, err := WatchedKeyJSON(bad)
		assert.ErrorIs(t, err, ErrBadWatch, "%q", bad)
	}
}
