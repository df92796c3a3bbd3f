package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/worker/workerhttp"
)

// The app's HTTP tests are the suite in package apptest, which suite_test.go
// runs on the in-memory namespace. The tests here need the package's
// unexported names: GET / answers routesText, and statusOf and writeError
// map errors to statuses.

// get answers GET path, with headers given as name, value pairs, by the
// app made with opts over a fresh in-memory namespace.
func get(t *testing.T, path string, headers []string, opts ...Option) (*http.Response, string) {
	t.Helper()
	h, err := New(dokv.NewMemoryNamespace(), opts...)
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	workerhttp.FromHandler(h).ServeHTTP(rec, req)
	return rec.Result(), rec.Body.String()
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

func TestRoot(t *testing.T) {
	resp, body := get(t, "/", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, routesText, body)

	greeting := "Hello from the test"
	resp, body = get(t, "/", nil, WithGreeting(func() string { return greeting }))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, greeting+"\n\n"+routesText, body)

	resp, body = get(t, "/", nil, WithGreeting(func() string { return "" }))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, routesText, body)
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
