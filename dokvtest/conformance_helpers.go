package dokvtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/driver"
)

// partitionings are the layouts that every behaviour independent of layout
// runs under.
func partitionings() []struct {
	name string
	p    dokv.Partitioning
} {
	return []struct {
		name string
		p    dokv.Partitioning
	}{
		{"PerKey", dokv.PerKey()},
		{"SingleObject", dokv.SingleObject("conformance")},
		{"HashShards", dokv.HashShards(4)},
	}
}

// listable are the layouts that support List.
func listable() []struct {
	name string
	p    dokv.Partitioning
} {
	return partitionings()[1:]
}

// doc is the structured value most behaviours store.
type doc struct {
	Name  string            `json:"name"`
	Count int               `json:"count"`
	Tags  []string          `json:"tags,omitempty"`
	Attrs map[string]string `json:"attrs,omitempty"`
}

func newStore[T any](t *testing.T, ns driver.Namespace, opts ...dokv.Option) *dokv.Store[T] {
	t.Helper()
	s, err := dokv.New[T](ns, opts...)
	require.NoError(t, err)
	return s
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// requireErrorIs checks err against a sentinel and that it is a *dokv.Error
// naming the operation's key, as every store error but a context's must be.
func requireErrorIs(t *testing.T, err, sentinel error, key string) {
	t.Helper()
	require.ErrorIs(t, err, sentinel)
	var e *dokv.Error
	require.True(t, errors.As(err, &e), "error %v is not a *dokv.Error", err)
	if key != "" {
		require.Equal(t, key, e.Key, "error %v names the wrong key", err)
	}
}

// requireAbsent checks that key holds nothing.
func requireAbsent[T any](t *testing.T, ctx context.Context, s *dokv.Store[T], key string) {
	t.Helper()
	_, err := s.Get(ctx, key)
	requireErrorIs(t, err, dokv.ErrNotFound, key)
}

// collect drains a List into a slice, failing on an error.
func collect[T any](t *testing.T, ctx context.Context, s *dokv.Store[T], opts dokv.ListOptions) []dokv.Entry[T] {
	t.Helper()
	var out []dokv.Entry[T]
	for e, err := range s.List(ctx, opts) {
		require.NoError(t, err)
		out = append(out, e)
	}
	return out
}

func keysOf[T any](entries []dokv.Entry[T]) []string {
	keys := make([]string, len(entries))
	for i, e := range entries {
		keys[i] = e.Key
	}
	return keys
}
