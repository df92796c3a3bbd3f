package dokv_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/dokvtest"
)

func TestRetry_IdempotentCallsSurviveUnavailable(t *testing.T) {
	ctx := context.Background()
	ns := dokvtest.WithFaults(dokv.NewMemoryNamespace(), dokvtest.Faults{Seed: 7, Unavailable: 0.4})
	s, err := dokv.New[int](ns, dokv.WithPartitioning(dokv.HashShards(4)),
		dokv.WithRetry(dokv.RetryPolicy{MaxAttempts: 30, BaseDelay: time.Microsecond, MaxDelay: 10 * time.Microsecond}))
	require.NoError(t, err)
	for i := range 50 {
		require.NoError(t, s.Set(ctx, "k", i))
		got, err := s.Get(ctx, "k")
		require.NoError(t, err)
		require.Equal(t, i, got)
	}
	require.NoError(t, s.Delete(ctx, "k"))
	_, err = s.Get(ctx, "k")
	require.ErrorIs(t, err, dokv.ErrNotFound)
	assert.Positive(t, ns.Counts().Unavailable, "faults were injected and retried")
}

func TestRetry_ConditionalWritesAreNeverResent(t *testing.T) {
	ctx := context.Background()
	ns := dokvtest.WithFaults(dokv.NewMemoryNamespace(), dokvtest.Faults{Seed: 1, Unavailable: 1})
	s, err := dokv.New[int](ns)
	require.NoError(t, err)
	_, err = s.CompareAndSwap(ctx, "k", 0, 1)
	require.ErrorIs(t, err, dokv.ErrUnknownOutcome)
	require.ErrorIs(t, err, dokv.ErrUnavailable)
	assert.Equal(t, int64(1), ns.Counts().Calls, "a CAS is sent once")

	_, err = s.Txn().SetIf("{t}a", 0, 1).Set("{t}b", 2).Commit(ctx)
	require.ErrorIs(t, err, dokv.ErrUnknownOutcome)
	assert.Equal(t, int64(2), ns.Counts().Calls, "a conditional transaction is sent once")
}

func TestRetry_OverloadedIsNotRetried(t *testing.T) {
	ns := dokvtest.WithFaults(dokv.NewMemoryNamespace(), dokvtest.Faults{Seed: 1, Overloaded: 1})
	s, err := dokv.New[int](ns)
	require.NoError(t, err)
	_, err = s.Get(context.Background(), "k")
	require.ErrorIs(t, err, dokv.ErrOverloaded)
	assert.False(t, errors.Is(err, dokv.ErrUnknownOutcome), "an overloaded object refused the request")
	assert.Equal(t, int64(1), ns.Counts().Calls)
}

func TestRetry_GivesUpAfterMaxAttempts(t *testing.T) {
	ns := dokvtest.WithFaults(dokv.NewMemoryNamespace(), dokvtest.Faults{Seed: 1, Unavailable: 1})
	s, err := dokv.New[int](ns, dokv.WithRetry(dokv.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Microsecond, MaxDelay: time.Microsecond}))
	require.NoError(t, err)
	require.ErrorIs(t, s.Set(context.Background(), "k", 1), dokv.ErrUnavailable)
	assert.Equal(t, int64(3), ns.Counts().Calls)
}

func TestRetry_BoundedByContext(t *testing.T) {
	ns := dokvtest.WithFaults(dokv.NewMemoryNamespace(), dokvtest.Faults{Seed: 1, Unavailable: 1})
	s, err := dokv.New[int](ns, dokv.WithRetry(dokv.RetryPolicy{MaxAttempts: 1000, BaseDelay: 10 * time.Millisecond, MaxDelay: time.Second}))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = s.Set(ctx, "k", 1)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, dokv.ErrUnknownOutcome, "attempts were sent: the caller cannot tell whether one ran")
}

