package dokvtest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/dokvtest"
	"github.com/dokv/dokv/worker"
	"github.com/dokv/dokv/worker/workerhttp"
)

// A browser's watch through a FaultyNamespace reaches the wrapped
// namespace's objects, as without the wrapper.
func TestWithFaults_ForwardsBrowsersWatches(t *testing.T) {
	s, err := dokv.New[string](dokvtest.WithFaults(dokv.NewMemoryNamespace(), dokvtest.Faults{Seed: 1}))
	require.NoError(t, err)
	srv := httptest.NewServer(workerhttp.FromHandler(worker.HandlerFunc(func(w *worker.ResponseWriter, r *worker.Request) {
		s.ServeWatch(w, r, "job-1")
	})))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.Set(ctx, "job-1", "queued"))

	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	require.NoError(t, err)
	defer conn.CloseNow()
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	_, start, err := conn.Read(ctx)
	require.NoError(t, err)
	require.Contains(t, string(start), `"type":"start"`)
	require.Contains(t, string(start), `"value":"queued"`)
}
