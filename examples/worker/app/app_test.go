package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/worker/workerhttp"
)

// testServer serves the application over a fresh in-memory namespace.
type testServer struct {
	t   *testing.T
	srv *httptest.Server
}

func newTestServer(t *testing.T, opts ...Option) *testServer {
	t.Helper()
	return newTestServerOn(t, dokv.NewMemoryNamespace(), opts...)
}

func newTestServerOn(t *testing.T, ns dokv.Namespace, opts ...Option) *testServer {
	t.Helper()
	h, err := New(ns, opts...)
	require.NoError(t, err)
	srv := httptest.NewServer(workerhttp.FromHandler(h))
	t.Cleanup(srv.Close)
	return &testServer{t: t, srv: srv}
}

// do sends a request for path (already percent-encoded) and returns the
// response with its whole body.
func (s *testServer) do(method, path string, body []byte) (*http.Response, []byte) {
	s.t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, s.srv.URL+path, r)
	require.NoError(s.t, err)
	resp, err := s.srv.Client().Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return resp, data
}

// doJSON sends v as a JSON body.
func (s *testServer) doJSON(method, path string, v any) (*http.Response, []byte) {
	s.t.Helper()
	body, err := json.Marshal(v)
	require.NoError(s.t, err)
	return s.do(method, path, body)
}

// requireError checks that a response is a JSON error with the status, and
// returns its message.
func requireError(t *testing.T, resp *http.Response, body []byte, status int) string {
	t.Helper()
	require.Equal(t, status, resp.StatusCode, "body: %s", body)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var e struct {
		Error string `json:"error"`
	}
	require.NoError(t, json.Unmarshal(body, &e), "body: %s", body)
	require.NotEmpty(t, e.Error)
	return e.Error
}

// keyPath percent-encodes each slash-separated segment of key.
func keyPath(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

var patterns = []string{"single", "perkey", "sharded"}

func TestBytesExactRoundTrip(t *testing.T) {
	s := newTestServer(t)
	binary := []byte{0, 0xFF, 'a', 0, 0xFE, 0x80, '\n', 0xFF, 0}
	values := map[string][]byte{
		"plain":                 []byte("hello"),
		"nested/path/to/key":    binary,
		"日本語/ключ/🔑":            []byte("unicode key"),
		"empty":                 {},
		"trailing/":             []byte("slash at the end"),
		"with space and ?#&=+%": bytes.Repeat([]byte{0xFF, 0}, 1000),
	}
	for _, p := range patterns {
		t.Run(p, func(t *testing.T) {
			for key, value := range values {
				path := "/" + p + "/" + keyPath(key)
				resp, body := s.do(http.MethodPut, path, value)
				require.Equal(t, http.StatusNoContent, resp.StatusCode, "PUT %s: %s", path, body)
				assert.Empty(t, body)
			}
			for key, value := range values {
				path := "/" + p + "/" + keyPath(key)
				resp, body := s.do(http.MethodGet, path, nil)
				require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: %s", path, body)
				assert.Equal(t, "application/octet-stream", resp.Header.Get("Content-Type"))
				assert.Equal(t, fmt.Sprint(len(value)), resp.Header.Get("Content-Length"))
				assert.True(t, bytes.Equal(value, body), "GET %s: got %x, want %x", path, body, value)
			}

			// Overwrite, then delete.
			path := "/" + p + "/" + keyPath("nested/path/to/key")
			resp, _ := s.do(http.MethodPut, path, []byte("second"))
			require.Equal(t, http.StatusNoContent, resp.StatusCode)
			resp, body := s.do(http.MethodGet, path, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, []byte("second"), body)

			resp, body = s.do(http.MethodDelete, path, nil)
			require.Equal(t, http.StatusNoContent, resp.StatusCode)
			assert.Empty(t, body)
			resp, body = s.do(http.MethodGet, path, nil)
			requireError(t, resp, body, http.StatusNotFound)

			// Deleting a missing key is not an error.
			resp, _ = s.do(http.MethodDelete, path, nil)
			assert.Equal(t, http.StatusNoContent, resp.StatusCode)
			resp, _ = s.do(http.MethodDelete, "/"+p+"/never-written", nil)
			assert.Equal(t, http.StatusNoContent, resp.StatusCode)

			// The other keys are untouched.
			resp, body = s.do(http.MethodGet, "/"+p+"/plain", nil)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, []byte("hello"), body)
		})
	}
}

