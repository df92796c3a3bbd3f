package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/internal/watch"
	"github.com/dokv/dokv/internal/workerdtest"
	"github.com/dokv/dokv/internal/workerfiles"
)

// watchMessage is one JSON message of a WebSocket watch, as a browser
// receives it.
type watchMessage struct {
	Type    string          `json:"type"`
	Key     string          `json:"key"`
	At      uint64          `json:"at"`
	From    string          `json:"from"`
	Version uint64          `json:"version"`
	Value   json.RawMessage `json:"value"`
	Event   json.RawMessage `json:"event"`
}

// dialWatch opens a WebSocket to path on w.
func dialWatch(t *testing.T, w *workerdtest.Worker, path string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(w.URL, "http")+path, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	t.Cleanup(func() { conn.CloseNow() })
	return conn
}

// readWatch reads the next message of a watch, failing after 10 s.
func readWatch(t *testing.T, conn *websocket.Conn) watchMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	typ, data, err := conn.Read(ctx)
	require.NoError(t, err)
	require.Equal(t, websocket.MessageText, typ, "each message is one JSON text message")
	var m watchMessage
	require.NoError(t, json.Unmarshal(data, &m), "%s", data)
	return m
}

// goEvent is one event of the glue Worker's /events (a Go watcher inside
// the Worker).
type goEvent struct {
	Kind    string          `json:"kind"`
	At      uint64          `json:"at"`
	Version uint64          `json:"version"`
	Status  string          `json:"status"`
	Event   json.RawMessage `json:"event"`
}

func goEvents(w *workerdtest.Worker, query string) ([]goEvent, error) {
	resp, err := workerdtest.Client.Get(w.URL + "/events?" + query)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /events: %d %s", resp.StatusCode, data)
	}
	var events []goEvent
	return events, json.Unmarshal(data, &events)
}

// emit() from TypeScript, on the object the npm client names after the
// key, reaches a browser's WebSocket and a Go watcher inside the Worker,
// in order with the record's changes.
func TestWatch_TypeScriptEmitReachesGoAndBrowserWatchers(t *testing.T) {
	w := interop.start(t)
	key := fmt.Sprintf("emit-%d", time.Now().UnixNano())
	browser := dialWatch(t, w, "/watch?kind=job&key="+key)
	start := readWatch(t, browser)
	assert.Equal(t, "start", start.Type)
	assert.Equal(t, "snapshot", start.From)
	assert.Zero(t, start.Version, "the job does not exist yet")

	// The Go watcher registers while its request runs: emit until it has
	// heard one event.
	got := make(chan []goEvent, 1)
	failed := make(chan error, 1)
	go func() {
		events, err := goEvents(w, "n=1&key="+key)
		if err != nil {
			failed <- err
			return
		}
		got <- events
	}()
	emitted := 0
	var heard []goEvent
	for heard == nil {
		require.Empty(t, tsCall(t, w, "emit", key, map[string]any{"type": "progress", "seq": emitted}).Error)
		emitted++
		select {
		case heard = <-got:
		case err := <-failed:
			t.Fatal(err)
		case <-time.After(100 * time.Millisecond):
		}
		require.Less(t, emitted, 100, "the Go watcher never heard an event")
	}
	require.Len(t, heard, 1)
	assert.Equal(t, "emitted", heard[0].Kind)
	assert.Contains(t, string(heard[0].Event), `"type":"progress"`)

	for i := range emitted {
		m := readWatch(t, browser)
		assert.Equal(t, "event", m.Type)
		assert.Equal(t, key, m.Key, "an event to the whole object carries the key the browser watched")
		assert.JSONEq(t, fmt.Sprintf(`{"type":"progress","seq":%d}`, i), string(m.Event), "events arrive in order")
	}
	require.Empty(t, tsCall(t, w, "setFlowJob", key, tsJob(key, "$date:2026-12-01T10:00:00.000Z")).Error)
	require.Empty(t, tsCall(t, w, "emit", key, map[string]any{"type": "after-set"}).Error)
	set := readWatch(t, browser)
	assert.Equal(t, "set", set.Type)
	assert.Contains(t, string(set.Value), `"status":"running"`)
	assert.Positive(t, set.Version)
	ev := readWatch(t, browser)
	assert.Equal(t, "event", ev.Type)
	assert.Equal(t, set.At, ev.At, "an event follows the change before it")
}

