// Package apptest is the HTTP test suite of the example Worker's app,
// runnable on any namespace, as dokvtest.RunConformanceTests is for
// dokv's stores: Run serves app.New over a fresh namespace per test with
// workerhttp.FromHandler and httptest, and checks the routes as a client
// sees them. The app's own tests run it on the in-memory namespace; the
// local module runs it on SQLite files (local.Open), so the example is
// known to behave the same on every host.
//
// The suite knows the app from outside, by its HTTP API: where a test needs
// one of the app's fixed values (the error message a client gets for an
// unexpected failure, the demo job's tasks, the prefix of the job index),
// it states it here. The app's tests run the suite, so a change of one of
// them in the app fails there at once.
package apptest

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/examples/worker/app"
	"github.com/dokv/dokv/worker/workerhttp"
)

// NewNamespace returns a fresh, empty namespace whose objects read the time
// from clock (dokv.SystemClock unless the test moves time itself, with a
// dokvtest.ManualClock). It registers its own cleanup with t, such as
// closing the namespace.
type NewNamespace func(t *testing.T, clock dokv.Clock) dokv.Namespace

// test is one HTTP test of the suite. Its name is the one it had as a
// test function of package app, so that a failure reads the same.
type test struct {
	name string
	run  func(t *testing.T, newNamespace NewNamespace)
}

// Run runs every HTTP test of the app as a subtest of t, each on
// namespaces from newNamespace: the byte stores, flow jobs and their
// listing, the demo job, watch tokens, TTLs and job retention (on a
// dokvtest.ManualClock), the admin and stats routes, and the dashboard's
// assets. A subtest is named after the test it runs
// ("TestFlowJobLifecycle"). Where the answer depends on what the
// namespace can do, the test reads it from the namespace's type (a watch
// is handed on only by a driver.WebSocketForwarder), so no test is
// skipped.
func Run(t *testing.T, newNamespace NewNamespace) {
	for _, tc := range tests() {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newNamespace) })
	}
}

func tests() []test {
	var all []test
	all = append(all, byteTests()...)
	all = append(all, routingTests()...)
	all = append(all, jobTests()...)
	all = append(all, dashboardTests()...)
	all = append(all, lifecycleTests()...)
	all = append(all, statsTests()...)
	return all
}

// internalMessage is all the app tells a client of an unexpected failure.
const internalMessage = "internal error"

// keyList is the body of a key listing, GET /<pattern>/.
type keyList struct {
	Keys []string `json:"keys"`
	Next string   `json:"next"`
}

// jobList is the body of GET /jobs.
type jobList struct {
	Jobs []dokv.FlowJob `json:"jobs"`
	Next string         `json:"next"`
}

// patterns are the byte stores' paths, one per scaling pattern.
var patterns = []string{"single", "perkey", "sharded"}

// testServer serves the application over a namespace.
type testServer struct {
	t   *testing.T
	ns  dokv.Namespace
	srv *httptest.Server
}

// newTestServer serves the application over a fresh namespace on the
// system clock.
func newTestServer(t *testing.T, newNamespace NewNamespace, opts ...app.Option) *testServer {
	t.Helper()
	return newTestServerOn(t, newNamespace(t, dokv.SystemClock()), opts...)
}

// newTestServerOn serves the application over ns, until the test ends.
func newTestServerOn(t *testing.T, ns dokv.Namespace, opts ...app.Option) *testServer {
	t.Helper()
	h, err := app.New(ns, opts...)
	require.NoError(t, err)
	srv := httptest.NewServer(workerhttp.FromHandler(h))
	t.Cleanup(srv.Close)
	return &testServer{t: t, ns: ns, srv: srv}
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

// get sends GET path with the headers given as name, value pairs.
func (s *testServer) get(path string, headers ...string) (*http.Response, string) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.srv.URL+path, nil)
	require.NoError(s.t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := s.srv.Client().Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return resp, string(body)
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

// captureLog runs f with the standard logger writing to a buffer, and
// returns what f logged.
func captureLog(t *testing.T, f func()) string {
	t.Helper()
	var buf bytes.Buffer
	saved := log.Writer()
	log.SetOutput(&buf)
	defer log.SetOutput(saved)
	f()
	return buf.String()
}
