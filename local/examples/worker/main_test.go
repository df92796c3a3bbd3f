package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/local"
)

// The server as its users run it, a process of its own: a flow job and a
// value written to one process are there when another starts on the same
// directory after a SIGTERM, and while a server holds the directory, a
// second one on it fails at once, saying so.
func TestExampleServer_KeepsDataAcrossRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server and starts processes")
	}
	bin := filepath.Join(t.TempDir(), "worker")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	dir := filepath.Join(t.TempDir(), "data")
	value := []byte{0, 0xFF, 'v', '\n', 0}

	first := start(t, bin, dir, "GREETING=hello from the first")
	assert.Contains(t, first.log(), "data in "+dir, "the log says where the data lives")
	resp, body := first.do(t, http.MethodGet, "/", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, strings.HasPrefix(string(body), "hello from the first\n"), "GREETING reaches the app: %q", body)
	resp, body = first.do(t, http.MethodPost, "/jobs", []byte(`{"flowId":"f","storageId":"s","nodes":["a","b"]}`))
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", body)
	var job dokv.FlowJob
	require.NoError(t, json.Unmarshal(body, &job))
	resp, body = first.do(t, http.MethodPatch, "/jobs/"+job.ID+"/tasks/a", []byte(`{"status":"completed","result":{"n":1}}`))
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	resp, body = first.do(t, http.MethodPut, "/sharded/some/key", value)
	require.Equal(t, http.StatusNoContent, resp.StatusCode, "%s", body)
	first.stop(t)
	assert.Contains(t, first.log(), "stopped; the data stays in "+dir)

	second := start(t, bin, dir)
	resp, body = second.do(t, http.MethodGet, "/jobs/"+job.ID, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	var got dokv.FlowJob
	require.NoError(t, json.Unmarshal(body, &got))
	assert.Equal(t, dokv.FlowJobRunning, got.Status)
	require.Len(t, got.Tasks, 2)
	assert.Equal(t, dokv.FlowJobTaskCompleted, got.Tasks[0].Status)
	assert.JSONEq(t, `{"n":1}`, string(got.Tasks[0].Result))
	resp, body = second.do(t, http.MethodGet, "/jobs", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.Contains(t, string(body), job.ID, "the job index was kept too")
	resp, body = second.do(t, http.MethodGet, "/sharded/some/key", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.Equal(t, value, body)

	// A third server on the directory the second holds.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	third := exec.CommandContext(ctx, bin, "-dir", dir, "-addr", "127.0.0.1:0")
	out, err = third.CombinedOutput()
	require.NoError(t, ctx.Err(), "the third server did not fail at once: %s", out)
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "%s", out)
	assert.Equal(t, 1, exit.ExitCode())
	assert.Contains(t, string(out), local.ErrLocked.Error())
	assert.NotContains(t, string(out), "listening", "it failed before it listened")

	// The second is unharmed.
	resp, _ = second.do(t, http.MethodGet, "/jobs/"+job.ID, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	second.stop(t)
}

// server is a running server process.
type server struct {
	cmd    *exec.Cmd
	url    string
	exited chan struct{} // closed when the process has exited
	err    error         // what Wait returned, once exited is closed

	mu     sync.Mutex
	stderr bytes.Buffer
	ready  chan string // the address, once it logged it
}

// listening is the log line that gives the server's address.
var listening = regexp.MustCompile(`listening on http://(\S+)\n`)

// Write implements io.Writer for the process's standard error, watching
// for the address.
func (s *server) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stderr.Write(p)
	if m := listening.FindSubmatch(s.stderr.Bytes()); m != nil && s.ready != nil {
		s.ready <- string(m[1])
		s.ready = nil
	}
	return len(p), nil
}

// log returns what the process has logged so far.
func (s *server) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// start starts the server on dir with a free port, with env added to its
// environment, and waits until it listens. The test's cleanup kills it if
// it still runs.
func start(t *testing.T, bin, dir string, env ...string) *server {
	t.Helper()
	ready := make(chan string, 1)
	s := &server{cmd: exec.Command(bin, "-dir", dir, "-addr", "127.0.0.1:0"), exited: make(chan struct{}), ready: ready}
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stderr = s
	require.NoError(t, s.cmd.Start())
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill() // by its own PID; harmless once it exited
		<-s.exited
	})
	select {
	case addr := <-ready:
		s.url = "http://" + addr
	case <-s.exited:
		t.Fatalf("the server exited before it listened (%v):\n%s", s.err, s.log())
	case <-time.After(time.Minute):
		t.Fatalf("the server did not listen within a minute:\n%s", s.log())
	}
	return s
}

// do sends a request and returns the response with its whole body.
func (s *server) do(t *testing.T, method, path string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, bytes.NewReader(body))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, data
}

// stop sends SIGTERM and checks that the server shuts down cleanly.
func (s *server) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("the server did not stop within 30s of SIGTERM:\n%s", s.log())
	}
	require.NoError(t, s.err, "the server's exit after SIGTERM:\n%s", s.log())
}
