package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/internal/workerdtest"
	"github.com/dokv/dokv/internal/workerfiles"
	"github.com/dokv/dokv/worker"
)

// exampleGreeting is the GREETING variable the example Worker gets.
const exampleGreeting = "hello from the e2e test"

// examplePatterns are the byte stores of the example Worker.
var examplePatterns = []string{"single", "perkey", "sharded"}

// startExample builds the example Worker (examples/worker) and runs it on a
// fresh workerd with storage of its own. workerd's log is printed if the
// test fails.
func startExample(t *testing.T) *exampleWorker {
	t.Helper()
	w := buildExample(t)
	require.NoError(t, w.Start())
	return w
}

// exampleConfig is the example Worker's configuration in these tests.
var exampleConfig = workerfiles.Config{
	Name:      "dokv-example",
	Bindings:  []string{"DOKV"},
	UniqueKey: "dokv-example",
	Vars:      map[string]string{"GREETING": exampleGreeting, "DOKV_ADMIN_SECRET": exampleAdminSecret},
}

// exampleWorker is the example Worker on workerd, with helpers for requests
// to it.
type exampleWorker struct {
	*workerdtest.Worker
}

// buildExample builds the example Worker without starting it.
func buildExample(t *testing.T) *exampleWorker {
	t.Helper()
	bin := workerdtest.Require(t)
	w, err := workerdtest.Build(bin, "./examples/worker", exampleConfig)
	require.NoError(t, err)
	t.Cleanup(w.Remove)
	t.Cleanup(func() { // runs before Remove
		if t.Failed() {
			t.Logf("workerd log of the example Worker:\n%s", w.Log())
		}
	})
	return &exampleWorker{w}
}

// exampleResponse is a response with its whole body.
type exampleResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r exampleResponse) String() string {
	body := r.Body
	if len(body) > 200 {
		body = body[:200]
	}
	return fmt.Sprintf("%d %q", r.Status, body)
}

// request sends a request for path (already percent-encoded) to the Worker.
// A nil body sends none.
func (w *exampleWorker) request(method, path string, body []byte) (exampleResponse, error) {
	return sendRequest(workerdtest.Client, method, w.URL, path, body)
}