func TestBytesHeadHasNoBody(t *testing.T) {
	s := newTestServer(t)
	resp, _ := s.do(http.MethodPut, "/single/k", []byte("12345"))
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp, body := s.do(http.MethodHead, "/single/k", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "5", resp.Header.Get("Content-Length"))
	assert.Empty(t, body)
}

func TestBytesEncodedSlashesAddressTheSameKey(t *testing.T) {
	s := newTestServer(t)
	resp, _ := s.do(http.MethodPut, "/single/a/b", []byte("v"))
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp, body := s.do(http.MethodGet, "/single/a%2Fb", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, []byte("v"), body)

	// Keys with empty or dot segments need encoded slashes.
	resp, _ = s.do(http.MethodPut, "/single/x%2F%2F..%2Fy", []byte("odd"))
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp, body = s.do(http.MethodGet, "/single/?prefix=x", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var list keyList
	require.NoError(t, json.Unmarshal(body, &list))
	assert.Equal(t, []string{"x//../y"}, list.Keys)
}

func TestBytesPatternsAreIsolated(t *testing.T) {
	s := newTestServer(t)
	for _, p := range patterns {
		resp, _ := s.do(http.MethodPut, "/"+p+"/shared", []byte("value of "+p))
		require.Equal(t, http.StatusNoContent, resp.StatusCode)
		resp, _ = s.do(http.MethodPut, "/"+p+"/only-"+p, []byte(p))
		require.Equal(t, http.StatusNoContent, resp.StatusCode)
	}
	for _, p := range patterns {
		resp, body := s.do(http.MethodGet, "/"+p+"/shared", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "value of "+p, string(body))
		for _, other := range patterns {
			resp, body := s.do(http.MethodGet, "/"+p+"/only-"+other, nil)
			if other == p {
				assert.Equal(t, http.StatusOK, resp.StatusCode)
			} else {
				requireError(t, resp, body, http.StatusNotFound)
			}
		}
	}
	// A delete in one pattern leaves the others alone.
	resp, _ := s.do(http.MethodDelete, "/sharded/shared", nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	for _, p := range []string{"single", "perkey"} {
		resp, body := s.do(http.MethodGet, "/"+p+"/shared", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "value of "+p, string(body))
	}
	// Listings hold their own keys only.
	for _, p := range []string{"single", "sharded"} {
		resp, body := s.do(http.MethodGet, "/"+p+"/", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		var list keyList
		require.NoError(t, json.Unmarshal(body, &list))
		want := []string{"only-" + p}
		if p == "single" {
			want = append(want, "shared")
		}
		assert.Equal(t, want, list.Keys)
	}
}

func TestBytesTooLarge(t *testing.T) {
	s := newTestServer(t)
	for _, p := range patterns {
		t.Run(p, func(t *testing.T) {
			// Over the body limit.
			resp, body := s.do(http.MethodPut, "/"+p+"/big", make([]byte, dokv.MaxEntryBytes+1))
			requireError(t, resp, body, http.StatusRequestEntityTooLarge)
			// Within the body limit, but key and value exceed an entry.
			resp, body = s.do(http.MethodPut, "/"+p+"/big", make([]byte, dokv.MaxEntryBytes))
			requireError(t, resp, body, http.StatusRequestEntityTooLarge)
			// Far over it: refused without reading it all.
			resp, body = s.do(http.MethodPut, "/"+p+"/big", make([]byte, 3*dokv.MaxEntryBytes))
			requireError(t, resp, body, http.StatusRequestEntityTooLarge)
			// Nothing was stored.
			resp, body = s.do(http.MethodGet, "/"+p+"/big", nil)
			requireError(t, resp, body, http.StatusNotFound)

			// Just under the limit is fine, and comes back whole.
			value := bytes.Repeat([]byte{0xFF, 0, 7}, (dokv.MaxEntryBytes-1024)/3)
			resp, _ = s.do(http.MethodPut, "/"+p+"/big", value)
			require.Equal(t, http.StatusNoContent, resp.StatusCode)
			resp, body = s.do(http.MethodGet, "/"+p+"/big", nil)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.True(t, bytes.Equal(value, body))
		})
	}
}

func TestBytesInvalidKey(t *testing.T) {
	s := newTestServer(t)
	long := "/" + strings.Repeat("k", dokv.MaxKeyBytes+1)
	for _, p := range patterns {
		for _, key := range []string{"%FF", "a/%C3%28", long} {
			path := "/" + p + "/" + key
			for _, method := range []string{http.MethodPut, http.MethodGet, http.MethodDelete} {
				resp, body := s.do(method, path, []byte("v"))
				msg := requireError(t, resp, body, http.StatusBadRequest)
				assert.Contains(t, msg, "invalid key", "%s %s", method, path)
			}
		}
		// The empty key cannot be written or deleted.
		for _, method := range []string{http.MethodPut, http.MethodDelete} {
			resp, body := s.do(method, "/"+p+"/", []byte("v"))
			requireError(t, resp, body, http.StatusBadRequest)
		}
	}
	// A key of the maximum length is fine.
	resp, body := s.do(http.MethodPut, "/single/"+strings.Repeat("k", dokv.MaxKeyBytes), []byte("v"))
	require.Equal(t, http.StatusNoContent, resp.StatusCode, "%s", body)
}

func TestBytesList(t *testing.T) {
	s := newTestServer(t, WithShards(3))
	keys := []string{"a", "b/1", "b/2", "b/3", "c", "é"}
	for _, p := range patterns {
		for _, k := range keys {
			resp, _ := s.do(http.MethodPut, "/"+p+"/"+keyPath(k), []byte(k))
			require.Equal(t, http.StatusNoContent, resp.StatusCode)
		}
	}
	list := func(path string) keyList {
		t.Helper()
		resp, body := s.do(http.MethodGet, path, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		var l keyList
		require.NoError(t, json.Unmarshal(body, &l))
		return l
	}
	for _, p := range []string{"single", "sharded"} {
		t.Run(p, func(t *testing.T) {
			assert.Equal(t, keyList{Keys: keys}, list("/"+p+"/"))
			assert.Equal(t, keyList{Keys: []string{"b/1", "b/2", "b/3"}}, list("/"+p+"/?prefix=b%2F"))
			assert.Equal(t, keyList{Keys: []string{"b/3"}}, list("/"+p+"/?prefix=b/&after=b/2"))
			assert.Equal(t, keyList{Keys: []string{}}, list("/"+p+"/?prefix=zzz"))

			// Paging with limit and next visits every key once, in order.
			var got []string
			after := ""
			for range len(keys) + 1 {
				page := list("/" + p + "/?limit=4&after=" + url.QueryEscape(after))
				got = append(got, page.Keys...)
				if page.Next == "" {
					break
				}
				assert.Equal(t, page.Keys[len(page.Keys)-1], page.Next)
				after = page.Next
			}
			assert.Equal(t, keys, got)

			for _, bad := range []string{"0", "-1", "1001", "x"} {
				resp, body := s.do(http.MethodGet, "/"+p+"/?limit="+bad, nil)
				requireError(t, resp, body, http.StatusBadRequest)
			}
			resp, body := s.do(http.MethodGet, "/"+p+"/?prefix=%FF", nil)
			requireError(t, resp, body, http.StatusBadRequest)
		})
	}
	resp, body := s.do(http.MethodGet, "/perkey/", nil)
	msg := requireError(t, resp, body, http.StatusNotImplemented)
	assert.Contains(t, msg, "unsupported")
}

func TestRoutingErrorsAreJSON(t *testing.T) {
	s := newTestServer(t)
	resp, body := s.do(http.MethodPost, "/single/k", []byte("v"))
	requireError(t, resp, body, http.StatusMethodNotAllowed)
	assert.Equal(t, "DELETE, GET, HEAD, PUT", resp.Header.Get("Allow"))

	resp, body = s.do(http.MethodDelete, "/jobs", nil)
	requireError(t, resp, body, http.StatusMethodNotAllowed)
	assert.Equal(t, "GET, HEAD, POST", resp.Header.Get("Allow"))

	resp, body = s.do(http.MethodPost, "/", nil)
	requireError(t, resp, body, http.StatusMethodNotAllowed)

	resp, body = s.do(http.MethodGet, "/nothing/here", nil)
	requireError(t, resp, body, http.StatusNotFound)
}

func TestRoot(t *testing.T) {
	resp, body := newTestServer(t).do(http.MethodGet, "/", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, routesText, string(body))

	greeting := "Hello from the test"
	resp, body = newTestServer(t, WithGreeting(func() string { return greeting })).do(http.MethodGet, "/", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, greeting+"\n\n"+routesText, string(body))

	resp, body = newTestServer(t, WithGreeting(func() string { return "" })).do(http.MethodGet, "/", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, routesText, string(body))
}

func TestPanicBecomes500(t *testing.T) {
	s := newTestServer(t, WithGreeting(func() string { panic("greeting broke") }))
	resp, body := s.do(http.MethodGet, "/", nil)
	msg := requireError(t, resp, body, http.StatusInternalServerError)
	assert.Equal(t, internalMessage, msg)
	assert.NotContains(t, string(body), "greeting broke")
	// The server goes on serving.
	resp, _ = s.do(http.MethodPut, "/single/k", []byte("v"))
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
}

func TestCanceledRequestIs503(t *testing.T) {
	h, err := New(dokv.NewMemoryNamespace())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, target := range []string{"/single/k", "/jobs/some-id", "/jobs"} {
		rec := httptest.NewRecorder()
		workerhttp.FromHandler(h).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil).WithContext(ctx))
		msg := requireError(t, rec.Result(), rec.Body.Bytes(), http.StatusServiceUnavailable)
		assert.Contains(t, msg, "temporarily unavailable")
	}
}

func TestNewRejectsInvalidArguments(t *testing.T) {
	_, err := New(nil)
	assert.ErrorIs(t, err, dokv.ErrInvalidArgument)
	for _, n := range []int{0, -1, dokv.MaxShards + 1} {
		_, err = New(dokv.NewMemoryNamespace(), WithShards(n))
		assert.ErrorIs(t, err, dokv.ErrInvalidArgument, "shards %d", n)
	}
	for _, d := range []time.Duration{0, -time.Second, dokv.MaxTTL + 1} {
		_, err = New(dokv.NewMemoryNamespace(), WithJobRetention(d))
		assert.ErrorIs(t, err, dokv.ErrInvalidArgument, "retention %v", d)
	}
	_, err = New(dokv.NewMemoryNamespace(), WithShards(1), nil)
	assert.NoError(t, err)
}

func TestStatusOf(t *testing.T) {
	wrapped := func(sentinel error) error {
		return fmt.Errorf("context: %w", &dokv.Error{Op: "get", Key: "k", Err: sentinel})
	}
	for _, tc := range []struct {
		err    error
		status int
	}{
		{wrapped(dokv.ErrNotFound), http.StatusNotFound},
		{wrapped(dokv.ErrConflict), http.StatusConflict},
		{wrapped(dokv.ErrInvalidKey), http.StatusBadRequest},
		{wrapped(dokv.ErrInvalidArgument), http.StatusBadRequest},
		{badRequest("bad JSON"), http.StatusBadRequest},
		{wrapped(dokv.ErrValueTooLarge), http.StatusRequestEntityTooLarge},
		{&http.MaxBytesError{Limit: 1}, http.StatusRequestEntityTooLarge},
		{wrapped(dokv.ErrUnsupported), http.StatusNotImplemented},
		{context.Canceled, http.StatusServiceUnavailable},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), http.StatusServiceUnavailable},
		{fmt.Errorf("call: %w", dokv.ErrOverloaded), http.StatusServiceUnavailable},
		{fmt.Errorf("call: %w", dokv.ErrUnavailable), http.StatusServiceUnavailable},
		{fmt.Errorf("call: %w", dokv.ErrUnknownOutcome), http.StatusInternalServerError},
		{wrapped(dokv.ErrObject), http.StatusInternalServerError},
		{wrapped(dokv.ErrDecode), http.StatusInternalServerError},
		{wrapped(dokv.ErrProtocol), http.StatusInternalServerError},
		{errors.New("boom"), http.StatusInternalServerError},
	} {
		assert.Equal(t, tc.status, statusOf(tc.err), "%v", tc.err)
	}

	rec := httptest.NewRecorder()
	writeError(rec, httptest.NewRequest(http.MethodGet, "/", nil), wrapped(dokv.ErrObject))
	msg := requireError(t, rec.Result(), rec.Body.Bytes(), http.StatusInternalServerError)
	assert.Equal(t, internalMessage, msg)
}

