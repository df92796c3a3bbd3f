package dokv_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/worker"
	"github.com/dokv/dokv/worker/workerhttp"
)

// Under ObjectNamedByKey, a record lives in the object named by its key
// itself, as ns.get(ns.idFromName(key)) reaches it from TypeScript, under
// the store's prefix; flow jobs and uploads with the same ID share the
// object, not the record.
func TestObjectNamedByKey_RecordsLiveInTheObjectNamedByTheKey(t *testing.T) {
	ctx := context.Background()
	ns := dokv.NewMemoryNamespace()
	layout := dokv.WithPartitioning(dokv.ObjectNamedByKey())
	jobs, err := dokv.NewFlowJobStore(ns, layout)
	require.NoError(t, err)
	uploads, err := dokv.NewUploadFileStore(ns, layout)
	require.NoError(t, err)

	job := dokv.NewFlowJob("flow-1", "storage-1")
	require.NoError(t, jobs.Set(ctx, "shared-id", job))
	require.NoError(t, uploads.Set(ctx, "shared-id", dokv.UploadFile{ID: "shared-id", Offset: 7}))
	assert.Equal(t, "shared-id", jobs.ObjectName("shared-id"))

	// The object named "shared-id" holds both records, each under its
	// store's encoded prefix.
	raw := func(storedKey string) protocol.Reply {
		req := protocol.AppendRequest(nil, &protocol.Request{Op: protocol.OpGet, Key: storedKey})
		reply, err := ns.Get(ns.IDFromName("shared-id")).Call(ctx, req)
		require.NoError(t, err)
		r, err := protocol.DecodeReply(protocol.OpGet, reply)
		require.NoError(t, err)
		return r
	}
	var versions []uint64
	for _, prefix := range []string{dokv.FlowJobPrefix, dokv.UploadFilePrefix} {
		r := raw(strconv.Itoa(len(prefix)) + ":" + prefix)
		assert.True(t, r.Found, prefix)
		versions = append(versions, r.Version)
	}
	assert.Less(t, versions[0], versions[1], "versions grow per object, and both writes went to one")

	got, err := jobs.GetEntry(ctx, "shared-id")
	require.NoError(t, err)
	assert.Equal(t, job.ID, got.Value.ID)
	upload, err := uploads.Get(ctx, "shared-id")
	require.NoError(t, err)
	assert.Equal(t, int64(7), upload.Offset)

	// Versions, conditions and deletes work as under PerKey.
	_, err = jobs.CompareAndSwap(ctx, "shared-id", got.Version, job)
	require.NoError(t, err)
	_, err = jobs.CompareAndSwap(ctx, "shared-id", got.Version, job)
	require.ErrorIs(t, err, dokv.ErrConflict)
	require.NoError(t, jobs.Delete(ctx, "shared-id"))
	_, err = jobs.Get(ctx, "shared-id")
	require.ErrorIs(t, err, dokv.ErrNotFound)
	_, err = uploads.Get(ctx, "shared-id")
	require.NoError(t, err, "the upload with the same ID is untouched")

	// No List, and no transaction across keys.
	for _, err := range jobs.List(ctx, dokv.ListOptions{}) {
		require.ErrorIs(t, err, dokv.ErrUnsupported)
	}
	_, err = jobs.Txn().Set("a", job).Set("b", job).Commit(ctx)
	require.ErrorIs(t, err, dokv.ErrCrossObject)
	assert.Equal(t, "ObjectNamedByKey()", dokv.ObjectNamedByKey().String())
}

// A key equal to the name of another store's object cannot reach that
// object: under ObjectNamedByKey, keys of the form dokv names its own
// objects with are refused, and nothing is written anywhere.
func TestObjectNamedByKey_CannotReachAnotherStoresObject(t *testing.T) {
	ctx := context.Background()
	ns := dokv.NewMemoryNamespace()
	single, err := dokv.New[string](ns, dokv.WithPartitioning(dokv.SingleObject("main")))
	require.NoError(t, err)
	sharded, err := dokv.New[string](ns, dokv.WithPartitioning(dokv.HashShards(4)))
	require.NoError(t, err)
	perKey, err := dokv.New[string](ns)
	require.NoError(t, err)
	require.NoError(t, single.Set(ctx, "mine", "single's"))
	require.NoError(t, sharded.Set(ctx, "mine", "sharded's"))
	require.NoError(t, perKey.Set(ctx, "mine", "per key's"))

	named, err := dokv.New[string](ns, dokv.WithPartitioning(dokv.ObjectNamedByKey()))
	require.NoError(t, err)
	txnKey := single.ObjectName("mine")
	for _, key := range []string{single.ObjectName("mine"), sharded.ObjectName("mine"), perKey.ObjectName("mine"), "dokv/anything"} {
		err := named.Set(ctx, key, "intruder")
		require.ErrorIs(t, err, dokv.ErrInvalidKey, key)
		_, err = named.Get(ctx, key)
		require.ErrorIs(t, err, dokv.ErrInvalidKey, key)
		require.ErrorIs(t, named.Delete(ctx, key), dokv.ErrInvalidKey, key)
	}
	_, err = named.Txn().Set(txnKey, "intruder").Commit(ctx)
	require.ErrorIs(t, err, dokv.ErrInvalidKey)

	for _, s := range []*dokv.Store[string]{single, sharded} {
		var keys []string
		for e, err := range s.List(ctx, dokv.ListOptions{}) {
			require.NoError(t, err)
			keys = append(keys, e.Key)
		}
		assert.Equal(t, []string{"mine"}, keys, "a store's object holds only its own keys")
	}
	got, err := perKey.Get(ctx, "mine")
	require.NoError(t, err)
	assert.Equal(t, "per key's", got)

	// Keys that merely contain the prefix elsewhere, as npm-layout IDs may,
	// are the store's own.
	require.NoError(t, named.Set(ctx, "upload/dokv/1", "fine"))
}

// A browser's watch cannot reach another store's object either: ServeWatch
// refuses the reserved key with 400 before any upgrade.
func TestObjectNamedByKey_ServeWatchRefusesReservedKeys(t *testing.T) {
	named, err := dokv.New[string](dokv.NewMemoryNamespace(), dokv.WithPartitioning(dokv.ObjectNamedByKey()))
	require.NoError(t, err)
	h := workerhttp.FromHandler(worker.HandlerFunc(func(w *worker.ResponseWriter, r *worker.Request) {
		named.ServeWatch(w, r, r.Query("key"))
	}))
	req := httptest.NewRequest(http.MethodGet, "/?key="+url.QueryEscape("dokv/0:/single/main"), nil)
	req.Header.Set("Upgrade", "websocket")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), "dokv/")
}
