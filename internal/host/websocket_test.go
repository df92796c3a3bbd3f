package host

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/internal/object"
	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/storage"
	"github.com/dokv/dokv/internal/watch"
	"github.com/dokv/dokv/internal/workers"
	"github.com/dokv/dokv/internal/wsupgrade"
	"github.com/dokv/dokv/worker"
)

// fakeConn is the server's side of a WebSocket, driven by a test as its
// client: what the client sends goes in, what the server writes comes
// out, and the server's close is recorded.
type fakeConn struct {
	in     chan []byte
	out    chan []byte
	gate   chan struct{} // when set, each write waits for it (a client that does not read)
	closed chan struct{}
	once   sync.Once
	code   int // 0: closed without a handshake
	reason string
}

func newFakeConn() *fakeConn {
	return &fakeConn{in: make(chan []byte), out: make(chan []byte, 4*watch.MaxLag), closed: make(chan struct{})}
}

func (c *fakeConn) Read(ctx context.Context, limit int) ([]byte, bool, error) {
	select {
	case p := <-c.in:
		return p[:min(len(p), limit+1)], true, nil
	case <-c.closed:
		return nil, false, net.ErrClosed
	}
}

func (c *fakeConn) Write(ctx context.Context, p []byte) error {
	if c.gate != nil {
		select {
		case <-c.gate:
		case <-c.closed:
			return net.ErrClosed
		case <-ctx.Done():
			c.CloseNow()
			return ctx.Err()
		}
	}
	select {
	case c.out <- bytes.Clone(p):
		return nil
	case <-c.closed:
		return net.ErrClosed
	}
}

func (c *fakeConn) Close(code int, reason string) error {
	c.once.Do(func() {
		c.code, c.reason = code, reason
		close(c.closed)
	})
	return nil
}

func (c *fakeConn) CloseNow() error { return c.Close(0, "") }

// next returns the server's next message.
func (c *fakeConn) next(t *testing.T) []byte {
	t.Helper()
	select {
	case m := <-c.out:
		return m
	case <-time.After(5 * time.Second):
		require.FailNow(t, "no message from the server")
		return nil
	}
}

// closedWith waits for the server's close.
func (c *fakeConn) closedWith(t *testing.T) (int, string) {
	t.Helper()
	select {
	case <-c.closed:
		return c.code, c.reason
	case <-time.After(5 * time.Second):
		require.FailNow(t, "the server did not close the socket")
		return 0, ""
	}
}

type fakeUpgrader struct {
	conn     *fakeConn
	accepted bool
}

func (u *fakeUpgrader) Accept() (wsupgrade.Conn, error) {
	u.accepted = true
	return u.conn, nil
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }
func (systemClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

func newMemoryHost() *Namespace {
	return New(Config{
		Class: "test\x00", Clock: systemClock{}, Storage: Memory{},
		ErrInvalidArgument: errors.New("invalid argument"), ErrOverloaded: errors.New("overloaded"), ErrObject: errors.New("object"),
	})
}

// serve runs ForwardWebSocket on a fake connection to the watch of query,
// until ctx ends or the watch does; done is closed when it returns.
func serve(t *testing.T, ctx context.Context, ns *Namespace, id driver.ObjectID, query string) (c *fakeConn, done chan struct{}) {
	t.Helper()
	c = newFakeConn()
	return c, serveOn(t, ctx, ns, id, query, c)
}

func serveOn(t *testing.T, ctx context.Context, ns *Namespace, id driver.ObjectID, query string, c *fakeConn) chan struct{} {
	t.Helper()
	r, err := worker.NewRequest(wsupgrade.NewContext(ctx, &fakeUpgrader{conn: c}), "GET", "https://app.example/watch", nil, nil)
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		assert.NoError(t, ns.ForwardWebSocket(&worker.ResponseWriter{}, r, id, "https://dokv"+watch.Path+"?"+query))
	}()
	t.Cleanup(func() {
		c.CloseNow()
		<-done
	})
	return done
}

func waitDone(t *testing.T, done chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		require.FailNow(t, "ForwardWebSocket did not return")
	}
}

