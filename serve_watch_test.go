package dokv_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/worker"
)

// forwarder is a namespace that records the URL ServeWatch hands a watch
// to, as the Durable Object's fetch handler would receive it.
type forwarder struct {
	driver.Namespace
	url string
}

func (f *forwarder) ForwardWebSocket(w *worker.ResponseWriter, r *worker.Request, id driver.ObjectID, u string) error {
	f.url = u
	w.WriteHeader(101)
	return nil
}

func upgrade(t *testing.T, target string) *worker.Request {
	t.Helper()
	r, err := worker.NewRequest(t.Context(), "GET", target, map[string][]string{"Upgrade": {"websocket"}}, nil)
	require.NoError(t, err)
	return r
}

// ServeWatch tells the object the key the browser watched, beside the key
// it stores: the object writes the watched one in the browser's messages,
// and cannot derive it (under ObjectNamedByKey it stores the prefix alone).
func TestServeWatch_PassesTheWatchedKey(t *testing.T) {
	for name, p := range map[string]dokv.Partitioning{
		"PerKey": dokv.PerKey(), "HashShards": dokv.HashShards(4), "ObjectNamedByKey": dokv.ObjectNamedByKey(),
	} {
		t.Run(name, func(t *testing.T) {
			ns := &forwarder{Namespace: dokv.NewMemoryNamespace()}
			s, err := dokv.New[string](ns, dokv.WithPrefix("pfx/"), dokv.WithPartitioning(p))
			require.NoError(t, err)
			var w worker.ResponseWriter
			key := "my key/é&x"
			s.ServeWatch(&w, upgrade(t, "https://app.example/watch?after=7"), key)
			require.Equal(t, 101, w.Status())
			u, err := url.Parse(ns.url)
			require.NoError(t, err)
			q := u.Query()
			assert.Equal(t, key, q.Get("watched"))
			assert.NotEqual(t, key, q.Get("key"), "the stored key has the store's prefix")
			assert.True(t, strings.HasPrefix(q.Get("key"), "4:pfx/"), q.Get("key"))
			assert.Equal(t, "7", q.Get("after"))
		})
	}
}

// What ServeWatch refuses, it answers with a JSON error.
func TestServeWatch_ErrorsAreJSON(t *testing.T) {
	s, err := dokv.New[string](&forwarder{Namespace: dokv.NewMemoryNamespace()})
	require.NoError(t, err)
	plain, err := worker.NewRequest(t.Context(), "GET", "https://app.example/watch", nil, nil)
	require.NoError(t, err)
	memory, err := dokv.New[string](dokv.NewMemoryNamespace())
	require.NoError(t, err)
	for _, c := range []struct {
		name   string
		store  *dokv.Store[string]
		r      *worker.Request
		key    string
		status int
	}{
		{"not an upgrade", s, plain, "k", 426},
		{"invalid key", s, upgrade(t, "https://app.example/watch"), "", 400},
		{"invalid position", s, upgrade(t, "https://app.example/watch?after=007"), "k", 400},
		{"no WebSocket forwarding", memory, upgrade(t, "https://app.example/watch"), "k", 501},
	} {
		var w worker.ResponseWriter
		c.store.ServeWatch(&w, c.r, c.key)
		assert.Equal(t, c.status, w.Status(), c.name)
		assert.Equal(t, "application/json", w.Header("Content-Type"), c.name)
		var body struct {
			Error string `json:"error"`
		}
		require.NoError(t, json.Unmarshal(w.Body(), &body), c.name)
		assert.NotEmpty(t, body.Error, c.name)
	}
}

// A Go watcher's messages (the driver's, which Store.Watch maps back to
// the store's key) carry the stored key it watches, in memory as on
// Workers, where the entry module adds it to the object's messages as
// watch.WithKey does here.
func TestMemoryWatch_MessagesCarryTheStoredKey(t *testing.T) {
	ctx := t.Context()
	ns := dokv.NewMemoryNamespace()
	s, err := dokv.New[string](ns, dokv.WithPrefix("pfx/"), dokv.WithPartitioning(dokv.SingleObject("one")))
	require.NoError(t, err)
	stub, ok := ns.Get(ns.IDFromName(s.ObjectName("mykey"))).(driver.Watcher)
	require.True(t, ok)
	stream, err := stub.Watch(ctx, "4:pfx/mykey", 0, false)
	require.NoError(t, err)
	defer stream.Close()
	require.NoError(t, s.Set(ctx, "mykey", "v"))
	for _, prefix := range []string{`{"type":"start","key":"4:pfx/mykey","at":`, `{"type":"set","key":"4:pfx/mykey","at":`} {
		m, err := stream.Next(ctx)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(string(m), prefix), "%s", m)
	}
}