// However many attempts a policy allows, the backoff never overflows.
func TestRetry_ManyAttemptsNeverPanic(t *testing.T) {
	ns := dokvtest.WithFaults(dokv.NewMemoryNamespace(), dokvtest.Faults{Seed: 1, Unavailable: 1})
	for _, p := range []dokv.RetryPolicy{
		{MaxAttempts: 70, BaseDelay: time.Nanosecond, MaxDelay: time.Microsecond},
		{MaxAttempts: 100, BaseDelay: time.Microsecond, MaxDelay: time.Duration(1<<63 - 1)},
		{MaxAttempts: 70, BaseDelay: 0, MaxDelay: 0},
	} {
		s, err := dokv.New[int](ns, dokv.WithRetry(p))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		assert.NotPanics(t, func() { err = s.Set(ctx, "k", 1) }, "%+v", p)
		cancel()
		assert.ErrorIs(t, err, dokv.ErrUnknownOutcome, "%+v", p) // unavailable to the end, or cut off by ctx
	}
}

func TestFaults_LostReplyRanTheRequest(t *testing.T) {
	ctx := context.Background()
	mem := dokv.NewMemoryNamespace()
	s, err := dokv.New[int](dokvtest.WithFaults(mem, dokvtest.Faults{Seed: 1, LostReply: 1}))
	require.NoError(t, err)
	require.ErrorIs(t, s.Set(ctx, "k", 42), dokv.ErrUnknownOutcome)
	clean, err := dokv.New[int](mem)
	require.NoError(t, err)
	got, err := clean.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, 42, got, "the write happened although its reply was lost")
}

// TestUpdate_NeverAppliesTwice rules out a double increment when replies
// are lost: every Update either succeeds, or fails with an unknown outcome,
// and the counter ends between the successes and the successes plus the
// unknowns.
func TestUpdate_NeverAppliesTwice(t *testing.T) {
	ctx := context.Background()
	mem := dokv.NewMemoryNamespace()
	s, err := dokv.New[int](dokvtest.WithFaults(mem, dokvtest.Faults{Seed: 3, LostReply: 0.3}))
	require.NoError(t, err)
	clean, err := dokv.New[int](mem)
	require.NoError(t, err)
	require.NoError(t, clean.Set(ctx, "n", 0))
	ok, unknown := 0, 0
	for range 300 {
		_, err := s.Update(ctx, "n", func(n int, _ bool) (int, error) { return n + 1, nil })
		switch {
		case err == nil:
			ok++
		case errors.Is(err, dokv.ErrUnknownOutcome):
			unknown++
		default:
			require.NoError(t, err)
		}
	}
	n, err := clean.Get(ctx, "n")
	require.NoError(t, err)
	assert.GreaterOrEqual(t, n, ok)
	assert.LessOrEqual(t, n, ok+unknown)
	assert.Positive(t, unknown)
}

func TestFaults_DeterministicUnderSeed(t *testing.T) {
	run := func() dokvtest.FaultCounts {
		ns := dokvtest.WithFaults(dokv.NewMemoryNamespace(), dokvtest.Faults{Seed: 99, Reset: 0.2, Overloaded: 0.1, Unavailable: 0.1, LostReply: 0.1})
		s, err := dokv.New[int](ns, dokv.WithRetry(dokv.RetryPolicy{MaxAttempts: 1}))
		require.NoError(t, err)
		for i := range 200 {
			_ = s.Set(context.Background(), "k", i)
		}
		return ns.Counts()
	}
	first := run()
	assert.Equal(t, first, run())
	assert.Positive(t, first.Resets)
	assert.Positive(t, first.Overloaded)
}

func TestFaults_LatencyHonoursContext(t *testing.T) {
	s, err := dokv.New[int](dokvtest.WithFaults(dokv.NewMemoryNamespace(), dokvtest.Faults{Seed: 1, MaxLatency: time.Hour}))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err = s.Get(ctx, "k")
	assert.Equal(t, context.DeadlineExceeded, err)
}
