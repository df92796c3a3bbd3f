package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
)

// completedTasks decodes a job from a watch message and returns it with the
// set of its completed tasks.
func completedTasks(t *testing.T, m watchMessage) (dokv.FlowJob, map[string]bool) {
	t.Helper()
	var job dokv.FlowJob
	require.NoError(t, json.Unmarshal(m.Value, &job), "%s", m.Value)
	done := map[string]bool{}
	for _, task := range job.Tasks {
		if task.Status == dokv.FlowJobTaskCompleted {
			done[task.NodeID] = true
		}
	}
	return job, done
}

// followJob reads set messages of a job's watch until n have arrived,
// checking that each adds exactly one completed task to the one before:
// every change, in order, none twice.
func followJob(t *testing.T, conn *websocket.Conn, wantKey string, n int, done map[string]bool, at uint64) (map[string]bool, uint64) {
	t.Helper()
	for range n {
		m := readWatch(t, conn)
		require.Equal(t, "set", m.Type)
		require.Equal(t, wantKey, m.Key, "a message carries the key the browser watched")
		require.Greater(t, m.At, at, "positions increase")
		require.Equal(t, m.At, m.Version)
		_, next := completedTasks(t, m)
		require.Len(t, next, len(done)+1, "each change completes one more task")
		for node := range done {
			require.True(t, next[node], "a completed task stays completed")
		}
		done, at = next, m.At
	}
	return done, at
}

// Browsers following a job see every change in order while other clients
// write, and one that reconnects with its last position misses nothing.
func TestExampleWorker_WatchSeesEveryJobChange(t *testing.T) {
	w := startExample(t)
	const tasks = 10
	nodes := make([]string, tasks)
	for i := range nodes {
		nodes[i] = fmt.Sprint("n", i)
	}
	job, location := w.createJob(t, nodes...)

	watcher := dialWatch(t, w.Worker, location+"/watch?token="+w.watchToken(t, location))
	start := readWatch(t, watcher)
	require.Equal(t, "start", start.Type)
	require.Equal(t, "snapshot", start.From)
	assert.Equal(t, job.ID, start.Key, "the job's ID, not the key its object stores")
	snapshot, _ := completedTasks(t, start)
	assert.Equal(t, job.ID, snapshot.ID)
	assert.Equal(t, dokv.FlowJobPending, snapshot.Status)

	leaver := dialWatch(t, w.Worker, location+"/watch?token="+w.watchToken(t, location))
	require.Equal(t, "start", readWatch(t, leaver).Type)

	// Every task completes, each by a client of its own, all at once.
	var wg sync.WaitGroup
	for _, node := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := w.request(http.MethodPatch, location+"/tasks/"+node, []byte(`{"status":"completed"}`))
			if assert.NoError(t, err) {
				assert.Equal(t, http.StatusOK, resp.Status, "%s", resp)
			}
		}()
	}

	// One watcher leaves after three changes.
	leftWith, leftAt := followJob(t, leaver, job.ID, 3, map[string]bool{}, start.At)
	leaver.Close(websocket.StatusNormalClosure, "")
	wg.Wait()

	done, _ := followJob(t, watcher, job.ID, tasks, map[string]bool{}, start.At)
	assert.Len(t, done, tasks)
	final := decodeExampleJob(t, w.do(t, http.MethodGet, location, nil), http.StatusOK)
	assert.Equal(t, dokv.FlowJobCompleted, final.Status, "the last change completed the job")

	// It comes back after everything happened, and misses nothing.
	back := dialWatch(t, w.Worker, fmt.Sprintf("%s/watch?after=%d&token=%s", location, leftAt, w.watchToken(t, location)))
	resumed := readWatch(t, back)
	assert.Equal(t, "start", resumed.Type)
	assert.Equal(t, "resume", resumed.From)
	assert.Equal(t, leftAt, resumed.At)
	assert.Equal(t, job.ID, resumed.Key)
	done, _ = followJob(t, back, job.ID, tasks-3, leftWith, leftAt)
	assert.Len(t, done, tasks)
}

// The example's watch routes: uploads too, and the answers to what is not
// a watch.
func TestExampleWorker_WatchRoutes(t *testing.T) {
	w := startExample(t)
	upload := dialWatch(t, w.Worker, "/uploads/no-such-upload/watch?token="+w.watchToken(t, "/uploads/no-such-upload"))
	m := readWatch(t, upload)
	assert.Equal(t, "start", m.Type)
	assert.Zero(t, m.Version, "an absent record starts at version 0")
	assert.Equal(t, "no-such-upload", m.Key)

	// What is not a watch gets the example's JSON errors.
	requireExampleError(t, w.do(t, http.MethodGet, "/jobs/x/watch", nil), http.StatusUpgradeRequired)
	requireExampleError(t, w.do(t, http.MethodPost, "/jobs/x/watch", nil), http.StatusMethodNotAllowed)
	requireExampleError(t, w.do(t, http.MethodGet, "/jobs/x/y/watch", nil), http.StatusNotFound)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(w.URL, "http")+"/jobs/x/watch?after=007&token="+w.watchToken(t, "/jobs/x"), nil)
	require.Error(t, err)
	require.NotNil(t, resp)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	requireExampleError(t, exampleResponse{Status: resp.StatusCode, Header: resp.Header, Body: body}, http.StatusBadRequest, "a position with a leading zero")

	// A watch without a token, or with another record's, is refused before
	// any upgrade.
	for _, path := range []string{"/jobs/x/watch", "/jobs/x/watch?token=" + w.watchToken(t, "/jobs/y"), "/uploads/x/watch?token=" + w.watchToken(t, "/jobs/x")} {
		_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(w.URL, "http")+path, nil)
		require.Error(t, err, path)
		require.NotNil(t, resp, path)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		requireExampleError(t, exampleResponse{Status: resp.StatusCode, Header: resp.Header, Body: body}, http.StatusUnauthorized, path)
	}
}

// watchToken returns a token for the watch of the record at location
// (/jobs/{id} or /uploads/{id}), from the example's token route.
func (w *exampleWorker) watchToken(t *testing.T, location string) string {
	t.Helper()
	resp := w.do(t, http.MethodPost, location+"/watch-token", nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var out struct{ Token string }
	require.NoError(t, json.Unmarshal(resp.Body, &out))
	require.NotEmpty(t, out.Token)
	return out.Token
}
