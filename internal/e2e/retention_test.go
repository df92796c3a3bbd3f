package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/internal/workerdtest"
	"github.com/dokv/dokv/internal/workerfiles"
)

// The retention times of internal/e2e/retentionworker's stores that the
// test sees (its other two, a second of retention and an hour from a store
// made after worker.Serve, must not be).
const (
	retention = 3 * time.Second
	uploadTTL = time.Hour
)

// startRetentionWorker builds and starts internal/e2e/retentionworker with
// interop.mjs as its main module, removed when the test ends. Only this
// file's one test uses it, so it is not one of TestMain's shared Workers.
func startRetentionWorker(t *testing.T) *workerdtest.Worker {
	t.Helper()
	bin := workerdtest.Require(t)
	c := workerfiles.Config{Name: "dokv-retention", Bindings: []string{"KV"}, UniqueKey: "dokv-e2e-retention"}
	w, err := workerdtest.Build(bin, "./internal/e2e/retentionworker", c)
	require.NoError(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("workerd log:\n%s", w.Log())
		}
		w.Remove()
	})
	require.NoError(t, withInteropModule(c)(w))
	require.NoError(t, w.Start())
	return w
}

// retained is the retention Worker's answer to GET /job and /upload.
type retained struct {
	Version   uint64    `json:"version"`
	ExpiresAt time.Time `json:"expiresAt"`
	Status    string    `json:"status"`
}

// retentionGet reads path from the retention Worker into v; it returns
// false on 404.
func retentionGet(t *testing.T, w *workerdtest.Worker, path string, v any) bool {
	t.Helper()
	resp, err := workerdtest.Client.Get(w.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode == http.StatusNotFound {
		return false
	}
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", data)
	require.NoError(t, json.Unmarshal(data, v), "%s", data)
	return true
}

// retentionSend sends method path with body (JSON of it, if not nil) to
// the retention Worker and requires a 200.
func retentionSend(t *testing.T, w *workerdtest.Worker, method, path string, body any) {
	t.Helper()
	var data []byte
	if body != nil {
		var err error
		data, err = json.Marshal(body)
		require.NoError(t, err)
	}
	req, err := http.NewRequest(method, w.URL+path, bytes.NewReader(data))
	require.NoError(t, err)
	resp, err := workerdtest.Client.Do(req)
	require.NoError(t, err)
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", out)
}

// expiresWithin requires that the record at path on w expires ttl after a
// write the object applied between before and after (millisecond
// resolution, a TTL rounded up).
func expiresWithin(t *testing.T, w *workerdtest.Worker, path string, ttl time.Duration, before, after time.Time) retained {
	t.Helper()
	var r retained
	require.True(t, retentionGet(t, w, path, &r), "%s is there", path)
	require.False(t, r.ExpiresAt.IsZero(), "%s has an expiry", path)
	lo, hi := before.Truncate(time.Millisecond).Add(ttl), after.Add(ttl+time.Millisecond)
	assert.False(t, r.ExpiresAt.Before(lo) || r.ExpiresAt.After(hi),
		"%s expires at %v, %v after the write (between %v and %v)", path, r.ExpiresAt, ttl, lo, hi)
	return r
}

// Flow jobs and upload files that TypeScript writes through the RPC
// methods of @uploadista/kv-store-cloudflare-do get the TTL that the Go
// program's stores give their own writes: a running job none, a finished
// job the longest retention of the stores created before worker.Serve (not
// the shorter one, not one created later, and a store without a TTL rule
// sets none), an upload file its store's WithTTL. The finished job is gone
// for Go and TypeScript once its retention has passed.
func TestRetention_TypeScriptWritesGetTheGoStoresTTL(t *testing.T) {
	w := startRetentionWorker(t)
	key := fmt.Sprintf("retention-%d", time.Now().UnixNano())
	npmKey := key + "-npm"

	// A store made after worker.Serve sets no rule.
	retentionSend(t, w, http.MethodPost, "/late", nil)

	// A running job: kept, as Go's stores keep running jobs.
	require.Empty(t, tsCall(t, w, "setFlowJob", key, tsJob(key, "$date:2026-12-01T10:00:00.000Z")).Error)
	var running retained
	require.True(t, retentionGet(t, w, "/job?key="+key, &running))
	assert.Equal(t, "running", running.Status)
	assert.True(t, running.ExpiresAt.IsZero(), "a running job written from TypeScript does not expire")
	var st dokv.ObjectStats
	require.True(t, retentionGet(t, w, "/stats?key="+key, &st))
	assert.True(t, st.NextAlarm.IsZero(), "and sets no alarm")

	// The job finishes, written from TypeScript: it expires after the
	// retention, and the object's alarm is set for then.
	done := tsJob(key, "$date:2026-12-01T10:00:00.000Z")
	done["status"] = "completed"
	done["endedAt"] = "$date:2026-12-01T10:05:00.000Z"
	before := time.Now()
	require.Empty(t, tsCall(t, w, "setFlowJob", key, done).Error)
	finished := expiresWithin(t, w, "/job?key="+key, retention, before, time.Now())
	assert.Equal(t, "completed", finished.Status)
	assert.Greater(t, finished.Version, running.Version)
	require.True(t, retentionGet(t, w, "/stats?key="+key, &st))
	assert.Equal(t, finished.ExpiresAt, st.NextAlarm, "the alarm is set for the expiry")
	r := tsCall(t, w, "getFlowJob", key, nil)
	assert.Contains(t, string(r.Value), `"status":"completed"`)
	assert.Contains(t, r.Dates, "endedAt", "the record reads back as TypeScript wrote it")

	// The same through the unmodified npm client, and a failed job.
	failed := tsJob(npmKey, "2026-12-01T10:00:00.000Z")
	failed["status"] = "failed"
	failed["error"] = "boom"
	before = time.Now()
	require.Empty(t, npmCall(t, w, "flow", "set", npmKey, failed).Error)
	expiresWithin(t, w, "/job?key="+npmKey, retention, before, time.Now())

	// Go's own write of a finished job, through the store with that
	// retention, gets the same.
	var job dokv.FlowJob
	require.NoError(t, json.Unmarshal([]byte(r.Value), &job))
	before = time.Now()
	retentionSend(t, w, http.MethodPut, "/job?key="+npmKey, job)
	expiresWithin(t, w, "/job?key="+npmKey, retention, before, time.Now())

	// An upload file gets its store's WithTTL.
	before = time.Now()
	require.Empty(t, tsCall(t, w, "setUploadFile", key, map[string]any{"id": key, "offset": 1, "storage": map[string]any{"id": "s", "type": "r2"}}).Error)
	expiresWithin(t, w, "/upload?key="+key, uploadTTL, before, time.Now())

	// After the retention, the finished job is gone for both sides.
	time.Sleep(time.Until(finished.ExpiresAt) + 500*time.Millisecond)
	assert.False(t, retentionGet(t, w, "/job?key="+key, &retained{}), "Go no longer reads the finished job")
	assert.JSONEq(t, `"<undefined>"`, string(tsCall(t, w, "getFlowJob", key, nil).Value), "nor does TypeScript")
	var upload retained
	assert.True(t, retentionGet(t, w, "/upload?key="+key, &upload), "the upload beside it stays until its own TTL")
	assert.NotContains(t, w.Log(), "dokv: alarm", "no alarm run failed")
	assert.Contains(t, w.Log(), "was made after Serve", "the late store was told about")
}