// A Go watcher inside the Worker resumes after a position and gets the
// changes it missed from the object's log (which starts with the object's
// first watch, here a browser's).
func TestWatch_GoWatcherOnWorkersResumes(t *testing.T) {
	w := interop.start(t)
	key := fmt.Sprintf("resume-%d", time.Now().UnixNano())
	job := dokv.NewFlowJob("flow", "storage")
	goPutJob(t, w, key, job)
	_, v1, _ := goJob(t, w, key)
	browser := dialWatch(t, w, "/watch?key="+key)
	require.Equal(t, v1, readWatch(t, browser).Version)
	for _, s := range []dokv.FlowJobStatus{dokv.FlowJobRunning, dokv.FlowJobCompleted} {
		job.Status = s
		goPutJob(t, w, key, job)
	}
	events, err := goEvents(w, fmt.Sprintf("n=2&key=%s&after=%d", key, v1))
	require.NoError(t, err)
	require.Len(t, events, 2)
	assert.Equal(t, "running", events[0].Status)
	assert.Equal(t, "completed", events[1].Status)
	assert.Greater(t, events[1].Version, events[0].Version)
	assert.Greater(t, events[0].Version, v1)
}

// A watcher of one record of an object hears nothing of another record of
// the same object (here: the flow job beside an upload, in the npm
// client's layout).
func TestWatch_AnotherRecordOfTheObjectIsNotHeard(t *testing.T) {
	w := interop.start(t)
	key := fmt.Sprintf("prefix-%d", time.Now().UnixNano())
	uploads := dialWatch(t, w, "/watch?kind=upload&key="+key)
	assert.Equal(t, "start", readWatch(t, uploads).Type)
	require.Empty(t, tsCall(t, w, "setFlowJob", key, tsJob(key, "2026-12-01T10:00:00Z")).Error)
	require.Empty(t, tsCall(t, w, "deleteFlowJob", key, nil).Error)
	require.Empty(t, tsCall(t, w, "setUploadFile", key, map[string]any{"id": key, "offset": 7}).Error)
	m := readWatch(t, uploads)
	assert.Equal(t, "set", m.Type, "the first message after the start is the upload's change")
	assert.Contains(t, string(m.Value), `"offset":7`)
}

// A watch refuses what it cannot serve with a clear answer, and closes on
// a client that talks too much.
func TestWatch_BadRequestsAndLimits(t *testing.T) {
	w := interop.start(t)
	resp, err := workerdtest.Client.Get(w.URL + "/watch?key=k")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUpgradeRequired, resp.StatusCode, "a plain GET is not a watch")

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, resp, err = websocket.Dial(ctx, "ws"+strings.TrimPrefix(w.URL, "http")+"/watch?key=k&after=x", nil)
	require.Error(t, err)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

	key := fmt.Sprintf("chatty-%d", time.Now().UnixNano())
	conn := dialWatch(t, w, "/watch?key="+key)
	readWatch(t, conn)
	require.NoError(t, conn.Write(ctx, websocket.MessageText, []byte("hello")))
	require.Empty(t, tsCall(t, w, "setFlowJob", key, tsJob(key, "2026-12-01T10:00:00Z")).Error)
	assert.Equal(t, "set", readWatch(t, conn).Type, "a small message is ignored: the watch goes on")
	require.NoError(t, conn.Write(ctx, websocket.MessageText, []byte(strings.Repeat("x", 4096))))
	_, _, err = conn.Read(ctx)
	assert.Equal(t, websocket.StatusMessageTooBig, websocket.CloseStatus(err), "%v", err)
}

// A watch position has one spelling, Go's (watch.ParsePosition): ServeWatch
// answers 400 to a padded or out-of-range position before the upgrade, and
// a canonical one is served.
func TestWatch_PositionHasOneSpelling(t *testing.T) {
	w := interop.start(t)
	key := fmt.Sprintf("position-%d", time.Now().UnixNano())
	for _, after := range []string{"007", "00", "-1", "+1", "1.0", "1e3", "9007199254740992", "18446744073709551616"} {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(w.URL, "http")+"/watch?key="+key+"&after="+url.QueryEscape(after), nil)
		cancel()
		require.Error(t, err, after)
		require.NotNil(t, resp, after)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "after=%s", after)
	}
	for _, after := range []string{"0", "7", "9007199254740991"} {
		conn := dialWatch(t, w, "/watch?key="+key+"&after="+after)
		assert.Equal(t, "start", readWatch(t, conn).Type, "after=%s", after)
		conn.CloseNow()
	}
}