// Flow jobs.

func (s *testServer) createJob(flowID, storageID string, nodes ...string) dokv.FlowJob {
	s.t.Helper()
	resp, body := s.doJSON(http.MethodPost, "/jobs", map[string]any{"flowId": flowID, "storageId": storageID, "nodes": nodes})
	require.Equal(s.t, http.StatusCreated, resp.StatusCode, "%s", body)
	job := decodeJob(s.t, body)
	require.Equal(s.t, "/jobs/"+job.ID, resp.Header.Get("Location"))
	return job
}

func (s *testServer) getJob(id string) dokv.FlowJob {
	s.t.Helper()
	resp, body := s.do(http.MethodGet, "/jobs/"+id, nil)
	require.Equal(s.t, http.StatusOK, resp.StatusCode, "%s", body)
	return decodeJob(s.t, body)
}

func (s *testServer) patchTask(id, node string, patch map[string]any) dokv.FlowJob {
	s.t.Helper()
	resp, body := s.doJSON(http.MethodPatch, "/jobs/"+id+"/tasks/"+node, patch)
	require.Equal(s.t, http.StatusOK, resp.StatusCode, "%s", body)
	return decodeJob(s.t, body)
}

func decodeJob(t *testing.T, body []byte) dokv.FlowJob {
	t.Helper()
	var job dokv.FlowJob
	require.NoError(t, json.Unmarshal(body, &job), "%s", body)
	return job
}

