package dokvtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/driver"
)

func contextBehaviours() []behaviour {
	return []behaviour{
		{"Context/CanceledBeforeTheCallWritesNothing", testCanceledWritesNothing},
		{"Context/DeadlineDuringTheCallIsAnUnknownOutcome", testDeadlineDuringCall},
	}
}

// writesOf are one write of each kind on key, for the context behaviours;
// CompareAndDelete expects version.
func writesOf(s *dokv.Store[string], key string, version uint64) map[string]func(ctx context.Context) error {
	return map[string]func(ctx context.Context) error{
		"Set":              func(ctx context.Context) error { return s.Set(ctx, key, "new") },
		"Delete":           func(ctx context.Context) error { return s.Delete(ctx, key) },
		"CompareAndSwap":   func(ctx context.Context) error { _, err := s.CompareAndSwap(ctx, key, 0, "new"); return err },
		"CompareAndDelete": func(ctx context.Context) error { return s.CompareAndDelete(ctx, key, version) },
		"Txn":              func(ctx context.Context) error { _, err := s.Txn().Set(key, "new").Commit(ctx); return err },
		"Update": func(ctx context.Context) error {
			_, err := s.Update(ctx, key, func(string, bool) (string, error) { return "new", nil })
			return err
		},
	}
}

// A call whose context has already ended is not sent: the caller gets the
// context's error as it is, and nothing changes.
func testCanceledWritesNothing(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[string](t, ns)
	v, err := s.SetEntry(ctx, "kept", "old")
	require.NoError(t, err)
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	for _, key := range []string{"kept", "absent"} {
		for name, write := range writesOf(s, key, v) {
			assert.Same(t, context.Canceled, write(canceled), "%s %q", name, key)
		}
	}
	got, err := s.GetEntry(ctx, "kept")
	require.NoError(t, err)
	assert.Equal(t, "old", got.Value)
	assert.Equal(t, v, got.Version, "no write reached the object")
	requireAbsent(t, ctx, s, "absent")
	_, err = s.Get(canceled, "kept")
	assert.Same(t, context.Canceled, err)
}

// A write whose context ends while its reply is on its way may have run:
// its error is an *Error matching both ErrUnknownOutcome and the context's
// error. Here the request did run, which is why the caller must not be told
// anything surer.
func testDeadlineDuringCall(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	plain := newStore[string](t, ns)
	slow := newStore[string](t, WithFaults(ns, Faults{SlowReply: 5 * time.Second}))
	for name := range writesOf(slow, "", 0) {
		if name == "Update" {
			continue // its read is slow too, and a read cut off is just canceled (see store_test.go)
		}
		key := "k-" + name
		var version uint64
		if name == "CompareAndDelete" || name == "Delete" {
			v, err := plain.SetEntry(ctx, key, "old")
			require.NoError(t, err)
			version = v
		}
		deadline, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		err := writesOf(slow, key, version)[name](deadline)
		cancel()
		var e *dokv.Error
		require.True(t, errors.As(err, &e), "%s: %v", name, err)
		assert.ErrorIs(t, err, dokv.ErrUnknownOutcome, name)
		assert.ErrorIs(t, err, context.DeadlineExceeded, name)
		assert.Equal(t, key, e.Key, name)

		got, err := plain.Get(ctx, key)
		if name == "CompareAndDelete" || name == "Delete" {
			requireErrorIs(t, err, dokv.ErrNotFound, key)
		} else {
			require.NoError(t, err, name)
			assert.Equal(t, "new", got, "%s: the request ran", name)
		}
	}
}