func put(t *testing.T, ns *Namespace, id driver.ObjectID, key string, value []byte) {
	t.Helper()
	req := protocol.AppendRequest(nil, &protocol.Request{Op: protocol.OpWrite, Mutations: []protocol.Mutation{{Key: key, Kind: protocol.KindPut, Value: value}}})
	reply, err := ns.Get(id).Call(t.Context(), req)
	require.NoError(t, err)
	r, err := protocol.DecodeReply(protocol.OpWrite, reply)
	require.NoError(t, err)
	require.Equal(t, protocol.StatusOK, r.Status, "%+v", r)
}

// watchers counts the object's watchers, under its turn.
func watchers(t *testing.T, ns *Namespace, id driver.ObjectID) int {
	t.Helper()
	o, err := ns.turn(t.Context(), id, false)
	require.NoError(t, err)
	if o == nil {
		return 0
	}
	defer o.release()
	return o.watcherCount
}

func TestForwardWebSocket_WithoutAConnectionIsUnsupported(t *testing.T) {
	ns := newMemoryHost()
	r, err := worker.NewRequest(t.Context(), "GET", "https://app.example/watch", map[string][]string{"Upgrade": {"websocket"}}, nil)
	require.NoError(t, err)
	var w worker.ResponseWriter
	err = ns.ForwardWebSocket(&w, r, ns.IDFromName("a"), "https://dokv"+watch.Path+"?key=k")
	assert.ErrorIs(t, err, ErrNoConnection)
	assert.ErrorIs(t, err, errors.ErrUnsupported, "ServeWatch answers it 501")
	assert.Empty(t, w.Body())
	assert.Equal(t, 0, ns.Objects(), "no watch was opened")
}

func TestForwardWebSocket_OnlyTheWatchPath(t *testing.T) {
	ns := newMemoryHost()
	u := &fakeUpgrader{conn: newFakeConn()}
	r, err := worker.NewRequest(wsupgrade.NewContext(t.Context(), u), "GET", "https://app.example/watch", nil, nil)
	require.NoError(t, err)
	err = ns.ForwardWebSocket(&worker.ResponseWriter{}, r, ns.IDFromName("a"), "https://dokv/elsewhere?key=k")
	assert.Error(t, err)
	assert.False(t, u.accepted, "a failed hand-over leaves the connection to the handler")
}

// A browser's messages carry the key it watched; a Go watcher's of the
// same stored key carry the stored key, and are otherwise the same bytes.
func TestForwardWebSocket_MessagesCarryTheWatchedKey(t *testing.T) {
	ns := newMemoryHost()
	id := ns.IDFromName("a")
	const stored, watched = "4:pfx/job 1", "job 1"
	goWatch, err := ns.Get(id).Watch(t.Context(), stored, 0, false)
	require.NoError(t, err)
	defer goWatch.Close()
	c, _ := serve(t, t.Context(), ns, id, "key=4%3Apfx%2Fjob+1&watched=job%201")
	start := c.next(t) // the watch is open: what follows reaches both
	want, err := goWatch.Next(t.Context())
	require.NoError(t, err)
	storedJSON, watchedJSON := watch.KeyJSON(stored), watch.KeyJSON(watched)
	rekey := func(m []byte) string {
		return string(bytes.Replace(m, append([]byte(`"key":`), storedJSON...), append([]byte(`"key":`), watchedJSON...), 1))
	}
	assert.Equal(t, rekey(want), string(start))

	values := [][]byte{[]byte(`{"progress": 0.5}`), []byte("not JSON"), {0, 0xff, '"'}}
	for _, v := range values {
		put(t, ns, id, stored, v)
	}
	require.NoError(t, ns.Get(id).Emit(t.Context(), stored, []byte(`{"step":"done"}`)))

	for i := range 1 + len(values) {
		want, err := goWatch.Next(t.Context())
		require.NoError(t, err)
		got := c.next(t)
		assert.Equal(t, rekey(want), string(got), "message %d", i)
		assert.Contains(t, string(got), `,"key":"job 1",`)
	}
}

