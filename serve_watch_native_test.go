package dokv_test

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/worker"
	"github.com/dokv/dokv/worker/workerhttp"
)

// nativeWatchServer serves GET /watch/{key} with ServeWatch, under
// net/http through workerhttp.FromHandler, as a local program does.
type nativeWatchServer struct {
	srv *httptest.Server
	// serving counts the handlers still running: a native watch holds its
	// handler until it ends.
	serving atomic.Int32
}

func newNativeWatchServer[T any](t *testing.T, s *dokv.Store[T]) *nativeWatchServer {
	t.Helper()
	n := &nativeWatchServer{}
	n.srv = httptest.NewServer(workerhttp.FromHandler(worker.HandlerFunc(func(w *worker.ResponseWriter, r *worker.Request) {
		n.serving.Add(1)
		defer n.serving.Add(-1)
		s.ServeWatch(w, r, strings.TrimPrefix(r.Path, "/watch/"))
	})))
	t.Cleanup(n.srv.Close)
	return n
}

// dial opens the watch of key, with query (after=, token=) if any.
func (n *nativeWatchServer) dial(t *testing.T, key, query string) *websocket.Conn {
	t.Helper()
	conn, resp, err := n.tryDial(t, key, query)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	t.Cleanup(func() { conn.CloseNow() })
	return conn
}

func (n *nativeWatchServer) tryDial(t *testing.T, key, query string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(n.srv.URL, "http") + "/watch/" + url.PathEscape(key)
	if query != "" {
		u += "?" + query
	}
	return websocket.Dial(ctx, u, nil)
}

// browserMessage is a watch message as a browser reads it (README, "Watch").
type browserMessage struct {
	Type      string          `json:"type"`
	Key       string          `json:"key"`
	At        uint64          `json:"at"`
	From      string          `json:"from"`
	Version   uint64          `json:"version"`
	Value     json.RawMessage `json:"value"`
	Value64   []byte          `json:"value64"`
	Truncated bool            `json:"truncated"`
	Event     json.RawMessage `json:"event"`
	raw       string
}

// bytes is the value the message carries: verbatim when it is JSON,
// else base64's.
func (m browserMessage) bytes() []byte {
	if m.Value != nil {
		return m.Value
	}
	return m.Value64
}

func readBrowser(t *testing.T, conn *websocket.Conn) browserMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	typ, data, err := conn.Read(ctx)
	require.NoError(t, err)
	require.Equal(t, websocket.MessageText, typ, "each message is one JSON text message")
	var m browserMessage
	require.NoError(t, json.Unmarshal(data, &m), "%s", data)
	m.raw = string(data)
	return m
}

// sameAsGo checks that a browser's message says what the Go watcher's
// event says.
func sameAsGo(t *testing.T, ev dokv.WatchEvent[[]byte], m browserMessage, browserKey string) {
	t.Helper()
	kinds := map[dokv.WatchKind]string{
		dokv.WatchSnapshot: "start", dokv.WatchResumed: "start", dokv.WatchSet: "set",
		dokv.WatchDeleted: "delete", dokv.WatchEmitted: "event",
	}
	assert.Equal(t, kinds[ev.Kind], m.Type, "%s", m.raw)
	assert.Equal(t, browserKey, m.Key, "the key the browser asked for, not the stored key")
	assert.Equal(t, ev.At, m.At, "%s", m.raw)
	assert.Equal(t, ev.Version, m.Version, "%s", m.raw)
	assert.Equal(t, ev.Truncated, m.Truncated, "%s", m.raw)
	if ev.HasValue() {
		assert.Equal(t, ev.Value, m.bytes(), "%s", m.raw)
	} else {
		assert.Nil(t, m.bytes(), "%s", m.raw)
	}
	if ev.Kind == dokv.WatchEmitted {
		assert.JSONEq(t, string(ev.Event), string(m.Event))
	}
}

// nextGo is the Go watcher's next event.
func nextGo(t *testing.T, next func() (dokv.WatchEvent[[]byte], error, bool)) dokv.WatchEvent[[]byte] {
	t.Helper()
	ev, err, ok := next()
	require.True(t, ok)
	require.NoError(t, err)
	return ev
}

