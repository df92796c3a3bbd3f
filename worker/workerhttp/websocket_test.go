//go:build !(js && wasm)

package workerhttp_test

import (
	"bytes"
	"context"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/internal/wsupgrade"
	"github.com/dokv/dokv/worker"
	"github.com/dokv/dokv/worker/workerhttp"
)

// lockedBuffer is a log's output, read while the server may write it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A handler under FromHandler can take over a WebSocket upgrade's
// connection; FromHandler then writes nothing of its own, whatever the
// handler left in its ResponseWriter. Only an upgrade on a connection that
// can be hijacked offers it.
func TestFromHandler_WebSocketTakeover(t *testing.T) {
	var offered sync.Map // path -> whether the request could be taken over
	h := worker.HandlerFunc(func(w *worker.ResponseWriter, r *worker.Request) {
		up, ok := wsupgrade.FromContext(r.Context())
		offered.Store(r.Path, ok)
		w.WriteHeader(http.StatusTeapot)
		w.WriteString("dropped once the connection is taken")
		if !ok || r.Path != "/echo" {
			return
		}
		conn, err := up.Accept()
		if !assert.NoError(t, err) {
			return
		}
		p, text, err := conn.Read(r.Context(), 16)
		if assert.NoError(t, err) {
			assert.True(t, text)
			assert.NoError(t, conn.Write(r.Context(), p))
		}
		assert.NoError(t, conn.Close(4000, "done"))
	})
	var serverLog lockedBuffer
	srv := httptest.NewUnstartedServer(workerhttp.FromHandler(h))
	srv.Config.ErrorLog = log.New(&serverLog, "", 0)
	srv.Start()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/echo", nil)
	require.NoError(t, err)
	defer conn.CloseNow()
	assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	require.NoError(t, conn.Write(ctx, websocket.MessageText, []byte(strings.Repeat("x", 100))))
	typ, data, err := conn.Read(ctx)
	require.NoError(t, err)
	assert.Equal(t, websocket.MessageText, typ)
	assert.Equal(t, strings.Repeat("x", 17), string(data), "Read keeps limit+1 bytes of a larger message")
	_, _, err = conn.Read(ctx)
	assert.Equal(t, websocket.StatusCode(4000), websocket.CloseStatus(err), "%v", err)
	srv.Close() // waits for the handler
	assert.Empty(t, serverLog.String(), "FromHandler wrote to the connection it gave away")

	// A plain request, and an upgrade on a ResponseWriter that cannot be
	// hijacked, are not offered the connection.
	srv2 := httptest.NewServer(workerhttp.FromHandler(h))
	defer srv2.Close()
	resp, err = srv2.Client().Get(srv2.URL + "/plain")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusTeapot, resp.StatusCode)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/recorded", nil)
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	workerhttp.FromHandler(h).ServeHTTP(rec, req)
	assert.Equal(t, http.StatusTeapot, rec.Code)
	for path, want := range map[string]bool{"/echo": true, "/plain": false, "/recorded": false} {
		got, _ := offered.Load(path)
		assert.Equal(t, want, got, path)
	}
}
