package backup_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/backup"
	"github.com/dokv/dokv/dokvtest"
)

// Import works out what remains of an exported expiry by the destination
// namespace's clock, not the wall clock: here both clocks are far from the
// wall clock, which would make every entry expired (or all but eternal).
func TestImport_ExpiryLeftByTheNamespaceClock(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	srcClock, dstClock := dokvtest.NewManualClock(start), dokvtest.NewManualClock(start)
	single := dokv.WithPartitioning(dokv.SingleObject("s"))
	src, err := dokv.New[string](dokv.NewMemoryNamespace(dokv.WithClock(srcClock)), single)
	require.NoError(t, err)
	dst, err := dokv.New[string](dokv.NewMemoryNamespace(dokv.WithClock(dstClock)), single)
	require.NoError(t, err)
	_, err = src.SetWithTTL(ctx, "short", "a", time.Minute)
	require.NoError(t, err)
	_, err = src.SetWithTTL(ctx, "long", "b", time.Hour)
	require.NoError(t, err)

	var export bytes.Buffer
	_, err = backup.Export(ctx, src, &export, backup.ExportOptions{})
	require.NoError(t, err)
	dstClock.Advance(30 * time.Minute)
	p, err := backup.Import(ctx, dst, &export)
	require.NoError(t, err)
	assert.EqualValues(t, 2, p.Entries)

	_, err = dst.Get(ctx, "short")
	require.ErrorIs(t, err, dokv.ErrNotFound, "expired by the destination's clock")
	e, err := dst.GetEntry(ctx, "long")
	require.NoError(t, err)
	assert.Equal(t, start.Add(time.Hour), e.ExpiresAt, "the same expiry, by the clock the objects keep")
	dstClock.Advance(31 * time.Minute)
	_, err = dst.Get(ctx, "long")
	require.ErrorIs(t, err, dokv.ErrNotFound)
}

// An imported entry without an expiry gets the TTL the destination store
// gives a write of its value: WithTTLFunc's (here flow-job retention, for
// a finished job) or WithTTL's.
func TestImport_EntriesWithoutExpiryGetTheStoresTTLRules(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	clock := dokvtest.NewManualClock(start)
	single := dokv.WithPartitioning(dokv.SingleObject("jobs"))
	src, err := dokv.NewFlowJobStore(dokv.NewMemoryNamespace(), single)
	require.NoError(t, err)
	running, done := dokv.NewFlowJob("flow", "storage"), dokv.NewFlowJob("flow", "storage")
	done.Status = dokv.FlowJobCompleted
	require.NoError(t, src.Set(ctx, "running", running))
	require.NoError(t, src.Set(ctx, "done", done))
	var export bytes.Buffer
	_, err = backup.Export(ctx, src, &export, backup.ExportOptions{})
	require.NoError(t, err)

	dst, err := dokv.NewFlowJobStore(dokv.NewMemoryNamespace(dokv.WithClock(clock)), single,
		dokv.WithTTL(48*time.Hour), dokv.WithFlowJobRetention(time.Hour))
	require.NoError(t, err)
	_, err = backup.Import(ctx, dst, bytes.NewReader(export.Bytes()))
	require.NoError(t, err)
	e, err := dst.GetEntry(ctx, "done")
	require.NoError(t, err)
	assert.Equal(t, start.Add(time.Hour), e.ExpiresAt, "a finished job: the retention")
	e, err = dst.GetEntry(ctx, "running")
	require.NoError(t, err)
	assert.Equal(t, start.Add(48*time.Hour), e.ExpiresAt, "a running job: the store's TTL")
}

// A line longer than any export writes is refused as bad input, naming it.
func TestImport_RefusesATooLongLine(t *testing.T) {
	s, err := dokv.New[[]byte](dokv.NewMemoryNamespace(), dokv.WithCodec(dokv.Raw()))
	require.NoError(t, err)
	in := "{\"key\":\"a\",\"version\":1,\"value64\":\"\"}\n" + strings.Repeat("x", 4*dokv.MaxEntryBytes+1) + "\n"
	_, err = backup.Import(context.Background(), s, strings.NewReader(in))
	require.ErrorIs(t, err, dokv.ErrInvalidArgument)
	var e *dokv.Error
	require.ErrorAs(t, err, &e)
	assert.True(t, strings.HasPrefix(e.Detail, "line 2: "), e.Detail)
}