// A watcher's keep-alive, the text "ping", is answered "pong" by the
// runtime without reaching the object: however many are sent, they never
// count among the messages that close a chatty client, and the watch goes
// on. Other messages count, in UTF-8 bytes, not UTF-16 units.
func TestWatch_ClientMessagesNeverKeepTheObjectAwake(t *testing.T) {
	w := interop.start(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	key := fmt.Sprintf("pings-%d", time.Now().UnixNano())
	conn := dialWatch(t, w, "/watch?key="+key)
	readWatch(t, conn)
	for range 3 * watch.MaxClientMessages {
		require.NoError(t, conn.Write(ctx, websocket.MessageText, []byte("ping")))
		typ, data, err := conn.Read(ctx)
		require.NoError(t, err, "a ping does not close the watch")
		assert.Equal(t, websocket.MessageText, typ)
		require.Equal(t, "pong", string(data))
	}
	require.Empty(t, tsCall(t, w, "setFlowJob", key, tsJob(key, "2026-12-01T10:00:00Z")).Error)
	assert.Equal(t, "set", readWatch(t, conn).Type, "the watch goes on after the pings")

	// Messages other than a ping are counted: the last one allowed closes
	// the watch.
	chatty := dialWatch(t, w, "/watch?key="+key)
	readWatch(t, chatty)
	for range watch.MaxClientMessages {
		require.NoError(t, chatty.Write(ctx, websocket.MessageText, []byte("hello")))
	}
	_, _, err := chatty.Read(ctx)
	assert.Equal(t, websocket.StatusPolicyViolation, websocket.CloseStatus(err), "%v", err)

	// 400 euro signs are 400 UTF-16 units but 1,200 UTF-8 bytes: over the
	// bound of 1,024 bytes.
	wide := dialWatch(t, w, "/watch?key="+key)
	readWatch(t, wide)
	require.NoError(t, wide.Write(ctx, websocket.MessageText, []byte(strings.Repeat("€", 400))))
	_, _, err = wide.Read(ctx)
	assert.Equal(t, websocket.StatusMessageTooBig, websocket.CloseStatus(err), "%v", err)
}

// A Go watcher inside a Worker that stops reading is dropped with
// ErrLagging once it is dokv.MaxWatchLag messages behind (plus what the
// runtime buffers between the object and the Worker), while the writes go
// on without waiting for it: the in-memory bound, on workerd.
func TestWatch_LaggingGoWatcherIsDroppedOnWorkers(t *testing.T) {
	bin := workerdtest.Require(t)
	lw, err := workerdtest.Build(bin, "./internal/e2e/lagworker", workerfiles.Config{
		Name: "dokv-lag", Bindings: []string{"KV"}, UniqueKey: "dokv-e2e-lag",
	})
	require.NoError(t, err)
	t.Cleanup(lw.Remove)
	require.NoError(t, lw.Start())

	const writes = 4 * dokv.MaxWatchLag
	key := fmt.Sprintf("lag-%d", time.Now().UnixNano())
	resp, err := workerdtest.Client.Get(fmt.Sprintf("%s/lag?key=%s&writes=%d&size=4096", lw.URL, key, writes))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s\n%s", body, lw.Log())
	var out struct {
		Writes      int    `json:"writes"`
		WriteMillis int64  `json:"writeMillis"`
		Heard       int    `json:"heard"`
		Lagging     bool   `json:"lagging"`
		Error       string `json:"error"`
	}
	require.NoError(t, json.Unmarshal(body, &out), "%s", body)
	t.Logf("%d writes in %d ms; the watcher heard %d changes, then: %s", out.Writes, out.WriteMillis, out.Heard, out.Error)
	assert.Equal(t, writes, out.Writes, "every write went through while the watcher did not read")
	assert.True(t, out.Lagging, "the watch ends with ErrLagging: %s", out.Error)
	assert.Less(t, out.Heard, writes, "the watcher was dropped before it heard every change")
}

// An object serves MaxWatchers watchers; the next WebSocket is accepted
// and closed at once with code 1013 (try again later), and one more fits
// once a watcher leaves.
func TestWatch_TooManyWatchersAreClosedWithACode(t *testing.T) {
	w := interop.start(t)
	key := fmt.Sprintf("crowd-%d", time.Now().UnixNano())
	conns := make([]*websocket.Conn, dokv.MaxWatchers)
	for i := range conns {
		conns[i] = dialWatch(t, w, "/watch?key="+key)
		require.Equal(t, "start", readWatch(t, conns[i]).Type)
	}
	extra := dialWatch(t, w, "/watch?key="+key)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, _, err := extra.Read(ctx)
	assert.Equal(t, websocket.StatusTryAgainLater, websocket.CloseStatus(err), "%v", err)

	require.NoError(t, conns[0].Close(websocket.StatusNormalClosure, ""))
	require.Eventually(t, func() bool {
		c := dialWatch(t, w, "/watch?key="+key)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		_, _, err := c.Read(ctx)
		return err == nil
	}, 10*time.Second, 100*time.Millisecond, "a place freed by a watcher that left is taken")
}

// A browser's watch survives its object's eviction: workerd evicts an
// object that idles for about ten seconds with only hibernatable sockets
// open, and the socket still receives the next change. That the object was
// evicted shows in its change log, kept in memory: after the idle spell, a
// resume from before it resynchronises instead.
func TestWatch_SocketSurvivesTheObjectsEviction(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 15 s for the object's eviction")
	}
	w := interop.start(t)
	key := fmt.Sprintf("hibernate-%d", time.Now().UnixNano())
	require.Empty(t, tsCall(t, w, "setFlowJob", key, tsJob(key, "2026-12-01T10:00:00Z")).Error)
	conn := dialWatch(t, w, "/watch?key="+key)
	start := readWatch(t, conn)

	require.Empty(t, tsCall(t, w, "setFlowJob", key, tsJob(key, "2026-12-01T11:00:00Z")).Error)
	before := readWatch(t, conn)
	require.Equal(t, "set", before.Type)
	probe := dialWatch(t, w, fmt.Sprintf("/watch?key=%s&after=%d", key, start.At))
	require.Equal(t, "resume", readWatch(t, probe).From, "while the object is in memory, its log covers the change")
	probe.CloseNow()

	time.Sleep(15 * time.Second) // nothing runs: the object may hibernate
	require.Empty(t, tsCall(t, w, "setFlowJob", key, tsJob(key, "2026-12-01T12:00:00Z")).Error)
	after := readWatch(t, conn)
	assert.Equal(t, "set", after.Type, "the socket outlived the object's eviction")
	assert.Equal(t, key, after.Key, "the socket's attachment kept the key it watched")
	assert.Contains(t, string(after.Value), "12:00:00")
	probe = dialWatch(t, w, fmt.Sprintf("/watch?key=%s&after=%d", key, start.At))
	assert.Equal(t, "resync", readWatch(t, probe).From, "the object was evicted: its new log starts after the change")
}