// A browser watching natively sees what a Go watcher sees, in order, with
// the exact bytes of each value (verbatim when it is JSON, in value64 when
// it is not), events from Emit, and, resuming with after=, the changes it
// missed.
func TestServeWatch_Native_SeesWhatAGoWatcherSees(t *testing.T) {
	for name, p := range map[string]dokv.Partitioning{"PerKey": dokv.PerKey(), "ObjectNamedByKey": dokv.ObjectNamedByKey()} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			s, err := dokv.New[[]byte](dokv.NewMemoryNamespace(), dokv.WithCodec(dokv.Raw()), dokv.WithPrefix("jobs/"), dokv.WithPartitioning(p))
			require.NoError(t, err)
			const key = "job 1/é"
			n := newNativeWatchServer(t, s)
			conn := n.dial(t, key, "")
			start := readBrowser(t, conn)
			require.Equal(t, "start", start.Type, "%s", start.raw)
			assert.Equal(t, "snapshot", start.From)

			next, stop := iter.Pull2(s.Watch(ctx, key))
			defer stop()
			sameAsGo(t, nextGo(t, next), start, key)

			values := [][]byte{
				[]byte(`{"progress": 0.25,  "note":"spaces kept"}`), []byte(`"a JSON string"`), []byte("not JSON"),
				{0, 0xff, 0xfe, '"', '\n'}, {}, []byte(`[1,2,3]`),
			}
			var seen []browserMessage
			for i, v := range values {
				require.NoError(t, s.Set(ctx, key, v))
				m := readBrowser(t, conn)
				assert.Equal(t, "set", m.Type)
				assert.Equal(t, v, m.bytes(), "value %d, exactly as stored: %s", i, m.raw)
				sameAsGo(t, nextGo(t, next), m, key)
				seen = append(seen, m)
			}
			require.NoError(t, s.Emit(ctx, key, map[string]any{"step": "upload", "done": true}))
			m := readBrowser(t, conn)
			assert.Equal(t, "event", m.Type)
			assert.JSONEq(t, `{"step":"upload","done":true}`, string(m.Event))
			sameAsGo(t, nextGo(t, next), m, key)
			require.NoError(t, conn.Close(websocket.StatusNormalClosure, ""))

			// Resuming after the second change: the changes after it, the same
			// bytes as the first socket got, and what a Go watcher resuming
			// there gets.
			after := seen[1].At
			resumed := n.dial(t, key, "after="+strconv.FormatUint(after, 10))
			rnext, rstop := iter.Pull2(s.Watch(ctx, key, dokv.WithResumeAfter(after)))
			defer rstop()
			start = readBrowser(t, resumed)
			assert.Equal(t, "resume", start.From, "%s", start.raw)
			assert.Equal(t, after, start.At)
			sameAsGo(t, nextGo(t, rnext), start, key)
			for _, want := range seen[2:] {
				m := readBrowser(t, resumed)
				assert.Equal(t, want.raw, m.raw)
				sameAsGo(t, nextGo(t, rnext), m, key)
			}
			require.NoError(t, s.Set(ctx, key, []byte("after the resume")))
			m = readBrowser(t, resumed)
			assert.Equal(t, "after the resume", string(m.bytes()))
			sameAsGo(t, nextGo(t, rnext), m, key)
			// Last, as a delete that empties the object ends its log (a
			// resume from before it resynchronises, on Workers too).
			require.NoError(t, s.Delete(ctx, key))
			m = readBrowser(t, resumed)
			assert.Equal(t, "delete", m.Type)
			sameAsGo(t, nextGo(t, rnext), m, key)
		})
	}
}

// When the browser goes, the server ends its watch: the object, which
// held nothing but the watcher, is gone, and so is the handler.
func TestServeWatch_Native_ServerEndsTheWatchWhenTheClientGoes(t *testing.T) {
	ns := dokv.NewMemoryNamespace()
	s, err := dokv.New[string](ns)
	require.NoError(t, err)
	n := newNativeWatchServer(t, s)
	for _, leave := range []func(*websocket.Conn){
		func(c *websocket.Conn) { assert.NoError(t, c.Close(websocket.StatusNormalClosure, "bye")) },
		func(c *websocket.Conn) { c.CloseNow() }, // no close handshake: the connection just breaks
	} {
		conn := n.dial(t, "nobody-wrote-this", "")
		assert.Equal(t, "start", readBrowser(t, conn).Type)
		assert.Equal(t, 1, ns.Objects(), "the watcher keeps its object")
		assert.Equal(t, int32(1), n.serving.Load())
		leave(conn)
		require.Eventually(t, func() bool { return ns.Objects() == 0 && n.serving.Load() == 0 }, 5*time.Second, time.Millisecond,
			"objects %d, handlers %d", ns.Objects(), n.serving.Load())
	}
}

