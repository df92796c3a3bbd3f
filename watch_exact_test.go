package dokv_test

import (
	"context"
	"iter"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/internal/exactjson"
)

// TestWatch_DeliversExactBytes checks that a Go watcher receives exactly
// the stored bytes of arbitrary values, in the snapshot and in changes.
func TestWatch_DeliversExactBytes(t *testing.T) {
	values := exactjson.Corpus(1, 200, 63)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := dokv.New[[]byte](dokv.NewMemoryNamespace(), dokv.WithCodec(dokv.Raw()))
	require.NoError(t, err)
	require.NoError(t, s.Set(ctx, "k", values[0]))
	next, stop := iter.Pull2(s.Watch(ctx, "k"))
	defer stop()
	ev, err, _ := next()
	require.NoError(t, err)
	require.Equal(t, dokv.WatchSnapshot, ev.Kind)
	assert.Equal(t, values[0], ev.Value, "snapshot")
	for _, v := range values[1:] {
		require.NoError(t, s.Set(ctx, "k", v))
		ev, err, _ := next()
		require.NoError(t, err)
		require.Equal(t, dokv.WatchSet, ev.Kind)
		require.Equal(t, v, ev.Value, "change")
	}
}