func TestFlowJobLifecycle(t *testing.T) {
	s := newTestServer(t)
	start := time.Now()
	job := s.createJob("image-pipeline", "r2", "resize", "thumbnail")
	assert.NotEmpty(t, job.ID)
	assert.Equal(t, "image-pipeline", job.FlowID)
	assert.Equal(t, "r2", job.StorageID)
	assert.Equal(t, dokv.FlowJobPending, job.Status)
	assert.Nil(t, job.EndedAt)
	require.Len(t, job.Tasks, 2)
	for i, node := range []string{"resize", "thumbnail"} {
		assert.Equal(t, node, job.Tasks[i].NodeID)
		assert.Equal(t, dokv.FlowJobTaskPending, job.Tasks[i].Status)
	}
	assert.WithinDuration(t, start, job.CreatedAt, time.Minute)

	got := s.getJob(job.ID)
	assert.Equal(t, job.ID, got.ID)
	assert.Equal(t, job.Tasks, got.Tasks)
	assert.True(t, job.CreatedAt.Equal(got.CreatedAt))

	// The first task update starts the job.
	job = s.patchTask(job.ID, "resize", map[string]any{"status": "running"})
	assert.Equal(t, dokv.FlowJobRunning, job.Status)
	assert.Equal(t, dokv.FlowJobTaskRunning, job.Tasks[0].Status)
	assert.Equal(t, dokv.FlowJobTaskPending, job.Tasks[1].Status)

	job = s.patchTask(job.ID, "resize", map[string]any{"status": "completed", "result": map[string]any{"width": 640}})
	assert.Equal(t, dokv.FlowJobRunning, job.Status, "one task is still pending")
	assert.Nil(t, job.EndedAt)
	assert.JSONEq(t, `{"width":640}`, string(job.Tasks[0].Result))

	job = s.patchTask(job.ID, "thumbnail", map[string]any{"status": "completed", "result": []int{1, 2}})
	assert.Equal(t, dokv.FlowJobCompleted, job.Status)
	require.NotNil(t, job.EndedAt)
	assert.False(t, job.EndedAt.Before(job.CreatedAt))

	// What the PATCH answered is what is stored.
	got = s.getJob(job.ID)
	assert.Equal(t, dokv.FlowJobCompleted, got.Status)
	require.NotNil(t, got.EndedAt)
	assert.True(t, job.EndedAt.Equal(*got.EndedAt))
	assert.JSONEq(t, `{"width":640}`, string(got.Tasks[0].Result))
	assert.JSONEq(t, `[1,2]`, string(got.Tasks[1].Result))
	for _, task := range got.Tasks {
		assert.Equal(t, dokv.FlowJobTaskCompleted, task.Status)
	}

	// A completed job cannot run again.
	resp, body := s.doJSON(http.MethodPatch, "/jobs/"+job.ID, map[string]any{"status": "running"})
	requireError(t, resp, body, http.StatusConflict)
	resp, body = s.doJSON(http.MethodPatch, "/jobs/"+job.ID+"/tasks/resize", map[string]any{"status": "running"})
	requireError(t, resp, body, http.StatusConflict)
	// Repeating what is already so changes nothing.
	resp, body = s.doJSON(http.MethodPatch, "/jobs/"+job.ID, map[string]any{"status": "completed"})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	again := decodeJob(t, body)
	assert.True(t, got.UpdatedAt.Equal(again.UpdatedAt))
	s.patchTask(job.ID, "thumbnail", map[string]any{"status": "completed"})
	final := s.getJob(job.ID)
	assert.Equal(t, dokv.FlowJobCompleted, final.Status)
	assert.True(t, got.UpdatedAt.Equal(final.UpdatedAt))
	assert.JSONEq(t, `[1,2]`, string(final.Tasks[1].Result))

	// Missing jobs and tasks.
	resp, body = s.do(http.MethodGet, "/jobs/no-such-job", nil)
	assert.Contains(t, requireError(t, resp, body, http.StatusNotFound), "no-such-job")
	resp, body = s.doJSON(http.MethodPatch, "/jobs/no-such-job", map[string]any{"status": "running"})
	requireError(t, resp, body, http.StatusNotFound)
	resp, body = s.doJSON(http.MethodPatch, "/jobs/no-such-job/tasks/resize", map[string]any{"status": "running"})
	requireError(t, resp, body, http.StatusNotFound)
	resp, body = s.doJSON(http.MethodPatch, "/jobs/"+job.ID+"/tasks/no-such-node", map[string]any{"status": "running"})
	assert.Contains(t, requireError(t, resp, body, http.StatusNotFound), "no-such-node")
	// A PATCH of a missing job creates nothing.
	resp, body = s.do(http.MethodGet, "/jobs/no-such-job", nil)
	requireError(t, resp, body, http.StatusNotFound)
}

