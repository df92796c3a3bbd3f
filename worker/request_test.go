package worker_test

import (
	"context"
	"fmt"
	"maps"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/worker"
)

func TestNewRequest_ParsesTheURL(t *testing.T) {
	cases := []struct {
		url, path, query string
	}{
		{"https://example.com/a%20b/c?x=1&y=%2F", "/a b/c", "x=1&y=%2F"},
		{"http://h:8787", "/", ""},
		{"http://h/?q", "/", "q"},
		{"http://h/k#frag", "/k", ""},
		{"/local/path?z=9", "/local/path", "z=9"},
		{"http://h/%2F%2F..%2Fy", "///../y", ""},
	}
	for _, c := range cases {
		r, err := worker.NewRequest(context.Background(), "GET", c.url, nil, nil)
		require.NoError(t, err, c.url)
		assert.Equal(t, c.path, r.Path, c.url)
		assert.Equal(t, c.query, r.RawQuery, c.url)
		assert.Equal(t, c.url, r.URL)
	}
}

func TestNewRequest_RefusesMalformedPaths(t *testing.T) {
	for _, url := range []string{"http://h/%zz", "http://h/a%2", "relative/path"} {
		_, err := worker.NewRequest(context.Background(), "GET", url, nil, nil)
		assert.ErrorIs(t, err, worker.ErrBadURL, url)
	}
}

func TestRequest_QueryAndHeaders(t *testing.T) {
	r, err := worker.NewRequest(context.Background(), "PUT", "http://h/p?prefix=a+b%2Fc&limit=5&bad=%zz&limit=6",
		map[string][]string{"Content-Type": {"text/plain"}, "X-Many": {"1", "2"}}, []byte("body"))
	require.NoError(t, err)
	assert.Equal(t, "a b/c", r.Query("prefix"))
	assert.Equal(t, "5", r.Query("limit"), "the first value wins")
	assert.Equal(t, "", r.Query("bad"), "a malformed value reads as empty")
	assert.Equal(t, "", r.Query("missing"))

	assert.Equal(t, "text/plain", r.Header("content-type"), "names are case-insensitive")
	assert.Equal(t, "1, 2", r.Header("X-MANY"))
	_, ok := r.LookupHeader("X-Absent")
	assert.False(t, ok)
	all := maps.Collect(r.Headers())
	assert.Equal(t, map[string]string{"content-type": "text/plain", "x-many": "2"}, all)
	assert.Equal(t, []byte("body"), r.Body)
	assert.Equal(t, context.Background(), r.Context())
}

func TestResponseWriter_HeadersStatusAndBody(t *testing.T) {
	var w worker.ResponseWriter
	assert.Equal(t, 200, w.Status(), "the zero value answers 200")
	w.AddHeader("Vary", "a")
	w.AddHeader("vary", "b")
	w.SetHeader("Content-Type", "text/plain")
	w.SetHeader("X-Evil", "a\r\nInjected: 1")
	w.SetHeader("content-type", "application/json")
	assert.Equal(t, "application/json", w.Header("Content-Type"))
	assert.Equal(t, "a  Injected: 1", w.Header("x-evil"), "a newline cannot end a header early")
	w.DelHeader("VARY")
	assert.Equal(t, "", w.Header("Vary"))
	var names []string
	for name := range w.Headers() {
		names = append(names, name)
	}
	assert.Equal(t, []string{"X-Evil", "content-type"}, names)

	w.WriteHeader(201)
	w.WriteHeader(500)
	_, _ = w.WriteString("a")
	_, _ = w.Write([]byte("b"))
	assert.Equal(t, 201, w.Status(), "only the first status counts")
	assert.Equal(t, []byte("ab"), w.Body())
}

// A Handler is plain Go: serve a request into a ResponseWriter of your own.
func ExampleHandlerFunc() {
	h := worker.HandlerFunc(func(w *worker.ResponseWriter, r *worker.Request) {
		w.SetHeader("Content-Type", "text/plain")
		fmt.Fprintf(w, "%s %s, key %q", r.Method, r.Path, r.Query("key"))
	})
	r, _ := worker.NewRequest(context.Background(), "GET", "https://worker.example/notes/a%20b?key=n1", nil, nil)
	var w worker.ResponseWriter
	h.ServeFetch(&w, r)
	fmt.Println(w.Status(), w.Header("Content-Type"))
	fmt.Println(string(w.Body()))
	// Output:
	// 200 text/plain
	// GET /notes/a b, key "n1"
}
