package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/workerdtest"
	"github.com/dokv/dokv/internal/workerfiles"
	"github.com/dokv/dokv/worker"
)

// glue is the package's one glue test Worker (./internal/e2e/glueworker).
var glue = &sharedWorker{pkg: "./internal/e2e/glueworker", config: workerfiles.Config{
	Name: "dokv-glue", Bindings: []string{"KV"}, UniqueKey: "dokv-e2e-glue", Vars: map[string]string{"PLAIN": "text"},
}}

// startGlue starts the glue Worker for the package's tests.
func startGlue(t *testing.T) *workerdtest.Worker { return glue.start(t) }

// glueRaw writes head to a new connection to the Worker, then, on a
// goroutine, whatever send writes (errors ignored: the server may answer
// and close first), and returns the status and body of the response.
func glueRaw(t *testing.T, w *workerdtest.Worker, head string, send func(io.Writer)) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(w.URL, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(30*time.Second)))
	_, err = io.WriteString(conn, head)
	require.NoError(t, err)
	if send != nil {
		go send(conn)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// glueDo sends a request to the glue Worker and returns its status and
// body; the client gives up after timeout.
func glueDo(ctx context.Context, w *workerdtest.Worker, method, path string, body io.Reader, timeout time.Duration) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, w.URL+path, body)
	if err != nil {
		return 0, "", err
	}
	resp, err := workerdtest.Client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

type glueStats struct {
	Active              int    `json:"active"`
	HeapInuse           uint64 `json:"heapInuse"`
	StartedAtEvaluation bool   `json:"startedAtEvaluation"`
	InitRandom          int    `json:"initRandom"`
	WarmedUp            bool   `json:"warmedUp"`
}

func glueGetStats(t *testing.T, w *workerdtest.Worker) glueStats {
	t.Helper()
	status, body, err := glueDo(context.Background(), w, http.MethodGet, "/stats", nil, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, body)
	var s glueStats
	require.NoError(t, json.Unmarshal([]byte(body), &s), body)
	return s
}

// A request that waits while the Go instance exits, and a new instance
// starts, must end with an error: it must not wait forever for a response
// that the dead instance will never send.
func TestGlue_WaitingRequestsFailWhenTheInstanceExits(t *testing.T) {
	w := startGlue(t)
	type outcome struct {
		status int
		err    error
	}
	waiting := make(chan outcome, 1)
	go func() {
		status, _, err := glueDo(context.Background(), w, http.MethodGet, "/sleep?ms=4000", nil, 10*time.Second)
		waiting <- outcome{status, err}
	}()
	time.Sleep(300 * time.Millisecond) // the sleep is under way
	status, _, err := glueDo(context.Background(), w, http.MethodPost, "/exit", nil, 10*time.Second)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, status, 500, "a request whose handler ends the instance fails")
	// Start a new instance at once, before the waiting request's next beat.
	status, body, err := glueDo(context.Background(), w, http.MethodGet, "/sleep?ms=0", nil, 10*time.Second)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status, "a new instance serves the next request")
	assert.Equal(t, "slept", body)
	exited := time.Now()

	select {
	case o := <-waiting:
		require.NoError(t, o.err)
		assert.GreaterOrEqual(t, o.status, 500, "the waiting request fails")
		assert.Less(t, time.Since(exited), 2*time.Second)
	case <-time.After(3 * time.Second):
		t.Fatal("the request that waited when the instance exited still waits")
	}
	assert.Equal(t, 1, glueGetStats(t, w).Active, "no fetch handler is left waiting but the stats request")
}

// A store call whose context does not come from the request fails at once
// with ErrInvalidArgument's message, and the instance goes on serving.
func TestGlue_CallWithoutRequestContextFailsClearly(t *testing.T) {
	w := startGlue(t)
	start := time.Now()
	status, body, err := glueDo(context.Background(), w, http.MethodGet, "/background", nil, 10*time.Second)
	require.NoError(t, err)
	assert.Equal(t, http.StatusInternalServerError, status)
	assert.Contains(t, body, "invalid argument")
	assert.Contains(t, body, "needs the context of the request being served")
	assert.Less(t, time.Since(start), 2*time.Second)

	status, body, err = glueDo(context.Background(), w, http.MethodGet, "/sleep?ms=0", nil, 10*time.Second)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status, body)
}