func TestFlowJobPatchStatus(t *testing.T) {
	s := newTestServer(t)
	job := s.createJob("f", "s", "a")

	resp, body := s.doJSON(http.MethodPatch, "/jobs/"+job.ID, map[string]any{"status": "paused"})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	paused := decodeJob(t, body)
	assert.Equal(t, dokv.FlowJobPaused, paused.Status)
	assert.Nil(t, paused.EndedAt)
	assert.False(t, paused.UpdatedAt.Before(job.UpdatedAt))

	resp, body = s.doJSON(http.MethodPatch, "/jobs/"+job.ID, map[string]any{"status": "cancelled", "error": "user gave up"})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	cancelled := decodeJob(t, body)
	assert.Equal(t, dokv.FlowJobCancelled, cancelled.Status)
	assert.Equal(t, "user gave up", cancelled.Error)
	require.NotNil(t, cancelled.EndedAt)
	assert.Equal(t, cancelled, s.getJob(job.ID))

	resp, body = s.doJSON(http.MethodPatch, "/jobs/"+job.ID, map[string]any{"status": "failed"})
	requireError(t, resp, body, http.StatusConflict)
}

func TestFlowJobTaskFailureFailsJob(t *testing.T) {
	s := newTestServer(t)
	job := s.createJob("f", "s", "a", "b")
	job = s.patchTask(job.ID, "a", map[string]any{"status": "failed", "error": "disk full"})
	assert.Equal(t, dokv.FlowJobFailed, job.Status)
	assert.Equal(t, "disk full", job.Error)
	assert.Equal(t, "disk full", job.Tasks[0].Error)
	require.NotNil(t, job.EndedAt)

	// The other task cannot complete a failed job.
	resp, body := s.doJSON(http.MethodPatch, "/jobs/"+job.ID+"/tasks/b", map[string]any{"status": "completed"})
	requireError(t, resp, body, http.StatusConflict)
	assert.Equal(t, dokv.FlowJobTaskPending, s.getJob(job.ID).Tasks[1].Status)

	// A failure without a message still explains itself.
	job = s.createJob("f", "s", "x")
	job = s.patchTask(job.ID, "x", map[string]any{"status": "failed"})
	assert.Equal(t, dokv.FlowJobFailed, job.Status)
	assert.Contains(t, job.Error, "x")
}

