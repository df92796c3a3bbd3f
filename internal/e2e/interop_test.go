package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/internal/workerdtest"
	"github.com/dokv/dokv/internal/workerfiles"
)

// interop is the glue test Worker with testdata/interop/interop.mjs as its
// main module, bundled with esbuild with the real npm client
// (@uploadista/kv-store-cloudflare-do and effect, installed pinned by
// npm ci): TypeScript on DokvObject beside Go's fetch.
var interop = &sharedWorker{
	pkg:     "./internal/e2e/glueworker",
	config:  interopConfig(),
	prepare: withInteropModule(interopConfig()),
}

func interopConfig() workerfiles.Config {
	return workerfiles.Config{Name: "dokv-interop", Bindings: []string{"KV"}, UniqueKey: "dokv-e2e-interop"}
}

// withInteropModule returns a prepare step that makes
// testdata/interop/interop.mjs, bundled with the npm client, the main
// module of a Worker built with config c (whose binding must be KV).
func withInteropModule(c workerfiles.Config) func(w *workerdtest.Worker) error {
	return func(w *workerdtest.Worker) error {
		root, err := workerdtest.RepoRoot()
		if err != nil {
			return err
		}
		esbuild := filepath.Join(root, "node_modules", ".bin", "esbuild")
		bundle := exec.Command(esbuild, filepath.Join("internal", "e2e", "testdata", "interop", "interop.mjs"),
			"--bundle", "--format=esm", "--platform=neutral", "--main-fields=module,main",
			"--external:./entry.mjs", "--outfile="+filepath.Join(w.Dir, "interop.mjs"))
		bundle.Dir = root
		if out, err := bundle.CombinedOutput(); err != nil {
			return fmt.Errorf("bundling the npm client (npm ci installs it): %v\n%s", err, out)
		}
		config := strings.Replace(workerfiles.WorkerdConfig(c), `(name = "entry.mjs", esModule = embed "entry.mjs"),`,
			`(name = "interop.mjs", esModule = embed "interop.mjs"),
    (name = "entry.mjs", esModule = embed "entry.mjs"),`, 1)
		return os.WriteFile(filepath.Join(w.Dir, "workerd.capnp"), []byte(config), 0o644)
	}
}

type tsResult struct {
	Value json.RawMessage `json:"value"`
	Dates []string        `json:"dates"`
	Error string          `json:"error"`
}

// post sends value (if not nil) as JSON to path on the interop Worker and
// returns its answer.
func post(t *testing.T, w *workerdtest.Worker, path string, value any) tsResult {
	t.Helper()
	var body io.Reader = http.NoBody
	if value != nil {
		data, err := json.Marshal(value)
		require.NoError(t, err)
		body = bytes.NewReader(data)
	}
	resp, err := workerdtest.Client.Post(w.URL+path, "application/json", body)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", data)
	var r tsResult
	require.NoError(t, json.Unmarshal(data, &r), "%s", data)
	return r
}

// tsCall calls an RPC method of the object named key as the npm client does.
func tsCall(t *testing.T, w *workerdtest.Worker, method, key string, value any) tsResult {
	t.Helper()
	return post(t, w, "/ts/"+method+"?key="+key, value)
}

// npmCall runs one operation of the npm client: kind "flow" or "upload",
// op "get", "set" or "delete".
func npmCall(t *testing.T, w *workerdtest.Worker, kind, op, key string, value any) tsResult {
	t.Helper()
	return post(t, w, "/npm/"+kind+"/"+op+"?key="+key, value)
}

// goJob reads the flow job at key through Go's store; ok is false on 404.
func goJob(t *testing.T, w *workerdtest.Worker, key string) (job dokv.FlowJob, version uint64, ok bool) {
	t.Helper()
	resp, err := workerdtest.Client.Get(w.URL + "/job?key=" + key)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode == http.StatusNotFound {
		return job, 0, false
	}
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", data)
	require.NoError(t, json.Unmarshal(data, &job))
	version, err = strconv.ParseUint(resp.Header.Get("X-Version"), 10, 64)
	require.NoError(t, err)
	return job, version, true
}

// goPutJob stores job at key through Go's store.
func goPutJob(t *testing.T, w *workerdtest.Worker, key string, job dokv.FlowJob) {
	t.Helper()
	data, err := json.Marshal(job)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPut, w.URL+"/job?key="+key, bytes.NewReader(data))
	require.NoError(t, err)
	resp, err := workerdtest.Client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// tsJob is a flow job as uploadista's TypeScript holds it; "$date:" marks
// the values the test Worker turns into Dates before the call.
func tsJob(id string, created string) map[string]any {
	return map[string]any{
		"id": id, "flowId": "flow-1", "storageId": "storage-1", "clientId": nil, "status": "running",
		"createdAt": created, "updatedAt": created,
		"tasks": []any{map[string]any{"nodeId": "n1", "status": "running", "createdAt": created, "updatedAt": created}},
	}
}

