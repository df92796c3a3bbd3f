package apptest

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/dokv/dokv/examples/worker/app"
	"github.com/dokv/dokv/worker/workerhttp"
)

// jobTests are the flow job API's tests, and the upload file route's.
func jobTests() []test {
	return []test{
		{"TestFlowJobLifecycle", testFlowJobLifecycle},
		{"TestFlowJobPatchStatus", testFlowJobPatchStatus},
		{"TestFlowJobTaskFailureFailsJob", testFlowJobTaskFailureFailsJob},
		{"TestFlowJobTaskResultNullClears", testFlowJobTaskResultNullClears},
		{"TestFlowJobBadRequests", testFlowJobBadRequests},
		{"TestFlowJobList", testFlowJobList},
		{"TestFlowJobConcurrentTaskUpdates", testFlowJobConcurrentTaskUpdates},
		{"TestGetUpload", testGetUpload},
	}
}

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

func testFlowJobLifecycle(t *testing.T, newNamespace NewNamespace) {
	s := newTestServer(t, newNamespace)
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

func testFlowJobPatchStatus(t *testing.T, newNamespace NewNamespace) {
	s := newTestServer(t, newNamespace)
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

func testFlowJobTaskFailureFailsJob(t *testing.T, newNamespace NewNamespace) {
	s := newTestServer(t, newNamespace)
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

func testFlowJobTaskResultNullClears(t *testing.T, newNamespace NewNamespace) {
	s := newTestServer(t, newNamespace)
	job := s.createJob("f", "s", "a", "b")
	job = s.patchTask(job.ID, "a", map[string]any{"status": "paused", "result": "partial"})
	assert.JSONEq(t, `"partial"`, string(job.Tasks[0].Result))
	job = s.patchTask(job.ID, "a", map[string]any{"status": "running"})
	assert.JSONEq(t, `"partial"`, string(job.Tasks[0].Result), "an absent result is kept")
	job = s.patchTask(job.ID, "a", map[string]any{"status": "running", "result": nil})
	assert.Empty(t, job.Tasks[0].Result)
}

func testFlowJobBadRequests(t *testing.T, newNamespace NewNamespace) {
	s := newTestServer(t, newNamespace)
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

func testFlowJobList(t *testing.T, newNamespace NewNamespace) {
	s := newTestServer(t, newNamespace, app.WithShards(4))
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

func testFlowJobConcurrentTaskUpdates(t *testing.T, newNamespace NewNamespace) {
	s := newTestServer(t, newNamespace)
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
func testGetUpload(t *testing.T, newNamespace NewNamespace) {
	ns := newNamespace(t, dokv.SystemClock())
	h, err := app.New(ns)
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
