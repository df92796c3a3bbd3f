package workerhttp_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/worker"
	"github.com/dokv/dokv/worker/workerhttp"
)

// Handler turns each fetch request into an *http.Request with its method,
// URL, headers and body, and what the http.Handler writes into the response.
func TestHandler_ServesAnHTTPHandler(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Id", r.PathValue("id"))
		w.Header().Add("X-Seen", r.Header.Get("X-Custom"))
		w.Header().Add("X-Seen", r.RemoteAddr)
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(r.URL.Query().Get("q") + ":" + string(body) + ":" + r.RequestURI))
	})
	h := workerhttp.Handler(mux)
	r, err := worker.NewRequest(context.Background(), "PUT", "https://w.example/items/7?q=x",
		map[string][]string{"X-Custom": {"c"}, "Cf-Connecting-Ip": {"192.0.2.1"}}, []byte("payload"))
	require.NoError(t, err)
	var w worker.ResponseWriter
	h.ServeFetch(&w, r)
	assert.Equal(t, http.StatusCreated, w.Status())
	assert.Equal(t, "7", w.Header("X-Id"))
	var seen []string
	for name, value := range w.Headers() {
		if name == "X-Seen" {
			seen = append(seen, value)
		}
	}
	assert.Equal(t, []string{"c", "192.0.2.1"}, seen)
	assert.Equal(t, "x:payload:/items/7?q=x", string(w.Body()))

	// A handler that writes nothing answers 200 with its headers; a second
	// request through the same pooled writer sees none of the first's.
	h = workerhttp.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Empty(t, w.Header(), "a pooled writer starts empty")
		w.Header().Set("X-Only", "1")
	}))
	for range 3 {
		var w worker.ResponseWriter
		h.ServeFetch(&w, r)
		assert.Equal(t, 200, w.Status())
		assert.Equal(t, "1", w.Header("X-Only"))
	}
}

// FromHandler runs a worker.Handler under net/http: URL, headers and body go
// in, status, headers and body come out, and bodies over the limit get 413.
func TestFromHandler_RunsALeanHandler(t *testing.T) {
	srv := httptest.NewServer(workerhttp.FromHandler(worker.HandlerFunc(func(w *worker.ResponseWriter, r *worker.Request) {
		w.SetHeader("X-Path", r.Path)
		w.SetHeader("X-Header", r.Header("x-in"))
		w.WriteHeader(http.StatusAccepted)
		w.WriteString(r.Method + ":" + r.Query("a") + ":" + string(r.Body))
	})))
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/p%20q?a=1", strings.NewReader("hello"))
	req.Header.Set("X-In", "v")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusAccepted, resp.StatusCode)
	assert.Equal(t, "/p q", resp.Header.Get("X-Path"))
	assert.Equal(t, "v", resp.Header.Get("X-Header"))
	assert.Equal(t, "POST:1:hello", string(body))

	resp, err = http.Post(srv.URL+"/big", "application/octet-stream", bytes.NewReader(make([]byte, worker.MaxRequestBodyBytes+1)))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
}