// Refused watches are close codes on an accepted socket, with the Durable
// Object's codes and reasons, and leave no watcher behind.
func TestForwardWebSocket_RefusalsAreCloseCodes(t *testing.T) {
	_, badAfter := watch.ParsePosition("007")
	_, badEmptyAfter := watch.ParsePosition("")
	_, badWatched := object.WatchedKeyJSON("")
	_, badKey := New(Config{Clock: systemClock{}, Storage: Memory{}}).newActor(memoryEngine{storage.NewMemory()}, 0).Watch("", 0, false, 0)
	require.Error(t, badKey)
	for _, c := range []struct {
		query  string
		code   int
		reason string
	}{
		{"key=k&after=007", watch.CloseBadRequest, "after: " + badAfter.Error()},
		{"key=k&after=", watch.CloseBadRequest, "after: " + badEmptyAfter.Error()},
		{"key=k&watched=", watch.CloseBadRequest, badWatched.Error()},
		{"key=", watch.CloseBadRequest, badKey.Error()},
		{"watched=k", watch.CloseBadRequest, badKey.Error()},
	} {
		ns := newMemoryHost()
		id := ns.IDFromName("a")
		conn, done := serve(t, t.Context(), ns, id, c.query)
		code, reason := conn.closedWith(t)
		assert.Equal(t, c.code, code, c.query)
		assert.Equal(t, closeReason(c.reason), reason, c.query)
		waitDone(t, done)
		assert.Equal(t, 0, ns.Objects(), "%s: the refused watch left nothing", c.query)
	}
}

func TestForwardWebSocket_TooManyWatchers(t *testing.T) {
	ns := newMemoryHost()
	id := ns.IDFromName("a")
	for range watch.MaxWatchers {
		w, err := ns.Get(id).Watch(t.Context(), "k", 0, false)
		require.NoError(t, err)
		defer w.Close()
	}
	conn, done := serve(t, t.Context(), ns, id, "key=k")
	code, reason := conn.closedWith(t)
	assert.Equal(t, watch.CloseTooManyWatchers, code)
	assert.Equal(t, watch.ReasonTooManyWatchers, reason)
	waitDone(t, done)
	assert.Equal(t, watch.MaxWatchers, watchers(t, ns, id))
}

// The client's keep-alive is answered and not counted; other messages are,
// and the MaxClientMessages-th closes the socket, as does one too large.
func TestForwardWebSocket_ClientMessages(t *testing.T) {
	ns := newMemoryHost()
	id := ns.IDFromName("a")
	conn, done := serve(t, t.Context(), ns, id, "key=k")
	assert.Contains(t, string(conn.next(t)), `"type":"start"`)
	for range 2 * watch.MaxClientMessages {
		conn.in <- []byte(watch.AutoPing)
		assert.Equal(t, watch.AutoPong, string(conn.next(t)))
	}
	conn.in <- bytes.Repeat([]byte("x"), watch.MaxClientMessageBytes) // at the limit: counted, not closed
	for range watch.MaxClientMessages - 2 {
		conn.in <- []byte("hello")
	}
	require.Equal(t, 1, watchers(t, ns, id), "still open")
	conn.in <- []byte("hello")
	code, reason := conn.closedWith(t)
	assert.Equal(t, watch.CloseBadRequest, code)
	assert.Equal(t, reasonTooManyMessages, reason)
	waitDone(t, done)
	assert.Equal(t, 0, ns.Objects(), "the watch ended with the socket")

	conn, done = serve(t, t.Context(), ns, id, "key=k")
	conn.next(t)
	conn.in <- bytes.Repeat([]byte("x"), watch.MaxClientMessageBytes+1)
	code, reason = conn.closedWith(t)
	assert.Equal(t, watch.CloseMessageTooBig, code)
	assert.Equal(t, reasonMessageTooBig, reason)
	waitDone(t, done)
	assert.Equal(t, 0, ns.Objects())
}