func TestFlowJobTaskResultNullClears(t *testing.T) {
	s := newTestServer(t)
	job := s.createJob("f", "s", "a", "b")
	job = s.patchTask(job.ID, "a", map[string]any{"status": "paused", "result": "partial"})
	assert.JSONEq(t, `"partial"`, string(job.Tasks[0].Result))
	job = s.patchTask(job.ID, "a", map[string]any{"status": "running"})
	assert.JSONEq(t, `"partial"`, string(job.Tasks[0].Result), "an absent result is kept")
	job = s.patchTask(job.ID, "a", map[string]any{"status": "running", "result": nil})
	assert.Empty(t, job.Tasks[0].Result)
}

func TestFlowJobBadRequests(t *testing.T) {
	s := newTestServer(t)
	job := s.createJob("f", "s", "a")
	for _, tc := range []struct {
		method, path, body string
		status             int
	}{
		{http.MethodPost, "/jobs", `{"storageId":"s","nodes":["a"]}`, http.StatusBadRequest},
		{http.MethodPost, "/jobs", `{"flowId":"f","nodes":["a"]}`, http.StatusBadRequest},
		{http.MethodPost, "/jobs", `{"flowId":"f","storageId":"s","nodes":["a","a"]}`, http.StatusBadRequest},
		{http.MethodPost, "/jobs", `{"flowId":"f","storageId":"s","nodes":[""]}`, http.StatusBadRequest},
		{http.MethodPost, "/jobs", `{"flowId":"f","storageId":"s","nodez":[]}`, http.StatusBadRequest},
		{http.MethodPost, "/jobs", `{"flowId":"f",`, http.StatusBadRequest},
		{http.MethodPost, "/jobs", `{"flowId":"f","storageId":"s"} {}`, http.StatusBadRequest},
		{http.MethodPost, "/jobs", ``, http.StatusBadRequest},
		{http.MethodPatch, "/jobs/" + job.ID, `{"status":"bogus"}`, http.StatusBadRequest},
		{http.MethodPatch, "/jobs/" + job.ID, `{}`, http.StatusBadRequest},
		{http.MethodPatch, "/jobs/" + job.ID, `[1]`, http.StatusBadRequest},
		{http.MethodPatch, "/jobs/" + job.ID + "/tasks/a", `{"status":"cancelled"}`, http.StatusBadRequest},
		{http.MethodPatch, "/jobs/" + job.ID + "/tasks/a", `{"status":"completed","result":}`, http.StatusBadRequest},
		{http.MethodPatch, "/jobs/%FF", `{"status":"running"}`, http.StatusBadRequest},
		{http.MethodPost, "/jobs", `{"flowId":"f","storageId":"` + strings.Repeat("x", dokv.MaxEntryBytes) + `"}`, http.StatusRequestEntityTooLarge},
	} {
		resp, body := s.do(tc.method, tc.path, []byte(tc.body))
		requireError(t, resp, body, tc.status)
	}
	// None of it changed the job.
	got := s.getJob(job.ID)
	assert.Equal(t, dokv.FlowJobPending, got.Status)
	assert.Equal(t, dokv.FlowJobTaskPending, got.Tasks[0].Status)
}

