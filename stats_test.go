package dokv_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
)

func TestStats_SumsTheObjectsOfAStore(t *testing.T) {
	ctx := t.Context()
	ns := dokv.NewMemoryNamespace()
	sharded, err := dokv.New[string](ns, dokv.WithPrefix("a/"), dokv.WithPartitioning(dokv.HashShards(4)))
	require.NoError(t, err)
	other, err := dokv.New[string](ns, dokv.WithPrefix("b/"), dokv.WithPartitioning(dokv.HashShards(4)))
	require.NoError(t, err)

	empty, err := sharded.Stats(ctx)
	require.NoError(t, err)
	assert.Len(t, empty.Objects, 4)
	assert.Zero(t, empty.Keys)

	var last uint64
	for i := range 20 {
		last, err = sharded.SetEntry(ctx, fmt.Sprint("k", i), "0123456789")
		require.NoError(t, err)
	}
	require.NoError(t, other.Set(ctx, "k0", "not counted"))
	st, err := sharded.Stats(ctx)
	require.NoError(t, err)
	require.Len(t, st.Objects, 4)
	assert.EqualValues(t, 20, st.Keys)
	var keys int64
	for _, o := range st.Objects {
		keys += o.Keys
		assert.Positive(t, o.Keys, "20 keys reach every one of 4 shards")
		assert.False(t, o.NearLimit)
		assert.GreaterOrEqual(t, o.StorageBytes, o.Bytes)
	}
	assert.Equal(t, st.Keys, keys)
	// Each stored key is the encoded prefix "2:a/" plus the key; each value
	// the JSON string "0123456789" (12 bytes).
	want := int64(0)
	for i := range 20 {
		want += int64(len("2:a/"+fmt.Sprint("k", i)) + 12)
	}
	assert.Equal(t, want, st.Bytes)
	assert.GreaterOrEqual(t, st.NewestVersion, last)
	assert.Equal(t, st.Bytes, st.StorageBytes, "the objects hold this store's keys only (object names include the prefix)")
	assert.Zero(t, st.ObjectsNearLimit)
}

func TestStats_PerKeyGivesObjectStats(t *testing.T) {
	ctx := t.Context()
	s, err := dokv.New[string](dokv.NewMemoryNamespace())
	require.NoError(t, err)
	_, err = s.Stats(ctx)
	require.ErrorIs(t, err, dokv.ErrUnsupported)

	v, err := s.SetEntry(ctx, "job", "x")
	require.NoError(t, err)
	st, err := s.ObjectStats(ctx, "job")
	require.NoError(t, err)
	assert.EqualValues(t, 1, st.Keys)
	assert.Equal(t, v, st.NewestVersion)
	assert.Equal(t, s.ObjectName("job"), st.Object)
	_, err = s.ObjectStats(ctx, "")
	assert.ErrorIs(t, err, dokv.ErrInvalidKey)
}

func TestStats_ObjectNamedByKeyCountsItsOwnRecord(t *testing.T) {
	ctx := t.Context()
	ns := dokv.NewMemoryNamespace()
	layout := dokv.WithPartitioning(dokv.ObjectNamedByKey())
	jobs, err := dokv.NewFlowJobStore(ns, layout)
	require.NoError(t, err)
	uploads, err := dokv.NewUploadFileStore(ns, layout)
	require.NoError(t, err)
	require.NoError(t, jobs.Set(ctx, "id-1", dokv.NewFlowJob("f", "s")))
	require.NoError(t, uploads.Set(ctx, "id-1", dokv.UploadFile{ID: "id-1"}))
	st, err := jobs.ObjectStats(ctx, "id-1")
	require.NoError(t, err)
	assert.EqualValues(t, 1, st.Keys, "the upload beside the job is not the job store's")
	assert.Greater(t, st.StorageBytes, st.Bytes, "but it is in the object's storage")
}