// The Durable Object closes chatty sockets with these reasons: the entry
// module reads them from internal/workers' constants.
func TestForwardWebSocket_ReasonsAreTheDurableObjects(t *testing.T) {
	c := workers.EntryConstants()
	assert.Equal(t, c["reasonMessageTooBig"], reasonMessageTooBig)
	assert.Equal(t, c["reasonTooManyMessages"], reasonTooManyMessages)
	assert.Equal(t, c["closeTooManyWatchers"], closeLagging, "a lagging socket is told to try again later")
	codes := c["refusalCodes"].(map[string]int)
	assert.ElementsMatch(t, []int{watch.CloseBadRequest, watch.CloseInternal, watch.CloseTooManyWatchers}, []int{codes["1"], codes["2"], codes["3"]})
}

// A socket that takes no message while its watcher falls MaxLag behind is
// closed 1013 once what it was sent before is written, and its watcher is
// gone: a slow browser never holds the object's memory.
func TestForwardWebSocket_LaggingSocketIsClosed(t *testing.T) {
	ns := newMemoryHost()
	id := ns.IDFromName("a")
	conn := newFakeConn()
	conn.gate = make(chan struct{})
	serveOn(t, t.Context(), ns, id, "key=k", conn)
	require.Eventually(t, func() bool { return watchers(t, ns, id) == 1 }, 5*time.Second, time.Millisecond)
	for i := range watch.MaxLag + 2 {
		put(t, ns, id, "k", []byte(strconv.Itoa(i)))
	}
	require.Equal(t, 0, watchers(t, ns, id), "dropped at once, while its socket is stuck")
	close(conn.gate)
	var got int
	for {
		select {
		case <-conn.out:
			got++
			continue
		case <-conn.closed:
		}
		break
	}
	got += len(conn.out)
	code, reason := conn.closedWith(t)
	assert.Equal(t, closeLagging, code)
	assert.Equal(t, watch.ReasonLagging, reason)
	assert.LessOrEqual(t, got, watch.MaxLag+1, "what was queued, and nothing after")
	assert.GreaterOrEqual(t, got, watch.MaxLag, "what was queued is written first")
}

// When the request's context ends the socket is closed 1001 and the watch
// with it; when the client goes, the watch ends too.
func TestForwardWebSocket_EndsWithTheRequestOrTheClient(t *testing.T) {
	ns := newMemoryHost()
	id := ns.IDFromName("a")
	ctx, cancel := context.WithCancel(t.Context())
	conn, done := serve(t, ctx, ns, id, "key=k")
	conn.next(t)
	require.Equal(t, 1, watchers(t, ns, id))
	cancel()
	code, reason := conn.closedWith(t)
	assert.Equal(t, closeGoingAway, code)
	assert.Equal(t, reasonGoingAway, reason)
	waitDone(t, done)
	assert.Equal(t, 0, ns.Objects())

	conn, done = serve(t, t.Context(), ns, id, "key=k")
	conn.next(t)
	conn.CloseNow() // the client's connection breaks
	waitDone(t, done)
	assert.Equal(t, 0, ns.Objects())
}

func TestCloseReason_CutsAtACharacter(t *testing.T) {
	assert.Equal(t, "short", closeReason("short"))
	long := strings.Repeat("é", 100) // 200 bytes
	got := closeReason(long)
	assert.Len(t, got, 122)
	assert.Equal(t, long[:122], got)
	assert.Len(t, closeReason(strings.Repeat("x", 200)), 123)
}

func TestQueryGet_AsURLSearchParams(t *testing.T) {
	q := "a=1&key=x+y%2Fz%zz&a=2&empty=&bare&%6B2=v"
	for _, c := range []struct {
		name, want string
		ok         bool
	}{
		{"a", "1", true}, {"key", "x y/z%zz", true}, {"empty", "", true}, {"bare", "", true}, {"k2", "v", true}, {"none", "", false},
	} {
		got, ok := queryGet(q, c.name)
		assert.Equal(t, c.ok, ok, c.name)
		assert.Equal(t, c.want, got, c.name)
	}
	path, query := splitURL("https://dokv/__dokv/watch?key=k#frag")
	assert.Equal(t, "/__dokv/watch", path)
	assert.Equal(t, "key=k", query)
}