// Bodies up to worker.MaxRequestBodyBytes reach the handler; larger ones get
// 413 whether or not they declare their length; and the buffer of a large
// request is not kept after it.
func TestGlue_RequestBodyLimit(t *testing.T) {
	w := startGlue(t)
	ctx := context.Background()
	limit := worker.MaxRequestBodyBytes

	status, body, err := glueDo(ctx, w, http.MethodPut, "/len", bytes.NewReader(make([]byte, limit)), 30*time.Second)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, strconv.Itoa(limit), body)

	s := glueGetStats(t, w)
	assert.Less(t, s.HeapInuse, uint64(limit/2), "the Go heap still holds the large request after it ended")

	// A declared length over the limit is answered before any of the body
	// is sent.
	status, body = glueRaw(t, w, fmt.Sprintf("PUT /len HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n", limit+1), nil)
	assert.Equal(t, http.StatusRequestEntityTooLarge, status, "declared length over the limit")
	assert.Contains(t, body, strconv.Itoa(limit))

	// A chunked body is read until it passes the limit. The server may
	// answer and close while chunks are still being sent.
	status, _ = glueRaw(t, w, "PUT /len HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", func(conn io.Writer) {
		chunk := make([]byte, 64<<10)
		for sent := 0; sent <= limit; sent += len(chunk) {
			if _, err := fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk); err != nil {
				return
			}
		}
		io.WriteString(conn, "0\r\n\r\n")
	})
	assert.Equal(t, http.StatusRequestEntityTooLarge, status, "chunked body over the limit")

	status, body, err = glueDo(ctx, w, http.MethodPut, "/len", io.MultiReader(strings.NewReader("abc")), 30*time.Second)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "3", body, "a small chunked body arrives whole")
}

// A binding that is missing, or is not a Durable Object namespace, fails in
// WorkersNamespace with ErrInvalidArgument naming it, not later on every
// call.
func TestGlue_WorkersNamespaceChecksTheBinding(t *testing.T) {
	w := startGlue(t)
	for name, want := range map[string]int{"KV": http.StatusOK, "MISSING": http.StatusBadRequest, "PLAIN": http.StatusBadRequest} {
		status, body, err := glueDo(context.Background(), w, http.MethodGet, "/binding?name="+name, nil, 10*time.Second)
		require.NoError(t, err)
		assert.Equal(t, want, status, "%s: %s", name, body)
		if want != http.StatusOK {
			assert.Contains(t, body, "invalid argument", name)
			assert.Contains(t, body, name, "the error names the binding")
		}
	}
}

// A declared Content-Length that is not a whole number (negative, signed,
// spelled otherwise) is answered 400 before any of the body is read.
// workerd's HTTP server refuses such requests itself, so they are made by
// a main module that hands a Request of its own to dokv's fetch handler, as
// a Worker that wraps dokv's does (and as a request from a service binding
// may arrive).
func TestGlue_MalformedContentLengthIsRefusedUnread(t *testing.T) {
	bin := workerdtest.Require(t)
	w, err := workerdtest.Build(bin, "./internal/e2e/glueworker", workerfiles.Config{
		Name: "dokv-wrapped", Bindings: []string{"KV"}, UniqueKey: "dokv-e2e-wrapped",
	})
	require.NoError(t, err)
	t.Cleanup(w.Remove)
	// The main module sends PUT /len with body "abc" and the Content-Length
	// of the query's cl to dokv's fetch handler.
	wrapper := `import dokv, { DokvObject } from "./entry.mjs";
export { DokvObject };
export default {
  fetch(request, env, ctx) {
    const cl = new URL(request.url).searchParams.get("cl");
    const inner = new Request(new URL("/len", request.url), { method: "PUT", headers: { "content-length": cl }, body: "abc" });
    return dokv.fetch(inner, env, ctx);
  },
};
`
	require.NoError(t, os.WriteFile(filepath.Join(w.Dir, "wrapper.mjs"), []byte(wrapper), 0o644))
	config, err := os.ReadFile(filepath.Join(w.Dir, "workerd.capnp"))
	require.NoError(t, err)
	wrapped := strings.Replace(string(config),
		`(name = "entry.mjs", esModule = embed "entry.mjs"),`,
		`(name = "wrapper.mjs", esModule = embed "wrapper.mjs"),
    (name = "entry.mjs", esModule = embed "entry.mjs"),`, 1)
	require.NoError(t, os.WriteFile(filepath.Join(w.Dir, "workerd.capnp"), []byte(wrapped), 0o644))
	require.NoError(t, w.Start())

	for _, declared := range []string{"-1", "+3", "3.0", "1e3", "0x10", "abc"} {
		status, body, err := glueDo(t.Context(), w, http.MethodGet, "/?cl="+url.QueryEscape(declared), nil, 30*time.Second)
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, status, "Content-Length: %q: %s", declared, body)
	}
	status, body, err := glueDo(t.Context(), w, http.MethodGet, "/?cl=3", nil, 30*time.Second)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "3", body)
}