// The browser's own messages are answered as the Durable Object answers
// them: its keep-alive with AutoPong, and a message over 1,024 bytes by
// closing the socket with 1009.
func TestServeWatch_Native_ClientMessages(t *testing.T) {
	s, err := dokv.New[string](dokv.NewMemoryNamespace())
	require.NoError(t, err)
	n := newNativeWatchServer(t, s)
	conn := n.dial(t, "k", "")
	readBrowser(t, conn)
	ctx := t.Context()
	for range 20 {
		require.NoError(t, conn.Write(ctx, websocket.MessageText, []byte("ping")))
		typ, data, err := conn.Read(ctx)
		require.NoError(t, err)
		assert.Equal(t, websocket.MessageText, typ)
		assert.Equal(t, "pong", string(data))
	}
	require.NoError(t, conn.Write(ctx, websocket.MessageText, []byte(strings.Repeat("€", 400)))) // 1,200 bytes
	_, _, err = conn.Read(ctx)
	assert.Equal(t, websocket.StatusMessageTooBig, websocket.CloseStatus(err), "%v", err)

	chatty := n.dial(t, "k", "")
	readBrowser(t, chatty)
	for range dokv.MaxWatchers {
		if chatty.Write(ctx, websocket.MessageBinary, []byte("hello")) != nil {
			break
		}
	}
	_, _, err = chatty.Read(ctx)
	assert.Equal(t, websocket.StatusPolicyViolation, websocket.CloseStatus(err), "%v", err)
	var ce websocket.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, ce.Reason, "watchers only listen")
	require.Eventually(t, func() bool { return n.serving.Load() == 0 }, 5*time.Second, time.Millisecond)
}

// Under WithWatchTokens a native watch needs a token as on Workers: 401
// before the upgrade without one, a watch with one.
func TestServeWatch_Native_WatchTokens(t *testing.T) {
	tokens, err := dokv.NewWatchTokens(strings.Repeat("s", dokv.WatchTokenSecretMinBytes))
	require.NoError(t, err)
	s, err := dokv.New[string](dokv.NewMemoryNamespace(), dokv.WithWatchTokens(tokens))
	require.NoError(t, err)
	n := newNativeWatchServer(t, s)

	other, err := s.WatchToken("job-2", time.Minute)
	require.NoError(t, err)
	for _, query := range []string{"", "token=garbage", "token=" + url.QueryEscape(other)} {
		_, resp, err := n.tryDial(t, "job-1", query)
		require.Error(t, err, query)
		require.NotNil(t, resp, query)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, query)
		assert.Equal(t, `Bearer realm="dokv watch"`, resp.Header.Get("WWW-Authenticate"), query)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"), query)
	}
	assert.Equal(t, int32(0), n.serving.Load())

	token, err := s.WatchToken("job-1", time.Minute)
	require.NoError(t, err)
	conn := n.dial(t, "job-1", "token="+url.QueryEscape(token))
	assert.Equal(t, "start", readBrowser(t, conn).Type) // the watch is open
	require.NoError(t, s.Set(t.Context(), "job-1", "running"))
	m := readBrowser(t, conn)
	assert.Equal(t, "set", m.Type)
	assert.Equal(t, "job-1", m.Key)
	assert.Equal(t, `"running"`, string(m.Value))
}

// A watch handed to an in-process namespace without a connection to take
// over (a request made with worker.NewRequest) is 501, as before.
func TestServeWatch_Native_WithoutAConnectionIs501(t *testing.T) {
	s, err := dokv.New[string](dokv.NewMemoryNamespace())
	require.NoError(t, err)
	r, err := worker.NewRequest(t.Context(), "GET", "https://app.example/watch/k", map[string][]string{"Upgrade": {"websocket"}}, nil)
	require.NoError(t, err)
	var w worker.ResponseWriter
	s.ServeWatch(&w, r, "k")
	assert.Equal(t, http.StatusNotImplemented, w.Status())
	assert.Contains(t, string(w.Body()), "workerhttp.FromHandler")

	// Through FromHandler, a request that is not an upgrade is 426, and an
	// upgrade without the WebSocket handshake's headers is the bridge's 400.
	n := newNativeWatchServer(t, s)
	for _, c := range []struct {
		header map[string]string
		status int
	}{
		{nil, http.StatusUpgradeRequired},
		{map[string]string{"Upgrade": "websocket", "Connection": "Upgrade"}, http.StatusBadRequest},
	} {
		req, err := http.NewRequest(http.MethodGet, n.srv.URL+"/watch/k", nil)
		require.NoError(t, err)
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		resp, err := n.srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, c.status, resp.StatusCode, "%v", c.header)
	}
}