// The npm client's calls on dokv's object and dokv's Go store read and
// write the same records: TypeScript writes, Go reads, and back, versions
// advancing on both paths, Dates coming back as Dates, invalid records
// refused, deletes and misses as the client expects.
func TestTypeScriptClient_SharesRecordsWithGo(t *testing.T) {
	w := interop.start(t)
	key := fmt.Sprintf("job-%d", time.Now().UnixNano())

	miss := tsCall(t, w, "getFlowJob", key, nil)
	assert.JSONEq(t, `"<undefined>"`, string(miss.Value), "a missing record is undefined")

	// TypeScript sets a job with Dates; Go reads it.
	r := tsCall(t, w, "setFlowJob", key, tsJob(key, "$date:2026-12-01T10:00:00.000Z"))
	require.Empty(t, r.Error)
	job, v1, ok := goJob(t, w, key)
	require.True(t, ok)
	assert.Equal(t, key, job.ID)
	assert.Equal(t, dokv.FlowJobRunning, job.Status)
	assert.True(t, job.CreatedAt.Equal(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)))
	require.Len(t, job.Tasks, 1)
	assert.Positive(t, v1)

	// TypeScript reads it back with Dates where it set Dates.
	r = tsCall(t, w, "getFlowJob", key, nil)
	assert.ElementsMatch(t, []string{"createdAt", "updatedAt", "tasks.0.createdAt", "tasks.0.updatedAt"}, r.Dates)
	assert.NotContains(t, string(r.Value), "$dokvDates")

	// Go rewrites it; TypeScript sees Go's ISO strings, and a newer version.
	job.Status = dokv.FlowJobCompleted
	goPutJob(t, w, key, job)
	r = tsCall(t, w, "getFlowJob", key, nil)
	assert.Empty(t, r.Dates, "a record Go wrote has no Dates")
	assert.Contains(t, string(r.Value), `"status":"completed"`)
	_, v2, _ := goJob(t, w, key)
	assert.Greater(t, v2, v1)

	// A record set with strings comes back with strings.
	require.Empty(t, tsCall(t, w, "setFlowJob", key, tsJob(key, "2026-12-02T00:00:00Z")).Error)
	r = tsCall(t, w, "getFlowJob", key, nil)
	assert.Empty(t, r.Dates)
	_, v3, _ := goJob(t, w, key)
	assert.Greater(t, v3, v2, "a write from TypeScript advances the version too")

	// An invalid record is refused with an error the client sees, and
	// nothing changes.
	bad := tsJob(key, "2026-12-03T00:00:00Z")
	bad["status"] = "bogus"
	r = tsCall(t, w, "setFlowJob", key, bad)
	assert.Contains(t, r.Error, "not a valid record")
	r = tsCall(t, w, "setFlowJob", key, map[string]any{"id": key, "createdAt": 7})
	assert.Contains(t, r.Error, "not a valid record")
	_, v4, _ := goJob(t, w, key)
	assert.Equal(t, v3, v4, "a refused record stores nothing")

	// Uploads live beside the job in the same object, in a record of their own.
	r = tsCall(t, w, "setUploadFile", key, map[string]any{"id": key, "offset": 42, "storage": map[string]any{"id": "s", "type": "r2"}})
	require.Empty(t, r.Error)
	resp, err := workerdtest.Client.Get(w.URL + "/upload?key=" + key)
	require.NoError(t, err)
	upload, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "%s", upload)
	assert.Contains(t, string(upload), `"offset":42`)

	// Deletes, as the client expects: the record is gone for both sides.
	require.Empty(t, tsCall(t, w, "deleteFlowJob", key, nil).Error)
	_, _, ok = goJob(t, w, key)
	assert.False(t, ok)
	assert.JSONEq(t, `"<undefined>"`, string(tsCall(t, w, "getFlowJob", key, nil).Value))
	require.Empty(t, tsCall(t, w, "deleteFlowJob", key, nil).Error, "deleting a missing record is no error")
	assert.Contains(t, string(tsCall(t, w, "getUploadFile", key, nil).Value), `"offset":42`, "the upload is untouched")
}

// The unmodified npm client works against dokv's object: what it writes Go
// reads, what Go writes it reads, with its own error codes for misses and
// refusals.
func TestNpmClient_WorksAgainstDokvObject(t *testing.T) {
	w := interop.start(t)
	key := fmt.Sprintf("npm-%d", time.Now().UnixNano())

	assert.Equal(t, "FILE_NOT_FOUND", npmCall(t, w, "flow", "get", key, nil).Error, "a miss, as the client reports it")

	require.Empty(t, npmCall(t, w, "flow", "set", key, tsJob(key, "$date:2026-12-01T10:00:00.000Z")).Error)
	job, v1, ok := goJob(t, w, key)
	require.True(t, ok, "Go reads what the npm client wrote")
	assert.Equal(t, key, job.ID)
	r := npmCall(t, w, "flow", "get", key, nil)
	require.Empty(t, r.Error)
	assert.ElementsMatch(t, []string{"createdAt", "updatedAt", "tasks.0.createdAt", "tasks.0.updatedAt"}, r.Dates)

	job.Status = dokv.FlowJobFailed
	job.Error = "written by Go"
	goPutJob(t, w, key, job)
	r = npmCall(t, w, "flow", "get", key, nil)
	require.Empty(t, r.Error)
	assert.Contains(t, string(r.Value), `"error":"written by Go"`, "the npm client reads what Go wrote")
	_, v2, _ := goJob(t, w, key)
	assert.Greater(t, v2, v1)

	bad := tsJob(key, "2026-12-03T00:00:00Z")
	bad["status"] = "bogus"
	assert.Equal(t, "UNKNOWN_ERROR", npmCall(t, w, "flow", "set", key, bad).Error, "a refused record fails the client's set")
	_, v3, _ := goJob(t, w, key)
	assert.Equal(t, v2, v3, "and stores nothing")

	require.Empty(t, npmCall(t, w, "upload", "set", key, map[string]any{"id": key, "offset": 9}).Error)
	r = npmCall(t, w, "upload", "get", key, nil)
	require.Empty(t, r.Error)
	assert.Contains(t, string(r.Value), `"offset":9`)

	require.Empty(t, npmCall(t, w, "flow", "delete", key, nil).Error)
	_, _, ok = goJob(t, w, key)
	assert.False(t, ok, "Go sees the npm client's delete")
	assert.Equal(t, "FILE_NOT_FOUND", npmCall(t, w, "flow", "get", key, nil).Error)
}