// A record set over RPC (the npm client's setFlowJob) larger than an entry
// may be is refused before it is copied into Go's memory: Go would first
// have refused it as not a flow job, which it is not.
func TestGlue_OversizedRecordIsRefusedBeforeGo(t *testing.T) {
	w := interop.start(t)
	key := fmt.Sprintf("huge-%d", time.Now().UnixNano())
	r := tsCall(t, w, "setFlowJob", key, strings.Repeat("x", protocol.MaxEntryBytes+1))
	assert.Contains(t, r.Error, "value too large")
	assert.NotContains(t, r.Error, "not a valid record", "the value reached Go")
	_, _, found := goJob(t, w, key)
	assert.False(t, found, "nothing was stored")
}

// A Worker whose program asks for a binding the Worker does not have
// answers its first request 500 saying which binding is missing and which
// names are bound, in its log and, on a local run, in the response.
func TestGlue_WrongBindingNameIsNamed(t *testing.T) {
	bin := workerdtest.Require(t)
	// The glue Worker asks for KV; this config binds the namespace as JOBS.
	w, err := workerdtest.Build(bin, "./internal/e2e/glueworker", workerfiles.Config{
		Name: "dokv-misbound", Bindings: []string{"JOBS"}, UniqueKey: "dokv-e2e-misbound", Vars: map[string]string{"PLAIN": "text"},
	})
	require.NoError(t, err)
	t.Cleanup(w.Remove)
	require.NoError(t, w.Start())

	status, body, err := glueDo(t.Context(), w, http.MethodGet, "/sleep?ms=0", nil, 30*time.Second)
	require.NoError(t, err)
	assert.Equal(t, http.StatusInternalServerError, status)
	for _, want := range []string{"KV", "JOBS (Durable Object namespace)", "PLAIN (text)"} {
		assert.Contains(t, body, want, "the response")
		assert.Eventually(t, func() bool { return strings.Contains(w.Log(), want) }, 5*time.Second, 50*time.Millisecond,
			"the log names %s:\n%s", want, w.Log())
	}
}

// Go starts while the module is evaluated, before any request, so that its
// start costs no request; the Worker then serves as it would otherwise.
func TestGlue_GoStartsAtModuleEvaluation(t *testing.T) {
	// A Worker of its own: other tests end the shared one's instance.
	bin := workerdtest.Require(t)
	w, err := workerdtest.Build(bin, "./internal/e2e/glueworker", workerfiles.Config{
		Name: "dokv-evalstart", Bindings: []string{"KV"}, UniqueKey: "dokv-e2e-evalstart", Vars: map[string]string{"PLAIN": "text"},
	})
	require.NoError(t, err)
	t.Cleanup(w.Remove)
	require.NoError(t, w.Start())

	s := glueGetStats(t, w)
	assert.True(t, s.StartedAtEvaluation, "the Go instance that answered started at module evaluation")
	assert.True(t, s.WarmedUp, "the store's code ran once at module evaluation")
	assert.Zero(t, s.InitRandom)
}

// A program whose start needs what the global scope forbids (crypto/rand
// in an init) starts on its first request instead, with real randomness,
// and its log does not show the start that could not be made.
func TestGlue_StartNeedingRandomnessWaitsForTheFirstRequest(t *testing.T) {
	bin := workerdtest.Require(t)
	w, err := workerdtest.Build(bin, "./internal/e2e/glueworker", workerfiles.Config{
		Name: "dokv-randinit", Bindings: []string{"KV"}, UniqueKey: "dokv-e2e-randinit",
		Vars: map[string]string{"PLAIN": "text", "RAND_AT_INIT": "1"},
	})
	require.NoError(t, err)
	t.Cleanup(w.Remove)
	require.NoError(t, w.Start())

	s := glueGetStats(t, w)
	assert.False(t, s.StartedAtEvaluation)
	assert.False(t, s.WarmedUp, "no warm-up in a request")
	assert.Equal(t, 16, s.InitRandom, "init read crypto/rand")
	status, body, err := glueDo(t.Context(), w, http.MethodGet, "/kv?op=set&key=k&value=v", nil, 30*time.Second)
	require.NoError(t, err)
	require.Less(t, status, 300, body)
	assert.NotContains(t, w.Log(), "Disallowed operation", "the early start's failure is not shown")
	assert.NotContains(t, w.Log(), "panic")
}