func TestFlowJobList(t *testing.T) {
	s := newTestServer(t, WithShards(4))
	var ids, running []string
	for i := range 9 {
		job := s.createJob(fmt.Sprintf("flow-%d", i), "s", "a")
		ids = append(ids, job.ID)
		if i%3 == 0 {
			s.patchTask(job.ID, "a", map[string]any{"status": "running"})
			running = append(running, job.ID)
		}
	}
	slices.Sort(ids)
	slices.Sort(running)

	list := func(query string) jobList {
		t.Helper()
		resp, body := s.do(http.MethodGet, "/jobs"+query, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		var l jobList
		require.NoError(t, json.Unmarshal(body, &l), "%s", body)
		require.NotNil(t, l.Jobs, "jobs must be [], not null: %s", body)
		return l
	}
	idsOf := func(jobs []dokv.FlowJob) []string {
		out := []string{}
		for _, j := range jobs {
			out = append(out, j.ID)
		}
		return out
	}

	all := list("")
	assert.Equal(t, ids, idsOf(all.Jobs))
	assert.Empty(t, all.Next)

	r := list("?status=running")
	assert.Equal(t, running, idsOf(r.Jobs))
	for _, j := range r.Jobs {
		assert.Equal(t, dokv.FlowJobRunning, j.Status)
		assert.Equal(t, dokv.FlowJobTaskRunning, j.Tasks[0].Status)
	}
	assert.Empty(t, list("?status=completed").Jobs)

	// Paging, with and without a filter, visits every match once.
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", ids},
		{"status=running", running},
		{"status=pending", slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return slices.Contains(running, id) })},
	} {
		var got []string
		after := ""
		for range len(ids) + 2 {
			page := list("?limit=2&" + tc.query + "&after=" + url.QueryEscape(after))
			assert.LessOrEqual(t, len(page.Jobs), 2)
			got = append(got, idsOf(page.Jobs)...)
			if page.Next == "" {
				break
			}
			after = page.Next
		}
		assert.Equal(t, tc.want, got, "query %q", tc.query)
	}

	for _, bad := range []string{"?status=bogus", "?limit=0", "?limit=1001", "?limit=two", "?after=%FF"} {
		resp, body := s.do(http.MethodGet, "/jobs"+bad, nil)
		requireError(t, resp, body, http.StatusBadRequest)
	}
}