// sendRequest sends one request to base+path with client and reads the whole
// response. A nil body sends none.
func sendRequest(client *http.Client, method, base, path string, body []byte) (exampleResponse, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, r)
	if err != nil {
		return exampleResponse{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return exampleResponse{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return exampleResponse{}, err
	}
	return exampleResponse{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// do is request that ends the test on a transport error.
func (w *exampleWorker) do(t *testing.T, method, path string, body []byte) exampleResponse {
	t.Helper()
	resp, err := w.request(method, path, body)
	require.NoError(t, err, "%s %s", method, path)
	return resp
}

// doJSON sends v as a JSON body.
func (w *exampleWorker) doJSON(t *testing.T, method, path string, v any) exampleResponse {
	t.Helper()
	body, err := json.Marshal(v)
	require.NoError(t, err)
	return w.do(t, method, path, body)
}

// requireExampleError checks that resp is the app's JSON error with the status.
func requireExampleError(t *testing.T, resp exampleResponse, status int, msgAndArgs ...any) string {
	t.Helper()
	msg := ""
	if len(msgAndArgs) > 0 {
		format, _ := msgAndArgs[0].(string)
		msg = fmt.Sprintf(format, msgAndArgs[1:]...) + ": "
	}
	require.Equal(t, status, resp.Status, "%s%s", msg, resp)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"), "%s%s", msg, resp)
	var e struct {
		Error string `json:"error"`
	}
	require.NoError(t, json.Unmarshal(resp.Body, &e), "%s%s", msg, resp)
	require.NotEmpty(t, e.Error)
	return e.Error
}

// exampleKeyPath percent-encodes each slash-separated segment of key,
// keeping the slashes.
func exampleKeyPath(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// exampleBytes returns n reproducible pseudo-random bytes of every value.
func exampleBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestExampleWorker_ByteContract pins the byte stores' HTTP contract, which
// tools outside the repository drive: on /single/, /perkey/ and /sharded/,
// PUT stores the body byte for byte (204), GET returns exactly those bytes
// (200) or 404, DELETE gives 204 also for a missing key, keys may have
// slashes and any Unicode, and the patterns never see each other's keys.
func TestExampleWorker_ByteContract(t *testing.T) {
	w := startExample(t)

	binary := []byte{0, 0xFF, 'a', 0, 0xFE, 0x80, '\n', '\r', 0xFF, 0}
	big := exampleBytes(1, 1<<20)
	big[0], big[1], big[len(big)-2], big[len(big)-1] = 0, 0xFF, 0xFF, 0
	values := map[string][]byte{
		"plain":                      []byte("hello"),
		"binary":                     binary,
		"empty":                      {},
		"one-mebibyte":               big,
		"nested/path/to/key":         []byte("slashes"),
		"trailing/":                  []byte("slash at the end"),
		"日本語/ключ/🔑":                 []byte("unicode key"),
		"with space and ?#&=+%;,'\"": bytes.Repeat([]byte{0xFF, 0}, 1000),
		"0xff-only":                  bytes.Repeat([]byte{0xFF}, 4096),
		"nul-only":                   make([]byte, 4096),
	}

	for _, p := range examplePatterns {
		t.Run(p, func(t *testing.T) {
			for key, value := range values {
				path := "/" + p + "/" + exampleKeyPath(key)
				resp := w.do(t, http.MethodPut, path, value)
				require.Equal(t, http.StatusNoContent, resp.Status, "PUT %s: %s", path, resp)
				assert.Empty(t, resp.Body, "PUT %s", path)
			}
			for key, value := range values {
				path := "/" + p + "/" + exampleKeyPath(key)
				resp := w.do(t, http.MethodGet, path, nil)
				require.Equal(t, http.StatusOK, resp.Status, "GET %s: %s", path, resp)
				assert.Equal(t, "application/octet-stream", resp.Header.Get("Content-Type"), "GET %s", path)
				assert.Equal(t, fmt.Sprint(len(value)), resp.Header.Get("Content-Length"), "GET %s", path)
				assert.True(t, bytes.Equal(value, resp.Body), "GET %s: got %d bytes, want %d", path, len(resp.Body), len(value))
			}

			// A missing key.
			requireExampleError(t, w.do(t, http.MethodGet, "/"+p+"/never-written", nil), http.StatusNotFound)

			// An encoded slash addresses the same key as a plain one.
			resp := w.do(t, http.MethodGet, "/"+p+"/nested%2Fpath%2Fto%2Fkey", nil)
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
			assert.Equal(t, "slashes", string(resp.Body))

			// HEAD has the length and no body.
			resp = w.do(t, http.MethodHead, "/"+p+"/plain", nil)
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
			assert.Equal(t, "5", resp.Header.Get("Content-Length"))
			assert.Empty(t, resp.Body)

			// A body of unknown length (ContentLength 0 with a body that is
			// not a bytes.Reader) goes out with Transfer-Encoding: chunked.
			req, err := http.NewRequest(http.MethodPut, w.URL+"/"+p+"/chunked", io.MultiReader(bytes.NewReader(binary), bytes.NewReader(big[:100_000])))
			require.NoError(t, err)
			require.Zero(t, req.ContentLength)
			chunked, err := workerdtest.Client.Do(req)
			require.NoError(t, err)
			chunked.Body.Close()
			require.Equal(t, http.StatusNoContent, chunked.StatusCode)
			resp = w.do(t, http.MethodGet, "/"+p+"/chunked", nil)
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
			assert.True(t, bytes.Equal(append(bytes.Clone(binary), big[:100_000]...), resp.Body), "chunked body: got %d bytes", len(resp.Body))

			// A key with empty and dot segments needs encoded slashes.
			resp = w.do(t, http.MethodPut, "/"+p+"/dots%2F%2F..%2F.%2Fz", []byte("odd"))
			require.Equal(t, http.StatusNoContent, resp.Status, "%s", resp)
			resp = w.do(t, http.MethodGet, "/"+p+"/dots%2F%2F..%2F.%2Fz", nil)
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
			assert.Equal(t, "odd", string(resp.Body))
			resp = w.do(t, http.MethodDelete, "/"+p+"/dots%2F%2F..%2F.%2Fz", nil)
			require.Equal(t, http.StatusNoContent, resp.Status, "%s", resp)

			// A value just under dokv.MaxEntryBytes fits the object's
			// SQLite storage and comes back whole.
			nearLimit := exampleBytes(2, dokv.MaxEntryBytes-64)
			resp = w.do(t, http.MethodPut, "/"+p+"/near-limit", nearLimit)
			require.Equal(t, http.StatusNoContent, resp.Status, "%s", resp)
			resp = w.do(t, http.MethodGet, "/"+p+"/near-limit", nil)
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
			assert.True(t, bytes.Equal(nearLimit, resp.Body), "near-limit value: got %d bytes, want %d", len(resp.Body), len(nearLimit))
			resp = w.do(t, http.MethodDelete, "/"+p+"/near-limit", nil)
			require.Equal(t, http.StatusNoContent, resp.Status, "%s", resp)

			// Overwrite, then delete.
			path := "/" + p + "/" + exampleKeyPath("nested/path/to/key")
			resp = w.do(t, http.MethodPut, path, []byte("second"))
			require.Equal(t, http.StatusNoContent, resp.Status, "%s", resp)
			resp = w.do(t, http.MethodGet, path, nil)
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
			assert.Equal(t, "second", string(resp.Body))

			for _, key := range []string{"nested/path/to/key", "one-mebibyte", "日本語/ключ/🔑", "empty"} {
				path := "/" + p + "/" + exampleKeyPath(key)
				resp = w.do(t, http.MethodDelete, path, nil)
				require.Equal(t, http.StatusNoContent, resp.Status, "DELETE %s: %s", path, resp)
				assert.Empty(t, resp.Body)
				requireExampleError(t, w.do(t, http.MethodGet, path, nil), http.StatusNotFound, "GET %s after DELETE", path)
				// Deleting a missing key is not an error.
				resp = w.do(t, http.MethodDelete, path, nil)
				assert.Equal(t, http.StatusNoContent, resp.Status, "second DELETE %s: %s", path, resp)
			}

			// The other keys are untouched.
			resp = w.do(t, http.MethodGet, "/"+p+"/"+exampleKeyPath("binary"), nil)
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
			assert.Equal(t, binary, resp.Body)
		})
	}

	t.Run("listing", func(t *testing.T) {
		want := []string{"0xff-only", "binary", "chunked", "nul-only", "plain", "trailing/", "with space and ?#&=+%;,'\""}
		for _, p := range []string{"single", "sharded"} {
			resp := w.do(t, http.MethodGet, "/"+p+"/", nil)
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
			var list struct {
				Keys []string `json:"keys"`
				Next string   `json:"next"`
			}
			require.NoError(t, json.Unmarshal(resp.Body, &list), "%s", resp)
			assert.Equal(t, want, list.Keys, p)
			assert.Empty(t, list.Next, p)
		}
		requireExampleError(t, w.do(t, http.MethodGet, "/perkey/", nil), http.StatusNotImplemented)
	})

	t.Run("isolation", func(t *testing.T) {
		for _, p := range examplePatterns {
			resp := w.do(t, http.MethodPut, "/"+p+"/shared", []byte("value of "+p))
			require.Equal(t, http.StatusNoContent, resp.Status, "%s", resp)
			resp = w.do(t, http.MethodPut, "/"+p+"/only-"+p, []byte(p))
			require.Equal(t, http.StatusNoContent, resp.Status, "%s", resp)
		}
		for _, p := range examplePatterns {
			resp := w.do(t, http.MethodGet, "/"+p+"/shared", nil)
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
			assert.Equal(t, "value of "+p, string(resp.Body))
			for _, other := range examplePatterns {
				resp := w.do(t, http.MethodGet, "/"+p+"/only-"+other, nil)
				if other == p {
					assert.Equal(t, http.StatusOK, resp.Status, "/%s/only-%s: %s", p, other, resp)
				} else {
					requireExampleError(t, resp, http.StatusNotFound, "/%s/only-%s", p, other)
				}
			}
		}
		// A delete in one pattern leaves the others alone.
		resp := w.do(t, http.MethodDelete, "/sharded/shared", nil)
		require.Equal(t, http.StatusNoContent, resp.Status, "%s", resp)
		requireExampleError(t, w.do(t, http.MethodGet, "/sharded/shared", nil), http.StatusNotFound)
		for _, p := range []string{"single", "perkey"} {
			resp := w.do(t, http.MethodGet, "/"+p+"/shared", nil)
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
			assert.Equal(t, "value of "+p, string(resp.Body))
		}
	})
}

// TestExampleWorker_Greeting checks that GET / opens with the GREETING
// variable, which the example reads with syumai/workers' cloudflare.Getenv
// inside a handler that dokv serves.
func TestExampleWorker_Greeting(t *testing.T) {
	w := startExample(t)
	resp := w.do(t, http.MethodGet, "/", nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
	assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.True(t, strings.HasPrefix(string(resp.Body), exampleGreeting+"\n\n"), "body: %q", resp.Body)
	assert.Contains(t, string(resp.Body), "dokv example Worker")
}

// decodeExampleJob decodes a job from a 200 or 201 response.
func decodeExampleJob(t *testing.T, resp exampleResponse, status int) dokv.FlowJob {
	t.Helper()
	require.Equal(t, status, resp.Status, "%s", resp)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var job dokv.FlowJob
	require.NoError(t, json.Unmarshal(resp.Body, &job), "%s", resp)
	return job
}

// createJob creates a job with the nodes and returns it and its Location.
func (w *exampleWorker) createJob(t *testing.T, nodes ...string) (dokv.FlowJob, string) {
	return createJobAt(t, w.URL, nodes...)
}

// createJobAt creates a job with the nodes in the example app at base.
func createJobAt(t *testing.T, base string, nodes ...string) (dokv.FlowJob, string) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"flowId": "flow-1", "storageId": "storage-1", "nodes": nodes})
	require.NoError(t, err)
	resp, err := sendRequest(workerdtest.Client, http.MethodPost, base, "/jobs", body)
	require.NoError(t, err)
	job := decodeExampleJob(t, resp, http.StatusCreated)
	require.NotEmpty(t, job.ID)
	return job, resp.Header.Get("Location")
}

// TestExampleWorker_FlowJobs drives one flow job through the JSON API, one
// request at a time: create, read, tasks running then completed, the job
// completed with endedAt, and listed by status.
func TestExampleWorker_FlowJobs(t *testing.T) {
	w := startExample(t)

	t.Run("lifecycle", func(t *testing.T) {
		job, location := w.createJob(t, "a", "b")
		assert.Equal(t, "/jobs/"+job.ID, location)
		assert.Equal(t, dokv.FlowJobPending, job.Status)
		assert.Equal(t, "flow-1", job.FlowID)
		assert.Equal(t, "storage-1", job.StorageID)
		require.Len(t, job.Tasks, 2)
		for _, task := range job.Tasks {
			assert.Equal(t, dokv.FlowJobTaskPending, task.Status)
		}
		assert.Nil(t, job.EndedAt)

		got := decodeExampleJob(t, w.do(t, http.MethodGet, location, nil), http.StatusOK)
		assert.Equal(t, job.ID, got.ID)
		assert.Equal(t, job.Tasks, got.Tasks)
		requireExampleError(t, w.do(t, http.MethodGet, "/jobs/no-such-job", nil), http.StatusNotFound)

		// a: running, then completed; the job runs.
		job = decodeExampleJob(t, w.doJSON(t, http.MethodPatch, location+"/tasks/a", map[string]any{"status": "running"}), http.StatusOK)
		assert.Equal(t, dokv.FlowJobRunning, job.Status)
		job = decodeExampleJob(t, w.doJSON(t, http.MethodPatch, location+"/tasks/a",
			map[string]any{"status": "completed", "result": map[string]any{"bytes": 42}}), http.StatusOK)
		assert.Equal(t, dokv.FlowJobRunning, job.Status)
		assert.Nil(t, job.EndedAt)
		task, ok := job.Task("a")
		require.True(t, ok)
		assert.Equal(t, dokv.FlowJobTaskCompleted, task.Status)
		assert.JSONEq(t, `{"bytes": 42}`, string(task.Result))

		// Missing task: 404.
		requireExampleError(t, w.doJSON(t, http.MethodPatch, location+"/tasks/nope", map[string]any{"status": "running"}), http.StatusNotFound)

		// b: running, then completed; the job completes.
		decodeExampleJob(t, w.doJSON(t, http.MethodPatch, location+"/tasks/b", map[string]any{"status": "running"}), http.StatusOK)
		job = decodeExampleJob(t, w.doJSON(t, http.MethodPatch, location+"/tasks/b", map[string]any{"status": "completed"}), http.StatusOK)
		assert.Equal(t, dokv.FlowJobCompleted, job.Status)
		require.NotNil(t, job.EndedAt)
		assert.WithinDuration(t, time.Now(), *job.EndedAt, time.Minute)

		// As stored.
		got = decodeExampleJob(t, w.do(t, http.MethodGet, location, nil), http.StatusOK)
		assert.Equal(t, dokv.FlowJobCompleted, got.Status)
		require.NotNil(t, got.EndedAt)
		for _, task := range got.Tasks {
			assert.Equal(t, dokv.FlowJobTaskCompleted, task.Status, task.NodeID)
		}

		// A terminal job keeps its status.
		requireExampleError(t, w.doJSON(t, http.MethodPatch, location, map[string]any{"status": "running"}), http.StatusConflict)
		same := decodeExampleJob(t, w.doJSON(t, http.MethodPatch, location, map[string]any{"status": "completed"}), http.StatusOK)
		assert.Equal(t, got.UpdatedAt, same.UpdatedAt)

		// Listed as completed, not as running.
		assert.Contains(t, w.listJobIDs(t, "completed"), job.ID)
		assert.NotContains(t, w.listJobIDs(t, "running"), job.ID)
	})

	t.Run("bad requests", func(t *testing.T) {
		requireExampleError(t, w.doJSON(t, http.MethodPost, "/jobs", map[string]any{"storageId": "s"}), http.StatusBadRequest)
		requireExampleError(t, w.doJSON(t, http.MethodPost, "/jobs", map[string]any{"flowId": "f", "storageId": "s", "nodes": []string{"a", "a"}}), http.StatusBadRequest)
		requireExampleError(t, w.doJSON(t, http.MethodPatch, "/jobs/no-such-job", map[string]any{"status": "running"}), http.StatusNotFound)
		requireExampleError(t, w.doJSON(t, http.MethodPatch, "/jobs/no-such-job/tasks/a", map[string]any{"status": "running"}), http.StatusNotFound)
		requireExampleError(t, w.do(t, http.MethodGet, "/jobs?status=bogus", nil), http.StatusBadRequest)
		resp := w.do(t, http.MethodDelete, "/jobs", nil)
		requireExampleError(t, resp, http.StatusMethodNotAllowed)
		assert.Equal(t, "GET, HEAD, POST", resp.Header.Get("Allow"))
	})
}

// TestExampleWorker_FlowJobsConcurrentTaskUpdates completes every task of a
// job at once, one goroutine per task, a few times over: each PATCH is a
// Store.Update that conflicts with the others and retries, and none of them
// may be lost on the real Durable Object.
func TestExampleWorker_FlowJobsConcurrentTaskUpdates(t *testing.T) {
	const rounds = 5
	w := startExample(t)
	nodes := []string{"n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7"}
	for round := range rounds {
		job, location := w.createJob(t, nodes...)
		var wg sync.WaitGroup
		errs := make(chan error, len(nodes))
		for _, node := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body, _ := json.Marshal(map[string]any{"status": "completed", "result": node})
				resp, err := w.request(http.MethodPatch, location+"/tasks/"+node, body)
				if err == nil && resp.Status != http.StatusOK {
					err = fmt.Errorf("PATCH task %s: %s", node, resp)
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		failed := 0
		for err := range errs {
			if !assert.NoError(t, err, "round %d", round) {
				failed++
			}
		}

		got := decodeExampleJob(t, w.do(t, http.MethodGet, location, nil), http.StatusOK)
		lost := 0
		require.Len(t, got.Tasks, len(nodes))
		for _, node := range nodes {
			task, ok := got.Task(node)
			require.True(t, ok, node)
			if !assert.Equal(t, dokv.FlowJobTaskCompleted, task.Status, "round %d: task %s lost its update", round, node) {
				lost++
				continue
			}
			assert.JSONEq(t, fmt.Sprintf("%q", node), string(task.Result), node)
		}
		t.Logf("round %d: %d of %d PATCHes failed, %d of %d task updates lost", round, failed, len(nodes), lost, len(nodes))
		assert.Equal(t, dokv.FlowJobCompleted, got.Status, "round %d: every task completed, so the job must be", round)
		assert.NotNil(t, got.EndedAt, "round %d", round)
		assert.Contains(t, w.listJobIDs(t, "completed"), job.ID, "round %d", round)
	}
}

// listJobIDs lists the IDs of the jobs with the status, following next.
func (w *exampleWorker) listJobIDs(t *testing.T, status string) []string {
	t.Helper()
	var ids []string
	after := ""
	for range 100 {
		resp := w.do(t, http.MethodGet, "/jobs?status="+url.QueryEscape(status)+"&limit=1000&after="+url.QueryEscape(after), nil)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
		var list struct {
			Jobs []dokv.FlowJob `json:"jobs"`
			Next string         `json:"next"`
		}
		require.NoError(t, json.Unmarshal(resp.Body, &list), "%s", resp)
		for _, j := range list.Jobs {
			assert.Equal(t, dokv.FlowJobStatus(status), j.Status, j.ID)
			ids = append(ids, j.ID)
		}
		if list.Next == "" {
			return ids
		}
		after = list.Next
	}
	t.Fatal("GET /jobs did not end after 100 pages")
	return nil
}

// rawStatus writes a raw HTTP/1.1 request to the Worker and returns the
// response's status.
func (w *exampleWorker) rawStatus(t *testing.T, request string) int {
	t.Helper()
	return w.raw(t, request).Status
}

// raw writes request, as it is, to the Worker's port and reads the
// response, so that a test can send what Go's client would not.
func (w *exampleWorker) raw(t *testing.T, request string) exampleResponse {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(w.URL, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(30*time.Second)))
	_, err = io.WriteString(conn, request)
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return exampleResponse{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

// exampleRestartBody is the distinct body of key i of the restart test.
func exampleRestartBody(i int) []byte {
	return append([]byte(fmt.Sprintf("restart-%d:", i)), exampleBytes(uint64(i)+100, 64+i%200)...)
}

// TestExampleWorker_RestartKeepsAcknowledgedWrites writes 1,000 keys, 8 at a
// time, kills workerd with SIGKILL and starts it again on the same storage:
// every write that was acknowledged with a 2xx must be there, byte for byte.
func TestExampleWorker_RestartKeepsAcknowledgedWrites(t *testing.T) {
	const keys, writers = 1000, 8
	w := startExample(t)

	start := time.Now()
	var (
		acked    [keys]atomic.Bool
		next     atomic.Int64
		failures atomic.Int64
		wg       sync.WaitGroup
	)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= keys {
					return
				}
				resp, err := w.request(http.MethodPut, fmt.Sprintf("/sharded/restart-%d", i), exampleRestartBody(i))
				if err == nil && resp.Status >= 200 && resp.Status < 300 {
					acked[i].Store(true)
				} else if failures.Add(1) <= 5 {
					t.Logf("PUT restart-%d not acknowledged: %v %v", i, err, resp)
				}
			}
		}()
	}
	wg.Wait()
	acknowledged := 0
	for i := range acked {
		if acked[i].Load() {
			acknowledged++
		}
	}
	t.Logf("wrote %d keys in %v: %d acknowledged, %d not", keys, time.Since(start).Round(time.Millisecond), acknowledged, failures.Load())
	// On a healthy workerd every write is acknowledged; the property under
	// test is about the acknowledged ones, but a run that acknowledged few
	// would prove little.
	require.Greater(t, acknowledged, keys*9/10, "too few writes were acknowledged")

	single := []byte("single survives\x00\xff")
	perKey := []byte("perkey survives\x00\xff")
	require.Equal(t, http.StatusNoContent, w.do(t, http.MethodPut, "/single/restart/single", single).Status)
	require.Equal(t, http.StatusNoContent, w.do(t, http.MethodPut, "/perkey/restart/perkey", perKey).Status)

	w.Kill()
	require.NoError(t, w.Start(), "restarting workerd on the same storage")

	found, wrong := 0, 0
	var mu sync.Mutex
	next.Store(0)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= keys {
					return
				}
				if !acked[i].Load() {
					continue
				}
				resp, err := w.request(http.MethodGet, fmt.Sprintf("/sharded/restart-%d", i), nil)
				mu.Lock()
				switch {
				case err != nil:
					wrong++
					t.Errorf("GET restart-%d after the restart: %v", i, err)
				case resp.Status != http.StatusOK:
					wrong++
					t.Errorf("GET restart-%d after the restart: %s", i, resp)
				case !bytes.Equal(exampleRestartBody(i), resp.Body):
					wrong++
					t.Errorf("GET restart-%d after the restart: got %q, want %q", i, resp.Body, exampleRestartBody(i))
				default:
					found++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Logf("after SIGKILL and restart: %d of %d acknowledged keys found with their bodies, %d missing or wrong", found, acknowledged, wrong)
	assert.Equal(t, acknowledged, found)

	resp := w.do(t, http.MethodGet, "/single/restart/single", nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
	assert.Equal(t, single, resp.Body)
	resp = w.do(t, http.MethodGet, "/perkey/restart/perkey", nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
	assert.Equal(t, perKey, resp.Body)
}

// TestExampleWorker_PanicAndBadInputDoNotKillTheInstance sends requests that
// fail (invalid keys and URLs, bodies over dokv.MaxEntryBytes, malformed
// JSON, unknown routes and methods) and checks each gets its documented
// status, and that the same workerd and Go instance then serve normal
// requests with the state written before.
func TestExampleWorker_PanicAndBadInputDoNotKillTheInstance(t *testing.T) {
	w := startExample(t)

	// A key and a job written before the bad requests.
	resp := w.do(t, http.MethodPut, "/single/before", []byte("before"))
	require.Equal(t, http.StatusNoContent, resp.Status, "%s", resp)
	job, location := w.createJob(t, "a")

	// Invalid keys: not UTF-8, too long.
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		requireExampleError(t, w.do(t, method, "/single/%FF", []byte("x")), http.StatusBadRequest, "%s /single/%%FF", method)
		requireExampleError(t, w.do(t, method, "/sharded/a%C3", []byte("x")), http.StatusBadRequest, "%s /sharded/a%%C3", method)
	}
	requireExampleError(t, w.do(t, http.MethodPut, "/perkey/"+strings.Repeat("k", 2049), []byte("x")), http.StatusBadRequest)

	// A URL that Go cannot parse (Go's client will not send one).
	for _, target := range []string{"/single/%zz", "/single/%"} {
		assert.Equal(t, http.StatusBadRequest, w.rawStatus(t, "GET "+target+" HTTP/1.1\r\nHost: example\r\nConnection: close\r\n\r\n"), target)
	}

	// Too large: a body over dokv.MaxEntryBytes, and a key and body that
	// together exceed it.
	for _, p := range examplePatterns {
		requireExampleError(t, w.do(t, http.MethodPut, "/"+p+"/too-large", make([]byte, dokv.MaxEntryBytes+1)), http.StatusRequestEntityTooLarge, p)
		requireExampleError(t, w.do(t, http.MethodPut, "/"+p+"/too-large", make([]byte, dokv.MaxEntryBytes+4096)), http.StatusRequestEntityTooLarge, p)
		requireExampleError(t, w.do(t, http.MethodPut, "/"+p+"/too-large", make([]byte, dokv.MaxEntryBytes)), http.StatusRequestEntityTooLarge, p)
		requireExampleError(t, w.do(t, http.MethodGet, "/"+p+"/too-large", nil), http.StatusNotFound, "a rejected write changes nothing")
	}
	// Refused by the entry module before the handler runs, and JSON all
	// the same: a body over worker.MaxRequestBodyBytes (declared, so
	// refused unread).
	msg := requireExampleError(t, w.raw(t, fmt.Sprintf("PUT /single/huge HTTP/1.1\r\nHost: example\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", worker.MaxRequestBodyBytes+1)),
		http.StatusRequestEntityTooLarge, "a body over the entry module's limit")
	assert.Contains(t, msg, strconv.Itoa(worker.MaxRequestBodyBytes))
	hugeJSON := append([]byte(`{"flowId": "`), bytes.Repeat([]byte("f"), dokv.MaxEntryBytes)...)
	hugeJSON = append(hugeJSON, `", "storageId": "s"}`...)
	requireExampleError(t, w.do(t, http.MethodPost, "/jobs", hugeJSON), http.StatusRequestEntityTooLarge)

	// Malformed JSON.
	for _, body := range []string{`{"flowId": "f", "storageId":`, `not json`, `{"flowId": "f", "storageId": "s", "bogus": 1}`, `{"flowId": "f", "storageId": "s"} {}`, ``} {
		requireExampleError(t, w.do(t, http.MethodPost, "/jobs", []byte(body)), http.StatusBadRequest, "POST /jobs %q", body)
	}
	requireExampleError(t, w.do(t, http.MethodPatch, location, []byte(`{"status": 7}`)), http.StatusBadRequest)
	requireExampleError(t, w.do(t, http.MethodPatch, location+"/tasks/a", []byte(`{"status": "exploded"}`)), http.StatusBadRequest)

	// Unknown routes and methods.
	requireExampleError(t, w.do(t, http.MethodGet, "/no/such/route", nil), http.StatusNotFound)
	resp = w.do(t, http.MethodPost, "/single/k", []byte("x"))
	requireExampleError(t, resp, http.StatusMethodNotAllowed)
	assert.Equal(t, "DELETE, GET, HEAD, PUT", resp.Header.Get("Allow"))
	requireExampleError(t, w.do(t, http.MethodGet, "/single/?limit=0", nil), http.StatusBadRequest)

	// The same instance still serves, with its state.
	resp = w.do(t, http.MethodGet, "/single/before", nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
	assert.Equal(t, "before", string(resp.Body))
	resp = w.do(t, http.MethodPut, "/single/after", []byte("after\x00\xff"))
	require.Equal(t, http.StatusNoContent, resp.Status, "%s", resp)
	resp = w.do(t, http.MethodGet, "/single/after", nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
	assert.Equal(t, "after\x00\xff", string(resp.Body))
	got := decodeExampleJob(t, w.do(t, http.MethodGet, location, nil), http.StatusOK)
	assert.Equal(t, job.ID, got.ID)
	assert.Equal(t, dokv.FlowJobPending, got.Status)
	resp = w.do(t, http.MethodGet, "/", nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp)

	// No Go instance died and was replaced on the way.
	assert.NotContains(t, w.Log(), "the Go instance exited")
	assert.NotContains(t, w.Log(), "panic")
}

// exampleMemoryProbe is a test-only main module that wraps the example
// Worker's entry module: it answers GET /__dokv_e2e/memory with
// globalThis.__dokvMemoryBytes() (the Go instance's linear memory size; 0
// before Go starts) and hands every other request, and the Durable Object
// class, to entry.mjs unchanged. The example itself has no such route, and
// its code is not changed: only the workerd config of this test's build.
const exampleMemoryProbe = `import entry, { DokvObject } from "./entry.mjs";
export { DokvObject };
export default {
  async fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/__dokv_e2e/memory") {
      const bytes = globalThis.__dokvMemoryBytes;
      return new Response(typeof bytes === "function" ? String(bytes()) : "no __dokvMemoryBytes");
    }
    return entry.fetch(request, env, ctx);
  },
};
`

// addExampleMemoryProbe makes exampleMemoryProbe the main module of a built
// Worker that has not started yet.
func addExampleMemoryProbe(t *testing.T, w *exampleWorker) {
	t.Helper()
	config := workerfiles.WorkerdConfig(exampleConfig)
	const modules = "modules = [\n"
	require.Contains(t, config, modules, "the workerd config changed shape; update addExampleMemoryProbe")
	config = strings.Replace(config, modules,
		modules+`    (name = "e2e-memory-probe.mjs", esModule = embed "e2e-memory-probe.mjs"),`+"\n", 1)
	require.NoError(t, os.WriteFile(filepath.Join(w.Dir, "e2e-memory-probe.mjs"), []byte(exampleMemoryProbe), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(w.Dir, "workerd.capnp"), []byte(config), 0o644))
}

// memoryBytes reads the Go instance's linear memory size through
// exampleMemoryProbe.
func (w *exampleWorker) memoryBytes(t *testing.T) int {
	t.Helper()
	resp := w.do(t, http.MethodGet, "/__dokv_e2e/memory", nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
	n, err := strconv.Atoi(string(resp.Body))
	require.NoError(t, err, "%s", resp)
	return n
}

// TestExampleWorker_MemoryStaysFlat runs rounds of PUTs and GETs of 1 KiB to
// 256 KiB bodies, 8 at a time, over the three byte stores, plus some job
// requests, and checks that the Go instance's linear memory (which never
// shrinks) stops growing once warm: a leak of request or response bytes
// would grow it round after round.
func TestExampleWorker_MemoryStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the memory test in short mode")
	}
	const (
		warmRounds, rounds = 3, 4
		clients, perClient = 8, 30
		maxGrowth          = 8 << 20
	)
	w, started := startExampleWithMemoryProbe(t)

	bodies := make([][]byte, 9)
	for i := range bodies {
		bodies[i] = exampleBytes(uint64(i), 1024<<i) // 1 KiB to 256 KiB
	}
	round := func(r int) {
		var wg sync.WaitGroup
		for g := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perClient {
					path := fmt.Sprintf("/%s/memory-%d-%d", examplePatterns[(g+i)%3], g, i%10)
					body := bodies[(g+i)%len(bodies)]
					resp, err := w.request(http.MethodPut, path, body)
					if err != nil || resp.Status != http.StatusNoContent {
						t.Errorf("round %d: PUT %s: %v %v", r, path, err, resp)
						return
					}
					resp, err = w.request(http.MethodGet, path, nil)
					if err != nil || resp.Status != http.StatusOK || !bytes.Equal(body, resp.Body) {
						t.Errorf("round %d: GET %s: %v %v", r, path, err, resp)
						return
					}
				}
			}()
		}
		wg.Wait()
		// Some JSON traffic too, one request at a time.
		job, location := w.createJob(t, "a", "b")
		decodeExampleJob(t, w.doJSON(t, http.MethodPatch, location+"/tasks/a", map[string]any{"status": "completed"}), http.StatusOK)
		decodeExampleJob(t, w.do(t, http.MethodGet, "/jobs/"+job.ID, nil), http.StatusOK)
		require.Equal(t, http.StatusOK, w.do(t, http.MethodGet, "/jobs?limit=10", nil).Status)
		require.Equal(t, http.StatusOK, w.do(t, http.MethodGet, "/sharded/?limit=100", nil).Status)
	}

	for r := range warmRounds {
		round(r)
	}
	warm := w.memoryBytes(t)
	sizes := []int{warm}
	for r := range rounds {
		round(warmRounds + r)
		sizes = append(sizes, w.memoryBytes(t))
	}
	requests := (warmRounds + rounds) * (clients*perClient*2 + 5)
	t.Logf("linear memory: %d bytes after the first request, %d after %d warm-up rounds, then by round %v; %d requests in all",
		started, warm, warmRounds, sizes[1:], requests)
	assert.LessOrEqual(t, sizes[len(sizes)-1]-warm, maxGrowth,
		"linear memory grew by more than %d bytes after warming up: %v", maxGrowth, sizes)
}

// startExampleWithMemoryProbe starts the example Worker with the memory
// probe and returns it with the Go instance's memory right after its first
// request; it checks that Go started before it, at module evaluation.
func startExampleWithMemoryProbe(t *testing.T) (*exampleWorker, int) {
	t.Helper()
	w := buildExample(t)
	addExampleMemoryProbe(t, w)
	require.NoError(t, w.Start())
	require.Positive(t, w.memoryBytes(t), "Go starts at module evaluation, before the first request")
	require.Equal(t, http.StatusOK, w.do(t, http.MethodGet, "/", nil).Status)
	started := w.memoryBytes(t)
	require.Positive(t, started)
	return w, started
}
