package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/internal/workerdtest"
)

// kvResult is the glue Worker's answer to /kv.
type kvResult struct {
	Version   uint64    `json:"version"`
	Value     string    `json:"value"`
	ExpiresAt time.Time `json:"expiresAt"`
	Stats     *struct {
		Keys, StorageBytes int64
		NewestVersion      uint64
		NextAlarm          time.Time
	} `json:"stats"`
	Error    string `json:"error"`
	Conflict bool   `json:"conflict"`
	NotFound bool   `json:"notFound"`
}

// kv runs one operation of the glue Worker's PerKey store.
func kv(t *testing.T, w *workerdtest.Worker, params url.Values) kvResult {
	t.Helper()
	status, body, err := glueDo(context.Background(), w, http.MethodGet, "/kv?"+params.Encode(), nil, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, body)
	var r kvResult
	require.NoError(t, json.Unmarshal([]byte(body), &r), body)
	return r
}

func kvOp(op, key string, kv ...string) url.Values {
	v := url.Values{"op": {op}, "key": {key}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// On workerd: a key with a TTL vanishes at once for reads, and the object's
// alarm removes it while the Worker is idle; the object, left without keys,
// gives its storage back (as a key deleted by hand does, and as a read of a
// key no one wrote never takes any); and versions stay monotonic across the
// give-back and the eviction of the object's memory, so a stale
// CompareAndSwap fails.
func TestLifecycle_AlarmsAndStorageGiveBack(t *testing.T) {
	w := startGlue(t)
	never := kv(t, w, kvOp("stats", "lifecycle-never-written"))
	require.NotNil(t, never.Stats)
	assert.Zero(t, never.Stats.Keys)
	assert.True(t, never.Stats.NextAlarm.IsZero())
	r := kv(t, w, kvOp("get", "lifecycle-never-written"))
	assert.True(t, r.NotFound)
	after := kv(t, w, kvOp("stats", "lifecycle-never-written"))
	assert.Equal(t, never.Stats.StorageBytes, after.Stats.StorageBytes, "a read of a never-written object stores nothing")

	set := kv(t, w, kvOp("set", "lifecycle-ttl", "value", "v", "ttl", "1500ms"))
	require.Empty(t, set.Error)
	got := kv(t, w, kvOp("get", "lifecycle-ttl"))
	require.Equal(t, "v", got.Value)
	require.False(t, got.ExpiresAt.IsZero())
	st := kv(t, w, kvOp("stats", "lifecycle-ttl"))
	assert.Equal(t, int64(1), st.Stats.Keys)
	assert.Equal(t, got.ExpiresAt, st.Stats.NextAlarm, "the alarm is set for the expiry")
	held := st.Stats.StorageBytes
	assert.Greater(t, held, never.Stats.StorageBytes, "a written object holds storage")

	// Delete one key by hand: its object gives its storage back at once.
	old := kv(t, w, kvOp("set", "lifecycle-deleted", "value", "old"))
	require.Empty(t, old.Error)
	require.Empty(t, kv(t, w, kvOp("delete", "lifecycle-deleted")).Error)
	gone := kv(t, w, kvOp("stats", "lifecycle-deleted"))
	assert.Zero(t, gone.Stats.Keys)
	assert.Less(t, gone.Stats.StorageBytes, held, "deleteAll gave the storage back")
	again := kv(t, w, kvOp("set", "lifecycle-deleted", "value", "new"))
	assert.Greater(t, again.Version, old.Version, "the object's memory keeps versions above the given-back ones")
	stale := kv(t, w, kvOp("cas", "lifecycle-deleted", "version", strconv.FormatUint(old.Version, 10), "value", "x"))
	assert.True(t, stale.Conflict, "%+v", stale)
	t.Logf("storage: never written %d bytes, one key %d, given back %d", never.Stats.StorageBytes, held, gone.Stats.StorageBytes)
	require.Empty(t, kv(t, w, kvOp("delete", "lifecycle-deleted")).Error)

	// Idle: no request for 12 s, long enough for the alarm (due in 1.5 s)
	// and for workerd to evict the idle objects (about 10 s).
	time.Sleep(12 * time.Second)

	st = kv(t, w, kvOp("stats", "lifecycle-ttl"))
	assert.Zero(t, st.Stats.Keys)
	assert.True(t, st.Stats.NextAlarm.IsZero(), "the alarm ran while the Worker was idle, removed the key and set no other")
	assert.Less(t, st.Stats.StorageBytes, held, "the expired key's object gave its storage back")
	assert.True(t, kv(t, w, kvOp("get", "lifecycle-ttl")).NotFound)

	newer := kv(t, w, kvOp("set", "lifecycle-deleted", "value", "newer"))
	require.Empty(t, newer.Error)
	assert.Greater(t, newer.Version, again.Version, "after the eviction, the time floor keeps versions growing")
	stale = kv(t, w, kvOp("cas", "lifecycle-deleted", "version", "1", "value", "x"))
	assert.True(t, stale.Conflict)
	r = kv(t, w, kvOp("cas", "lifecycle-deleted", "version", strconv.FormatUint(again.Version, 10), "value", "x"))
	assert.True(t, r.Conflict, "a version from before the give-back never matches")
	assert.NotContains(t, w.Log(), "dokv: alarm", "no alarm run failed")
}
