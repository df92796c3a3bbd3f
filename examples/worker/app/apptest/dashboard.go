package apptest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/examples/worker/app"
)

// dashboardTests are the dashboard's tests: its assets, the demo job, and
// watch tokens.
func dashboardTests() []test {
	return []test{
		{"TestDashboard_HeadersAndRevalidation", testDashboard_HeadersAndRevalidation},
		{"TestDemoJob_AdvancesStepByStepToCompletion", testDemoJob_AdvancesStepByStepToCompletion},
		{"TestWatchToken_RequiredForAWatch", testWatchToken_RequiredForAWatch},
		{"TestWatchToken_WithoutASecret", testWatchToken_WithoutASecret},
	}
}

func testDashboard_HeadersAndRevalidation(t *testing.T, newNamespace NewNamespace) {
	s := newTestServer(t, newNamespace)
	for path, contentType := range map[string]string{
		"/":              "text/html; charset=utf-8",
		"/dashboard.js":  "text/javascript; charset=utf-8",
		"/dashboard.css": "text/css; charset=utf-8",
	} {
		resp, body := s.get(path, "Accept", "text/html")
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Equal(t, contentType, resp.Header.Get("Content-Type"), path)
		assert.NotEmpty(t, body, path)
		assert.Equal(t, "no-cache", resp.Header.Get("Cache-Control"), path)
		assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), path)
		csp := resp.Header.Get("Content-Security-Policy")
		host := strings.TrimPrefix(s.srv.URL, "http://")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self' ws://" + host, "frame-ancestors 'none'"} {
			assert.Contains(t, csp, want, path)
		}
		assert.NotContains(t, csp, "unsafe-inline", path)

		etag := resp.Header.Get("ETag")
		require.NotEmpty(t, etag, path)
		resp, body = s.get(path, "Accept", "text/html", "If-None-Match", etag)
		assert.Equal(t, http.StatusNotModified, resp.StatusCode, path)
		assert.Empty(t, body, path)
		resp, _ = s.get(path, "Accept", "text/html", "If-None-Match", `"another"`)
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
	}
	resp, _ := s.get("/dashboard.png")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// The demo job as a client sees it (the app's demo.go): its flow ID, its
// tasks, and how much of a task one step moves.
const (
	demoFlowID = "demo"
	demoStep   = 0.2
)

var demoNodes = []string{"fetch", "scan", "resize", "store"}

// A demo job moves one step per POST /jobs/{id}/advance, task after task,
// each task's progress growing to 1, until the job is completed; then the
// route answers 409.
func testDemoJob_AdvancesStepByStepToCompletion(t *testing.T, newNamespace NewNamespace) {
	s := newTestServer(t, newNamespace)
	resp, body := s.do(http.MethodPost, "/jobs/demo", nil)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", body)
	job := decodeJob(t, body)
	require.Equal(t, demoFlowID, job.FlowID)
	require.Len(t, job.Tasks, len(demoNodes))

	last := make([]float64, len(demoNodes))
	steps := 0
	for {
		resp, body = s.do(http.MethodPost, "/jobs/"+job.ID+"/advance", nil)
		if resp.StatusCode == http.StatusConflict {
			break
		}
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		steps++
		require.Less(t, steps, 100, "the demo never ends")
		job = decodeJob(t, body)
		moved := 0
		for i, task := range job.Tasks {
			p := app.TaskProgress(task)
			require.GreaterOrEqual(t, p, last[i], "task %s went back", task.NodeID)
			if p > last[i] {
				moved++
				for _, before := range job.Tasks[:i] {
					assert.Equal(t, dokv.FlowJobTaskCompleted, before.Status, "tasks run in order")
				}
			}
			last[i] = p
		}
		assert.Equal(t, 1, moved, "one task moves per step")
	}
	assert.Equal(t, dokv.FlowJobCompleted, job.Status)
	assert.Equal(t, len(demoNodes)*5, steps, "five steps of %v per task", demoStep)
	for _, task := range job.Tasks {
		assert.Equal(t, dokv.FlowJobTaskCompleted, task.Status)
	}

	other := s.createJob("flow", "storage", "a")
	resp, body = s.do(http.MethodPost, "/jobs/"+other.ID+"/advance", nil)
	assert.Contains(t, requireError(t, resp, body, http.StatusConflict), "not a demo job")
	resp, body = s.do(http.MethodPost, "/jobs/no-such-job/advance", nil)
	requireError(t, resp, body, http.StatusNotFound)
}

