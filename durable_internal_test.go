package dokv

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/internal/workers"
)

func TestCallError_MapsRuntimeFlags(t *testing.T) {
	cases := []struct {
		name  string
		ce    workers.CallError
		is    []error
		isNot []error
	}{
		{"overloaded", workers.CallError{Message: "too busy", Overloaded: true, Retryable: true},
			[]error{ErrOverloaded}, []error{ErrUnavailable, ErrUnknownOutcome}},
		{"retryable", workers.CallError{Message: "network blip", Retryable: true},
			[]error{ErrUnavailable, ErrUnknownOutcome}, []error{ErrOverloaded}},
		{"remote", workers.CallError{Message: "thrown by the object", Remote: true},
			[]error{ErrUnknownOutcome}, []error{ErrUnavailable, ErrOverloaded}},
		{"reset", workers.CallError{Message: "object reset", Reset: true},
			[]error{ErrUnknownOutcome}, []error{ErrUnavailable, ErrOverloaded}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := callError(&c.ce)
			assert.Contains(t, err.Error(), c.ce.Message)
			for _, target := range c.is {
				assert.True(t, errors.Is(err, target), "%v should match %v", err, target)
			}
			for _, target := range c.isNot {
				assert.False(t, errors.Is(err, target), "%v should not match %v", err, target)
			}
		})
	}
}

// A read of an object that does not exist answers as an empty object would
// and leaves nothing behind: no object, and no remembered versions.
func TestMemoryNamespace_MissLeavesNothingBehind(t *testing.T) {
	ctx := context.Background()
	ns := NewMemoryNamespace()
	s, err := New[string](ns)
	require.NoError(t, err)
	_, err = s.Get(ctx, "never-written")
	require.ErrorIs(t, err, ErrNotFound)
	_, err = s.GetEntry(ctx, "never-written")
	require.ErrorIs(t, err, ErrNotFound)
	assert.Equal(t, 0, ns.Objects())
	assert.Zero(t, ns.host.RememberedDrops(), "a miss recorded a dropped object")

	// The same object, once written, counts versions as before.
	v, err := s.SetEntry(ctx, "never-written", "now")
	require.NoError(t, err)
	assert.Positive(t, v)
	got, err := s.Get(ctx, "never-written")
	require.NoError(t, err)
	assert.Equal(t, "now", got)
}
