//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/dokv/dokv/internal/workerdtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The README's recipe: a TypeScript Worker whose Durable Object binding
// names the Go Worker's DokvObject (script_name = the Go Worker's name),
// both run by one `wrangler dev -c ts/wrangler.toml -c go/wrangler.toml`.
// The TypeScript Worker is the one type-checked in CI; each of its routes
// calls DokvObject's record methods, which only dokv's entry module answers
// as seen here (a Date set from TypeScript comes back a Date).
func TestWranglerDev_TypeScriptWorkerBindsTheGoWorkersClass(t *testing.T) {
	bin := wrangler(t)
	dir := t.TempDir()
	goDir, tsDir := filepath.Join(dir, "go"), filepath.Join(dir, "ts")
	require.NoError(t, os.MkdirAll(tsDir, 0o755))
	require.NoError(t, os.MkdirAll(goDir, 0o755))
	goToml, err := os.ReadFile(filepath.Join("..", "..", "examples", "worker", "wrangler.toml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(goDir, "wrangler.toml"), goToml, 0o644))
	var out bytes.Buffer
	require.NoError(t, run([]string{"build", "-dir", filepath.Join(goDir, "build"), "../../examples/worker"}, &out))
	goWorker, err := readWrangler(filepath.Join(goDir, "wrangler.toml"))
	require.NoError(t, err)

	worker, err := os.ReadFile(filepath.Join("..", "..", "internal", "workerfiles", "testdata", "tsworker", "worker.ts"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(tsDir, "worker.ts"), worker, 0o644))
	tsToml := `name = "ts-worker"
main = "worker.ts"
compatibility_date = "` + goWorker.CompatibilityDate + `"

[[durable_objects.bindings]]
name = "DOKV"
class_name = "DokvObject"
script_name = "` + goWorker.Name + `"
`
	require.NoError(t, os.WriteFile(filepath.Join(tsDir, "wrangler.toml"), []byte(tsToml), 0o644))

	port := freePort(t)
	cmd := exec.Command(bin, "dev", "-c", "ts/wrangler.toml", "-c", "go/wrangler.toml",
		"--ip", "127.0.0.1", "--port", strconv.Itoa(port), "--inspector-port", strconv.Itoa(freePort(t)))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "WRANGLER_SEND_METRICS=false", "CI=true", "NO_UPDATE_NOTIFIER=1",
		"WRANGLER_LOG_PATH="+t.TempDir())
	// Its own process group, so that the workerd wrangler starts ends with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	log := &workerdtest.Output{}
	cmd.Stdout, cmd.Stderr = log, log
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})

	base := "http://" + addrOf(port)
	get := func(path string) (int, []byte, error) {
		resp, err := http.Get(base + path)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, body, err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, _, err := get("/emit?key=ready"); err == nil {
			break
		}
		select {
		case <-done:
			require.Fail(t, "wrangler dev exited", log.String())
		default:
		}
		require.True(t, time.Now().Before(deadline), "wrangler dev did not answer within 60s:\n%s", log.String())
		time.Sleep(200 * time.Millisecond)
	}

	status, body, err := get("/flow?key=job-1")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "%s\n%s", body, log.String())
	assert.JSONEq(t, `{"status":"running","createdAtIsDate":true}`, string(body))

	status, body, err = get("/upload?key=upload-1")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "%s\n%s", body, log.String())
	var upload struct {
		Got struct {
			ID      string `json:"id"`
			Storage struct {
				Parts []struct {
					ETag string `json:"etag"`
				} `json:"parts"`
			} `json:"storage"`
		} `json:"got"`
		Gone bool `json:"gone"`
	}
	require.NoError(t, json.Unmarshal(body, &upload), "%s", body)
	assert.Equal(t, "upload-1", upload.Got.ID)
	assert.Len(t, upload.Got.Storage.Parts, 1)
	assert.True(t, upload.Gone, "deleteUploadFile left the record: %s", body)

	status, body, err = get("/emit?key=upload-1")
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, status, "%s", body)
}