// A watch needs a token from the record's watch-token route: without one,
// or with one for another record, it is 401 before the upgrade is handed
// on. What a handed-on watch answers depends on the namespace: see
// requireWatchHandedOn.
func testWatchToken_RequiredForAWatch(t *testing.T, newNamespace NewNamespace) {
	s := newTestServer(t, newNamespace, app.WithWatchTokenSecret(func() string { return strings.Repeat("s", 32) }))
	job := s.createJob("flow", "storage", "a")
	other := s.createJob("flow", "storage", "b")
	token := func(path string) string {
		resp, body := s.do(http.MethodPost, path, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		var out struct{ Token string }
		require.NoError(t, json.Unmarshal(body, &out))
		require.NotEmpty(t, out.Token)
		return out.Token
	}
	jobToken := token("/jobs/" + job.ID + "/watch-token")
	uploadToken := token("/uploads/some-upload/watch-token")
	watch := s.watch
	assert.Equal(t, http.StatusUnauthorized, watch("/jobs/"+job.ID+"/watch"))
	assert.Equal(t, http.StatusUnauthorized, watch("/jobs/"+other.ID+"/watch?token="+jobToken), "another job's token")
	assert.Equal(t, http.StatusUnauthorized, watch("/uploads/"+job.ID+"/watch?token="+jobToken), "a job token for an upload")
	requireWatchHandedOn(t, s.ns, watch("/jobs/"+job.ID+"/watch?token="+jobToken))
	requireWatchHandedOn(t, s.ns, watch("/uploads/some-upload/watch?token="+uploadToken))

	resp, body := s.do(http.MethodPost, "/files/x/watch-token", nil)
	requireError(t, resp, body, http.StatusNotFound)
}

// Without a secret, the app signs with a random one of its own: tokens
// still work within the instance.
func testWatchToken_WithoutASecret(t *testing.T, newNamespace NewNamespace) {
	s := newTestServer(t, newNamespace)
	job := s.createJob("flow", "storage", "a")
	resp, body := s.do(http.MethodPost, "/jobs/"+job.ID+"/watch-token", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	var out struct{ Token string }
	require.NoError(t, json.Unmarshal(body, &out))
	requireWatchHandedOn(t, s.ns, s.watch("/jobs/"+job.ID+"/watch?token="+out.Token))
}

// watch opens the watch at path as a browser does, and returns the
// handshake's status: 101 when the watch opened (it is closed again at
// once), or the status of the refusal.
func (s *testServer) watch(path string) int {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.t.Context(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.srv.URL, "http")+path, &websocket.DialOptions{HTTPClient: s.srv.Client()})
	if err == nil {
		c.CloseNow()
	}
	require.NotNil(s.t, resp, "%s: %v", path, err)
	return resp.StatusCode
}

// requireWatchHandedOn checks the status of a watch whose token the app
// accepted. A namespace whose objects can take a browser's WebSocket (a
// driver.WebSocketForwarder: the memory and local namespaces under
// workerhttp.FromHandler, as here) opens the watch: 101. One that cannot
// answers 501, as Store.ServeWatch says.
func requireWatchHandedOn(t *testing.T, ns dokv.Namespace, status int) {
	t.Helper()
	if _, ok := ns.(driver.WebSocketForwarder); ok {
		assert.Equal(t, http.StatusSwitchingProtocols, status, "the watch did not open")
		return
	}
	assert.Equal(t, http.StatusNotImplemented, status)
}