// A browser's messages carry the key it watched, not the key the object
// stores (under ObjectNamedByKey, the store's encoded prefix alone), for
// the longest keys and keys that JSON must escape too, in every kind of
// message: start, set, delete and event.
func TestWatch_BrowserMessagesCarryTheWatchedKey(t *testing.T) {
	w := interop.start(t)
	stamp := fmt.Sprint(time.Now().UnixNano())
	for name, key := range map[string]string{
		"short":   "watched-" + stamp,
		"escaped": `a "quoted" <key> é ` + stamp,
		"longest": stamp + strings.Repeat("é", (2048-len(stamp))/2),
		// Each < is \u003c in JSON: the socket's attachment holds six
		// times the key's bytes.
		"longest escaped": stamp + strings.Repeat("<", 2048-len(stamp)),
	} {
		t.Run(name, func(t *testing.T) {
			conn := dialWatch(t, w, "/watch?kind=job&key="+url.QueryEscape(key))
			start := readWatch(t, conn)
			require.Equal(t, "start", start.Type)
			assert.Equal(t, key, start.Key)
			q := url.QueryEscape(key)
			require.Empty(t, tsCall(t, w, "setFlowJob", q, tsJob(key, "2026-12-01T10:00:00Z")).Error)
			require.Empty(t, tsCall(t, w, "emit", q, map[string]any{"type": "progress"}).Error)
			require.Empty(t, tsCall(t, w, "deleteFlowJob", q, nil).Error)
			for _, want := range []string{"set", "event", "delete"} {
				m := readWatch(t, conn)
				require.Equal(t, want, m.Type)
				assert.Equal(t, key, m.Key, "the %s message", want)
			}
		})
	}
}