func TestFlowJobConcurrentTaskUpdates(t *testing.T) {
	s := newTestServer(t)
	nodes := []string{"n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7"}
	job := s.createJob("parallel", "s", nodes...)

	var wg sync.WaitGroup
	statuses := make([]int, len(nodes))
	errs := make([]error, len(nodes))
	for i, node := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(map[string]any{"status": "completed", "result": map[string]any{"node": node, "i": i}})
			req, err := http.NewRequest(http.MethodPatch, s.srv.URL+"/jobs/"+job.ID+"/tasks/"+node, bytes.NewReader(body))
			if err != nil {
				errs[i] = err
				return
			}
			resp, err := s.srv.Client().Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	for i := range nodes {
		require.NoError(t, errs[i])
		require.Equal(t, http.StatusOK, statuses[i], "node %s", nodes[i])
	}

	got := s.getJob(job.ID)
	assert.Equal(t, dokv.FlowJobCompleted, got.Status)
	require.NotNil(t, got.EndedAt)
	require.Len(t, got.Tasks, len(nodes))
	for i, task := range got.Tasks {
		assert.Equal(t, nodes[i], task.NodeID)
		assert.Equal(t, dokv.FlowJobTaskCompleted, task.Status, "task %s lost its update", task.NodeID)
		assert.JSONEq(t, fmt.Sprintf(`{"node":%q,"i":%d}`, nodes[i], i), string(task.Result))
	}
}

// GET /uploads/{id} reads the upload file stored under id in the layout of
// @uploadista/kv-store-cloudflare-do (the object named by the ID).
func TestGetUpload(t *testing.T) {
	ns := dokv.NewMemoryNamespace()
	h, err := New(ns)
	require.NoError(t, err)
	srv := httptest.NewServer(workerhttp.FromHandler(h))
	t.Cleanup(srv.Close)

	resp, err := http.Get(srv.URL + "/uploads/up-1")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	msg := requireError(t, resp, body, http.StatusNotFound)
	assert.Contains(t, msg, `upload "up-1" not found`)

	uploads, err := dokv.NewUploadFileStore(ns, dokv.WithPartitioning(dokv.ObjectNamedByKey()))
	require.NoError(t, err)
	require.NoError(t, uploads.Set(context.Background(), "up-1", dokv.UploadFile{ID: "up-1", Offset: 1234}))
	assert.Equal(t, "up-1", uploads.ObjectName("up-1"), "the object is named by the ID, as the npm client names it")

	resp, err = http.Get(srv.URL + "/uploads/up-1")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got dokv.UploadFile
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	assert.Equal(t, int64(1234), got.Offset)
	assert.Equal(t, "up-1", got.ID)

	req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/uploads/up-1", nil)
	resp2, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp2.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp2.StatusCode)
}
