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

func TestDroppedVersions_BoundedAndMonotonic(t *testing.T) {
	var d droppedVersions
	id := func(i int) ObjectID { return ObjectID{byte(i), byte(i >> 8), byte(i >> 16)} }
	for i := range 3 * maxRememberedDrops {
		d.add(id(i), uint64(1000+i))
		if i%7 == 0 {
			d.add(id(i), uint64(1000+i)) // dropped again: one entry per ID
		}
	}
	assert.LessOrEqual(t, len(d.last), maxRememberedDrops)
	assert.LessOrEqual(t, len(d.order), 2*maxRememberedDrops+1)
	assert.Equal(t, uint64(1000+3*maxRememberedDrops-1), d.take(id(3*maxRememberedDrops-1)), "a recent drop counts on from its own version")
	assert.GreaterOrEqual(t, d.take(id(0)), uint64(1000), "a forgotten drop is covered by the floor")
	assert.Equal(t, uint64(1000+2*maxRememberedDrops-1), d.take(id(123456789)), "a new ID starts above every forgotten drop")
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
	assert.Empty(t, ns.dropped.last, "a miss recorded a dropped object")

	// The same object, once written, counts versions as before.
	v, err := s.SetEntry(ctx, "never-written", "now")
	require.NoError(t, err)
	assert.Positive(t, v)
	got, err := s.Get(ctx, "never-written")
	require.NoError(t, err)
	assert.Equal(t, "now", got)
}
