package local_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/local"
	"github.com/dokv/dokv/worker"
	"github.com/dokv/dokv/worker/workerhttp"
)

// A browser watches a key of the local namespace natively, as on the
// memory namespace and on Workers: its messages carry the key it asked
// for, a value that is not JSON arrives exactly in value64, and the watch
// ends with its socket.
func TestWebSocket_WatchesNatively(t *testing.T) {
	ns, err := local.Open(t.TempDir())
	require.NoError(t, err)
	defer ns.Close()
	s, err := dokv.New[[]byte](ns, dokv.WithCodec(dokv.Raw()), dokv.WithPrefix("jobs/"))
	require.NoError(t, err)
	srv := httptest.NewServer(workerhttp.FromHandler(worker.HandlerFunc(func(w *worker.ResponseWriter, r *worker.Request) {
		s.ServeWatch(w, r, strings.TrimPrefix(r.Path, "/watch/"))
	})))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.Set(ctx, "job-1", []byte(`{"status":"queued"}`)))

	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/watch/job-1", nil)
	require.NoError(t, err)
	defer conn.CloseNow()
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	type message struct {
		Type    string          `json:"type"`
		Key     string          `json:"key"`
		At      uint64          `json:"at"`
		Version uint64          `json:"version"`
		Value   json.RawMessage `json:"value"`
		Value64 []byte          `json:"value64"`
	}
	read := func() message {
		t.Helper()
		typ, data, err := conn.Read(ctx)
		require.NoError(t, err)
		require.Equal(t, websocket.MessageText, typ)
		var m message
		require.NoError(t, json.Unmarshal(data, &m), "%s", data)
		return m
	}
	start := read()
	assert.Equal(t, "start", start.Type)
	assert.Equal(t, "job-1", start.Key, "the key the browser asked for, not the stored one")
	assert.Equal(t, `{"status":"queued"}`, string(start.Value))

	binary := []byte{0, 0xff, 'x'}
	require.NoError(t, s.Set(ctx, "job-1", binary))
	m := read()
	assert.Equal(t, "set", m.Type)
	assert.Equal(t, binary, m.Value64)
	e, err := s.GetEntry(ctx, "job-1")
	require.NoError(t, err)
	assert.Equal(t, e.Version, m.Version)
	assert.Greater(t, m.At, start.At)

	require.NoError(t, conn.Close(websocket.StatusNormalClosure, ""))
	require.NoError(t, s.Delete(ctx, "job-1"))
	require.Eventually(t, func() bool { return ns.Objects() == 0 }, 5*time.Second, time.Millisecond,
		"the watcher left with its socket, so the emptied object is dropped")
}

// Closing the namespace, as a stopping server does after its requests,
// closes browsers' watches with 1001 (going away), so that they reconnect.
func TestWebSocket_CloseGoesAway(t *testing.T) {
	ns, err := local.Open(t.TempDir())
	require.NoError(t, err)
	s, err := dokv.New[string](ns)
	require.NoError(t, err)
	srv := httptest.NewServer(workerhttp.FromHandler(worker.HandlerFunc(func(w *worker.ResponseWriter, r *worker.Request) {
		s.ServeWatch(w, r, strings.TrimPrefix(r.Path, "/watch/"))
	})))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/watch/job-1", nil)
	require.NoError(t, err)
	defer conn.CloseNow()
	_, start, err := conn.Read(ctx)
	require.NoError(t, err)
	require.Contains(t, string(start), `"type":"start"`)

	require.NoError(t, ns.Close())
	_, _, err = conn.Read(ctx)
	assert.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(err), "%v", err)
}
