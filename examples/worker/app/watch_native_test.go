package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/examples/worker/app"
	"github.com/dokv/dokv/worker/workerhttp"
)

// Served natively (workerhttp.FromHandler over the memory namespace), a
// job's watch works as on Workers: with a token from the job's watch-token
// route, the browser gets the job, then each change of it, with the job's
// ID as the key.
func TestWatch_NativeJobWatchSeesATaskUpdate(t *testing.T) {
	h, err := app.New(dokv.NewMemoryNamespace(), app.WithWatchTokenSecret(func() string { return strings.Repeat("s", 32) }))
	require.NoError(t, err)
	srv := httptest.NewServer(workerhttp.FromHandler(h))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	call := func(method, path, body string, want int) []byte {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, want, resp.StatusCode, "%s %s: %s", method, path, data)
		return data
	}

	var job dokv.FlowJob
	require.NoError(t, json.Unmarshal(call(http.MethodPost, "/jobs", `{"flowId":"f","storageId":"s","nodes":["resize","upload"]}`, http.StatusCreated), &job))
	var token struct{ Token string }
	require.NoError(t, json.Unmarshal(call(http.MethodPost, "/jobs/"+job.ID+"/watch-token", "", http.StatusOK), &token))

	watchURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/jobs/" + job.ID + "/watch"
	_, resp, err := websocket.Dial(ctx, watchURL, nil)
	require.Error(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "no watch without the token")

	conn, resp, err := websocket.Dial(ctx, watchURL+"?token="+url.QueryEscape(token.Token), nil)
	require.NoError(t, err)
	defer conn.CloseNow()
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	type message struct {
		Type  string          `json:"type"`
		Key   string          `json:"key"`
		Value json.RawMessage `json:"value"`
	}
	read := func() (message, dokv.FlowJob) {
		t.Helper()
		typ, data, err := conn.Read(ctx)
		require.NoError(t, err)
		require.Equal(t, websocket.MessageText, typ)
		var m message
		require.NoError(t, json.Unmarshal(data, &m), "%s", data)
		assert.Equal(t, job.ID, m.Key, "the job's ID, not the key the store keeps it under")
		var j dokv.FlowJob
		require.NoError(t, json.Unmarshal(m.Value, &j), "%s", data)
		return m, j
	}
	m, got := read()
	assert.Equal(t, "start", m.Type)
	assert.Equal(t, job.ID, got.ID)
	assert.Equal(t, dokv.FlowJobTaskPending, got.Tasks[0].Status)

	updated := call(http.MethodPatch, "/jobs/"+job.ID+"/tasks/resize", `{"status":"running","result":{"progress":0.5}}`, http.StatusOK)
	m, got = read()
	assert.Equal(t, "set", m.Type)
	require.Len(t, got.Tasks, 2)
	assert.Equal(t, "resize", got.Tasks[0].NodeID)
	assert.Equal(t, dokv.FlowJobTaskRunning, got.Tasks[0].Status)
	assert.JSONEq(t, `{"progress":0.5}`, string(got.Tasks[0].Result))
	assert.Equal(t, dokv.FlowJobRunning, got.Status, "a running task makes the job run")
	var want dokv.FlowJob
	require.NoError(t, json.Unmarshal(updated, &want))
	assert.True(t, bytes.Equal(mustJSON(t, want), mustJSON(t, got)), "the watch carries the job the route answered")
	require.NoError(t, conn.Close(websocket.StatusNormalClosure, ""))
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
