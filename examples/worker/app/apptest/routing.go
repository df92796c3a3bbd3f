package apptest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/examples/worker/app"
	"github.com/dokv/dokv/worker/workerhttp"
)

// routingTests are the answers to wrong routes, panics and canceled requests.
func routingTests() []test {
	return []test{
		{"TestRoutingErrorsAreJSON", testRoutingErrorsAreJSON},
		{"TestPanicBecomes500", testPanicBecomes500},
		{"TestCanceledRequestIs503", testCanceledRequestIs503},
	}
}

func testRoutingErrorsAreJSON(t *testing.T, newNamespace NewNamespace) {
	s := newTestServer(t, newNamespace)
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

func testPanicBecomes500(t *testing.T, newNamespace NewNamespace) {
	s := newTestServer(t, newNamespace, app.WithGreeting(func() string { panic("greeting broke") }))
	resp, body := s.do(http.MethodGet, "/", nil)
	msg := requireError(t, resp, body, http.StatusInternalServerError)
	assert.Equal(t, internalMessage, msg)
	assert.NotContains(t, string(body), "greeting broke")
	// The server goes on serving.
	resp, _ = s.do(http.MethodPut, "/single/k", []byte("v"))
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
}

func testCanceledRequestIs503(t *testing.T, newNamespace NewNamespace) {
	h, err := app.New(newNamespace(t, dokv.SystemClock()))
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
