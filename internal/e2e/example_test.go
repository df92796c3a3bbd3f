package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/internal/workerdtest"
	"github.com/dokv/dokv/internal/workers"
)

// exampleGreeting is the GREETING variable the example Worker gets.
const exampleGreeting = "hello from the e2e test"

// examplePatterns are the byte stores of the example Worker.
var examplePatterns = []string{"single", "perkey", "sharded"}

// startExample builds the example Worker (examples/worker) and runs it on a
// fresh workerd with storage of its own. workerd's log is printed if the
// test fails.
func startExample(t *testing.T) *workerdtest.Worker {
	t.Helper()
	bin := workerdtest.Require(t)
	w, err := workerdtest.Build(bin, "./examples/worker", workers.Config{
		Name:      "dokv-example",
		Bindings:  []string{"DOKV"},
		UniqueKey: "dokv-example",
		Vars:      map[string]string{"GREETING": exampleGreeting},
	})
	require.NoError(t, err)
	t.Cleanup(w.Remove)
	t.Cleanup(func() { // runs before Remove
		if t.Failed() {
			t.Logf("workerd log of the example Worker:\n%s", w.Log())
		}
	})
	require.NoError(t, w.Start())
	return w
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

// doRequest sends a request for path (already percent-encoded) to the Worker.
// A nil body sends none.
func doRequest(w *workerdtest.Worker, method, path string, body []byte) (exampleResponse, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, w.URL+path, r)
	if err != nil {
		return exampleResponse{}, err
	}
	resp, err := workerdtest.Client.Do(req)
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

// do is doRequest that ends the test on a transport error.
func do(t *testing.T, w *workerdtest.Worker, method, path string, body []byte) exampleResponse {
	t.Helper()
	resp, err := doRequest(w, method, path, body)
	require.NoError(t, err, "%s %s", method, path)
	return resp
}

// doJSON sends v as a JSON body.
func doJSON(t *testing.T, w *workerdtest.Worker, method, path string, v any) exampleResponse {
	t.Helper()
	body, err := json.Marshal(v)
	require.NoError(t, err)
	return do(t, w, method, path, body)
}

// requireAPIError checks that resp is the app's JSON error with the status.
func requireAPIError(t *testing.T, resp exampleResponse, status int, msgAndArgs ...any) string {
	t.Helper()
	require.Equal(t, status, resp.Status, append(msgAndArgs, resp.String())...)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"), msgAndArgs...)
	var e struct {
		Error string `json:"error"`
	}
	require.NoError(t, json.Unmarshal(resp.Body, &e), "body %q", resp.Body)
	require.NotEmpty(t, e.Error)
	return e.Error
}

// escapeKey percent-encodes each slash-separated segment of key, keeping the
// slashes.
func escapeKey(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// randomBytes returns n reproducible pseudo-random bytes of every value.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestExampleWorker_ByteContract(t *testing.T) {
	w := startExample(t)

	binary := []byte{0, 0xFF, 'a', 0, 0xFE, 0x80, '\n', '\r', 0xFF, 0}
	big := randomBytes(1, 1<<20)
	big[0], big[1], big[len(big)-2], big[len(big)-1] = 0, 0xFF, 0xFF, 0
	values := map[string][]byte{
		"plain":                      []byte("hello"),
		"binary":                     binary,
		"empty":                      {},
		"one-mebibyte":               big,
		"nested/path/to/key":         []byte("slashes"),
		"trailing/":                  []byte("slash at the end"),
		"日本語/ключ/🔑":                  []byte("unicode key"),
		"with space and ?#&=+%;,'\"": bytes.Repeat([]byte{0xFF, 0}, 1000),
		"0xff-only":                  bytes.Repeat([]byte{0xFF}, 4096),
		"nul-only":                   make([]byte, 4096),
	}

	for _, p := range examplePatterns {
		t.Run(p, func(t *testing.T) {
			for key, value := range values {
				path := "/" + p + "/" + escapeKey(key)
				resp := do(t, w, http.MethodPut, path, value)
				require.Equal(t, http.StatusNoContent, resp.Status, "PUT %s: %s", path, resp)
				assert.Empty(t, resp.Body, "PUT %s", path)
			}
			for key, value := range values {
				path := "/" + p + "/" + escapeKey(key)
				resp := do(t, w, http.MethodGet, path, nil)
				require.Equal(t, http.StatusOK, resp.Status, "GET %s: %s", path, resp)
				assert.Equal(t, "application/octet-stream", resp.Header.Get("Content-Type"), "GET %s", path)
				assert.Equal(t, fmt.Sprint(len(value)), resp.Header.Get("Content-Length"), "GET %s", path)
				assert.True(t, bytes.Equal(value, resp.Body), "GET %s: got %d bytes, want %d", path, len(resp.Body), len(value))
			}

			// A missing key.
			requireAPIError(t, do(t, w, http.MethodGet, "/"+p+"/never-written", nil), http.StatusNotFound)

			// An encoded slash addresses the same key as a plain one.
			resp := do(t, w, http.MethodGet, "/"+p+"/nested%2Fpath%2Fto%2Fkey", nil)
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
			assert.Equal(t, "slashes", string(resp.Body))

			// HEAD has the length and no body.
			resp = do(t, w, http.MethodHead, "/"+p+"/plain", nil)
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
			assert.Equal(t, "5", resp.Header.Get("Content-Length"))
			assert.Empty(t, resp.Body)

			// Overwrite, then delete.
			path := "/" + p + "/" + escapeKey("nested/path/to/key")
			resp = do(t, w, http.MethodPut, path, []byte("second"))
			require.Equal(t, http.StatusNoContent, resp.Status, "%s", resp)
			resp = do(t, w, http.MethodGet, path, nil)
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
			assert.Equal(t, "second", string(resp.Body))

			for _, key := range []string{"nested/path/to/key", "one-mebibyte", "日本語/ключ/🔑", "empty"} {
				path := "/" + p + "/" + escapeKey(key)
				resp = do(t, w, http.MethodDelete, path, nil)
				require.Equal(t, http.StatusNoContent, resp.Status, "DELETE %s: %s", path, resp)
				assert.Empty(t, resp.Body)
				requireAPIError(t, do(t, w, http.MethodGet, path, nil), http.StatusNotFound, "GET %s after DELETE", path)
				// Deleting a missing key is not an error.
				resp = do(t, w, http.MethodDelete, path, nil)
				assert.Equal(t, http.StatusNoContent, resp.Status, "second DELETE %s: %s", path, resp)
			}

			// The other keys are untouched.
			resp = do(t, w, http.MethodGet, "/"+p+"/"+escapeKey("binary"), nil)
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
			assert.Equal(t, binary, resp.Body)
		})
	}

	t.Run("listing", func(t *testing.T) {
		want := []string{"0xff-only", "binary", "nul-only", "plain", "trailing/", "with space and ?#&=+%;,'\""}
		for _, p := range []string{"single", "sharded"} {
			resp := do(t, w, http.MethodGet, "/"+p+"/", nil)
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
			var list struct {
				Keys []string `json:"keys"`
				Next string   `json:"next"`
			}
			require.NoError(t, json.Unmarshal(resp.Body, &list), "%s", resp)
			assert.Equal(t, want, list.Keys, p)
			assert.Empty(t, list.Next, p)
		}
		requireAPIError(t, do(t, w, http.MethodGet, "/perkey/", nil), http.StatusNotImplemented)
	})

	t.Run("isolation", func(t *testing.T) {
		for _, p := range examplePatterns {
			resp := do(t, w, http.MethodPut, "/"+p+"/shared", []byte("value of "+p))
			require.Equal(t, http.StatusNoContent, resp.Status, "%s", resp)
			resp = do(t, w, http.MethodPut, "/"+p+"/only-"+p, []byte(p))
			require.Equal(t, http.StatusNoContent, resp.Status, "%s", resp)
		}
		for _, p := range examplePatterns {
			resp := do(t, w, http.MethodGet, "/"+p+"/shared", nil)
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
			assert.Equal(t, "value of "+p, string(resp.Body))
			for _, other := range examplePatterns {
				resp := do(t, w, http.MethodGet, "/"+p+"/only-"+other, nil)
				if other == p {
					assert.Equal(t, http.StatusOK, resp.Status, "/%s/only-%s: %s", p, other, resp)
				} else {
					requireAPIError(t, resp, http.StatusNotFound, "/%s/only-%s", p, other)
				}
			}
		}
		// A delete in one pattern leaves the others alone.
		resp := do(t, w, http.MethodDelete, "/sharded/shared", nil)
		require.Equal(t, http.StatusNoContent, resp.Status, "%s", resp)
		requireAPIError(t, do(t, w, http.MethodGet, "/sharded/shared", nil), http.StatusNotFound)
		for _, p := range []string{"single", "perkey"} {
			resp := do(t, w, http.MethodGet, "/"+p+"/shared", nil)
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
			assert.Equal(t, "value of "+p, string(resp.Body))
		}
	})
}

func TestExampleWorker_Greeting(t *testing.T) {
	w := startExample(t)
	resp := do(t, w, http.MethodGet, "/", nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
	assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.True(t, strings.HasPrefix(string(resp.Body), exampleGreeting+"\n\n"), "body: %q", resp.Body)
	assert.Contains(t, string(resp.Body), "dokv example Worker")
}

// decodeJob decodes a job from a 200 or 201 response.
func decodeJob(t *testing.T, resp exampleResponse, status int) dokv.FlowJob {
	t.Helper()
	require.Equal(t, status, resp.Status, "%s", resp)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var job dokv.FlowJob
	require.NoError(t, json.Unmarshal(resp.Body, &job), "%s", resp)
	return job
}

// createJob creates a job with the nodes and returns it and its Location.
func createJob(t *testing.T, w *workerdtest.Worker, nodes ...string) (dokv.FlowJob, string) {
	t.Helper()
	resp := doJSON(t, w, http.MethodPost, "/jobs", map[string]any{
		"flowId": "flow-1", "storageId": "storage-1", "nodes": nodes,
	})
	job := decodeJob(t, resp, http.StatusCreated)
	require.NotEmpty(t, job.ID)
	return job, resp.Header.Get("Location")
}

func TestExampleWorker_FlowJobs(t *testing.T) {
	w := startExample(t)

	t.Run("lifecycle", func(t *testing.T) {
		job, location := createJob(t, w, "a", "b")
		assert.Equal(t, "/jobs/"+job.ID, location)
		assert.Equal(t, dokv.FlowJobPending, job.Status)
		assert.Equal(t, "flow-1", job.FlowID)
		assert.Equal(t, "storage-1", job.StorageID)
		require.Len(t, job.Tasks, 2)
		for _, task := range job.Tasks {
			assert.Equal(t, dokv.FlowJobTaskPending, task.Status)
		}
		assert.Nil(t, job.EndedAt)

		got := decodeJob(t, do(t, w, http.MethodGet, location, nil), http.StatusOK)
		assert.Equal(t, job.ID, got.ID)
		assert.Equal(t, job.Tasks, got.Tasks)
		requireAPIError(t, do(t, w, http.MethodGet, "/jobs/no-such-job", nil), http.StatusNotFound)

		// a: running, then completed; the job runs.
		job = decodeJob(t, doJSON(t, w, http.MethodPatch, location+"/tasks/a", map[string]any{"status": "running"}), http.StatusOK)
		assert.Equal(t, dokv.FlowJobRunning, job.Status)
		job = decodeJob(t, doJSON(t, w, http.MethodPatch, location+"/tasks/a",
			map[string]any{"status": "completed", "result": map[string]any{"bytes": 42}}), http.StatusOK)
		assert.Equal(t, dokv.FlowJobRunning, job.Status)
		assert.Nil(t, job.EndedAt)
		task, ok := job.Task("a")
		require.True(t, ok)
		assert.Equal(t, dokv.FlowJobTaskCompleted, task.Status)
		assert.JSONEq(t, `{"bytes": 42}`, string(task.Result))

		// Missing task: 404.
		requireAPIError(t, doJSON(t, w, http.MethodPatch, location+"/tasks/nope", map[string]any{"status": "running"}), http.StatusNotFound)

		// b: running, then completed; the job completes.
		decodeJob(t, doJSON(t, w, http.MethodPatch, location+"/tasks/b", map[string]any{"status": "running"}), http.StatusOK)
		job = decodeJob(t, doJSON(t, w, http.MethodPatch, location+"/tasks/b", map[string]any{"status": "completed"}), http.StatusOK)
		assert.Equal(t, dokv.FlowJobCompleted, job.Status)
		require.NotNil(t, job.EndedAt)
		assert.WithinDuration(t, time.Now(), *job.EndedAt, time.Minute)

		// As stored.
		got = decodeJob(t, do(t, w, http.MethodGet, location, nil), http.StatusOK)
		assert.Equal(t, dokv.FlowJobCompleted, got.Status)
		require.NotNil(t, got.EndedAt)
		for _, task := range got.Tasks {
			assert.Equal(t, dokv.FlowJobTaskCompleted, task.Status, task.NodeID)
		}

		// A terminal job keeps its status.
		requireAPIError(t, doJSON(t, w, http.MethodPatch, location, map[string]any{"status": "running"}), http.StatusConflict)
		same := decodeJob(t, doJSON(t, w, http.MethodPatch, location, map[string]any{"status": "completed"}), http.StatusOK)
		assert.Equal(t, got.UpdatedAt, same.UpdatedAt)

		// Listed as completed, not as running.
		assert.Contains(t, listJobIDs(t, w, "completed"), job.ID)
		assert.NotContains(t, listJobIDs(t, w, "running"), job.ID)
	})

	t.Run("concurrent task updates", func(t *testing.T) {
		nodes := []string{"n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7"}
		job, location := createJob(t, w, nodes...)
		var wg sync.WaitGroup
		errs := make(chan error, len(nodes))
		for _, node := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body, _ := json.Marshal(map[string]any{"status": "completed", "result": node})
				resp, err := doRequest(w, http.MethodPatch, location+"/tasks/"+node, body)
				if err == nil && resp.Status != http.StatusOK {
					err = fmt.Errorf("PATCH task %s: %s", node, resp)
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			assert.NoError(t, err)
		}

		got := decodeJob(t, do(t, w, http.MethodGet, location, nil), http.StatusOK)
		assert.Equal(t, dokv.FlowJobCompleted, got.Status, "every task completed, so the job must be")
		assert.NotNil(t, got.EndedAt)
		require.Len(t, got.Tasks, len(nodes))
		for _, node := range nodes {
			task, ok := got.Task(node)
			require.True(t, ok, node)
			assert.Equal(t, dokv.FlowJobTaskCompleted, task.Status, "task %s lost its update", node)
			assert.JSONEq(t, fmt.Sprintf("%q", node), string(task.Result), node)
		}
		assert.Contains(t, listJobIDs(t, w, "completed"), job.ID)
	})

	t.Run("bad requests", func(t *testing.T) {
		requireAPIError(t, doJSON(t, w, http.MethodPost, "/jobs", map[string]any{"storageId": "s"}), http.StatusBadRequest)
		requireAPIError(t, doJSON(t, w, http.MethodPost, "/jobs", map[string]any{"flowId": "f", "storageId": "s", "nodes": []string{"a", "a"}}), http.StatusBadRequest)
		requireAPIError(t, doJSON(t, w, http.MethodPatch, "/jobs/no-such-job", map[string]any{"status": "running"}), http.StatusNotFound)
		requireAPIError(t, doJSON(t, w, http.MethodPatch, "/jobs/no-such-job/tasks/a", map[string]any{"status": "running"}), http.StatusNotFound)
		requireAPIError(t, do(t, w, http.MethodGet, "/jobs?status=bogus", nil), http.StatusBadRequest)
		resp := do(t, w, http.MethodDelete, "/jobs", nil)
		requireAPIError(t, resp, http.StatusMethodNotAllowed)
		assert.Equal(t, "GET, HEAD, POST", resp.Header.Get("Allow"))
	})
}

// listJobIDs lists the IDs of the jobs with the status, following next.
func listJobIDs(t *testing.T, w *workerdtest.Worker, status string) []string {
	t.Helper()
	var ids []string
	after := ""
	for range 100 {
		resp := do(t, w, http.MethodGet, "/jobs?status="+url.QueryEscape(status)+"&limit=1000&after="+url.QueryEscape(after), nil)
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

// restartBody is the distinct body of key i of the restart test.
func restartBody(i int) []byte {
	return append([]byte(fmt.Sprintf("restart-%d:", i)), randomBytes(uint64(i)+100, 64+i%200)...)
}

func TestExampleWorker_RestartKeepsAcknowledgedWrites(t *testing.T) {
	const keys, workers = 1000, 8
	w := startExample(t)

	start := time.Now()
	var (
		acked    [keys]atomic.Bool
		next     atomic.Int64
		failures atomic.Int64
		wg       sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= keys {
					return
				}
				resp, err := doRequest(w, http.MethodPut, fmt.Sprintf("/sharded/restart-%d", i), restartBody(i))
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
	require.Equal(t, http.StatusNoContent, do(t, w, http.MethodPut, "/single/restart/single", single).Status)
	require.Equal(t, http.StatusNoContent, do(t, w, http.MethodPut, "/perkey/restart/perkey", perKey).Status)

	w.Kill()
	require.NoError(t, w.Start(), "restarting workerd on the same storage")

	found, wrong := 0, 0
	var mu sync.Mutex
	next.Store(0)
	for range workers {
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
				resp, err := doRequest(w, http.MethodGet, fmt.Sprintf("/sharded/restart-%d", i), nil)
				mu.Lock()
				switch {
				case err != nil:
					wrong++
					t.Errorf("GET restart-%d after the restart: %v", i, err)
				case resp.Status != http.StatusOK:
					wrong++
					t.Errorf("GET restart-%d after the restart: %s", i, resp)
				case !bytes.Equal(restartBody(i), resp.Body):
					wrong++
					t.Errorf("GET restart-%d after the restart: got %q, want %q", i, resp.Body, restartBody(i))
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

	resp := do(t, w, http.MethodGet, "/single/restart/single", nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
	assert.Equal(t, single, resp.Body)
	resp = do(t, w, http.MethodGet, "/perkey/restart/perkey", nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
	assert.Equal(t, perKey, resp.Body)
}

func TestExampleWorker_PanicAndBadInputDoNotKillTheInstance(t *testing.T) {
	w := startExample(t)

	// A key and a job written before the bad requests.
	resp := do(t, w, http.MethodPut, "/single/before", []byte("before"))
	require.Equal(t, http.StatusNoContent, resp.Status, "%s", resp)
	job, location := createJob(t, w, "a")

	// Invalid keys: not UTF-8, too long.
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		requireAPIError(t, do(t, w, method, "/single/%FF", []byte("x")), http.StatusBadRequest, "%s /single/%%FF", method)
		requireAPIError(t, do(t, w, method, "/sharded/a%C3", []byte("x")), http.StatusBadRequest, "%s /sharded/a%%C3", method)
	}
	requireAPIError(t, do(t, w, http.MethodPut, "/perkey/"+strings.Repeat("k", 2049), []byte("x")), http.StatusBadRequest)

	// Too large: a body over dokv.MaxEntryBytes, and a key and body that
	// together exceed it.
	for _, p := range examplePatterns {
		requireAPIError(t, do(t, w, http.MethodPut, "/"+p+"/too-large", make([]byte, dokv.MaxEntryBytes+1)), http.StatusRequestEntityTooLarge, p)
		requireAPIError(t, do(t, w, http.MethodPut, "/"+p+"/too-large", make([]byte, dokv.MaxEntryBytes+4096)), http.StatusRequestEntityTooLarge, p)
		requireAPIError(t, do(t, w, http.MethodPut, "/"+p+"/too-large", make([]byte, dokv.MaxEntryBytes)), http.StatusRequestEntityTooLarge, p)
		requireAPIError(t, do(t, w, http.MethodGet, "/"+p+"/too-large", nil), http.StatusNotFound, "a rejected write changes nothing")
	}
	requireAPIError(t, do(t, w, http.MethodPost, "/jobs", make([]byte, dokv.MaxEntryBytes+1)), http.StatusRequestEntityTooLarge)

	// Malformed JSON.
	for _, body := range []string{`{"flowId": "f", "storageId":`, `not json`, `{"flowId": "f", "storageId": "s", "bogus": 1}`, `{"flowId": "f", "storageId": "s"} {}`, ``} {
		requireAPIError(t, do(t, w, http.MethodPost, "/jobs", []byte(body)), http.StatusBadRequest, "POST /jobs %q", body)
	}
	requireAPIError(t, do(t, w, http.MethodPatch, location, []byte(`{"status": 7}`)), http.StatusBadRequest)
	requireAPIError(t, do(t, w, http.MethodPatch, location+"/tasks/a", []byte(`{"status": "exploded"}`)), http.StatusBadRequest)

	// Unknown routes and methods.
	requireAPIError(t, do(t, w, http.MethodGet, "/no/such/route", nil), http.StatusNotFound)
	resp = do(t, w, http.MethodPost, "/single/k", []byte("x"))
	requireAPIError(t, resp, http.StatusMethodNotAllowed)
	assert.Equal(t, "DELETE, GET, HEAD, PUT", resp.Header.Get("Allow"))
	requireAPIError(t, do(t, w, http.MethodGet, "/single/?limit=0", nil), http.StatusBadRequest)

	// The same instance still serves, with its state.
	resp = do(t, w, http.MethodGet, "/single/before", nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
	assert.Equal(t, "before", string(resp.Body))
	resp = do(t, w, http.MethodPut, "/single/after", []byte("after\x00\xff"))
	require.Equal(t, http.StatusNoContent, resp.Status, "%s", resp)
	resp = do(t, w, http.MethodGet, "/single/after", nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
	assert.Equal(t, "after\x00\xff", string(resp.Body))
	got := decodeJob(t, do(t, w, http.MethodGet, location, nil), http.StatusOK)
	assert.Equal(t, job.ID, got.ID)
	assert.Equal(t, dokv.FlowJobPending, got.Status)
	resp = do(t, w, http.MethodGet, "/", nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp)

	// No Go instance died and was replaced on the way.
	assert.NotContains(t, w.Log(), "the Go instance exited")
	assert.NotContains(t, w.Log(), "panic")
}
