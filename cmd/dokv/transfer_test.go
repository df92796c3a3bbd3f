package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/dokvhttp"
)

const testSecret = "s3cret-for-tests"

// adminServer serves the admin routes over two in-memory stores, "src"
// (filled with n entries over 4 shards) and "dst" (empty, one object).
func adminServer(t *testing.T, n int) (url string, src, dst *dokv.Store[[]byte]) {
	t.Helper()
	ns := dokv.NewMemoryNamespace()
	var err error
	src, err = dokv.New[[]byte](ns, dokv.WithCodec(dokv.Raw()), dokv.WithPrefix("src"), dokv.WithPartitioning(dokv.HashShards(4)))
	require.NoError(t, err)
	dst, err = dokv.New[[]byte](ns, dokv.WithCodec(dokv.Raw()), dokv.WithPrefix("dst"), dokv.WithPartitioning(dokv.SingleObject("dst")))
	require.NoError(t, err)
	for i := range n {
		require.NoError(t, src.Set(context.Background(), fmt.Sprintf("key-%05d", i), []byte(fmt.Sprintf(`{"i":%d}`, i))))
	}
	h, err := dokv.AdminHandler(testSecret, map[string]dokv.AdminStore{"src": src, "dst": dst})
	require.NoError(t, err)
	srv := httptest.NewServer(dokvhttp.FromHandler(h))
	t.Cleanup(srv.Close)
	return srv.URL, src, dst
}

func TestExportImport_ThroughTheAdminRoute(t *testing.T) {
	url, src, dst := adminServer(t, 2500) // three export pages
	t.Setenv(secretEnv, testSecret)
	file := filepath.Join(t.TempDir(), "export.jsonl")
	require.NoError(t, run([]string{"export", "-url", url, "-store", "src", "-o", file}, io.Discard))
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, 2500, bytes.Count(data, []byte("\n")))

	require.NoError(t, run([]string{"import", "-url", url, "-store", "dst", "-i", file}, io.Discard))
	rep, err := dokv.Verify(context.Background(), src, dst)
	require.NoError(t, err)
	assert.True(t, rep.OK(), "%+v", rep)
	assert.Equal(t, int64(2500), rep.Compared)
}

func TestExport_ResumesAnInterruptedFile(t *testing.T) {
	url, _, _ := adminServer(t, 1200)
	t.Setenv(secretEnv, testSecret)
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.jsonl")
	require.NoError(t, run([]string{"export", "-url", url, "-store", "src", "-o", whole}, io.Discard))
	data, err := os.ReadFile(whole)
	require.NoError(t, err)

	// Cut it inside line 1001, past the first page.
	cut := bytes.Index(data, []byte(`"key-01000"`)) + 5
	part := filepath.Join(dir, "part.jsonl")
	require.NoError(t, os.WriteFile(part, data[:cut], 0o644))
	require.NoError(t, run([]string{"export", "-url", url, "-store", "src", "-o", part}, io.Discard))
	resumed, err := os.ReadFile(part)
	require.NoError(t, err)
	assert.Equal(t, string(data), string(resumed), "the partial line is replaced, nothing is repeated")
}

func TestAdmin_RefusesWithoutTheSecret(t *testing.T) {
	url, _, dst := adminServer(t, 3)
	for _, auth := range []string{"", "Bearer wrong", "Bearer " + testSecret + "x", testSecret} {
		for _, route := range []string{"GET export", "POST import"} {
			method, path, _ := strings.Cut(route, " ")
			req, err := http.NewRequest(method, url+dokv.AdminPath+path+"?store=dst", bytes.NewReader([]byte(`{"key":"evil","value":1}`+"\n")))
			require.NoError(t, err)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%q %s", auth, route)
		}
	}
	_, err := dst.Get(context.Background(), "evil")
	require.ErrorIs(t, err, dokv.ErrNotFound, "nothing was imported")

	t.Setenv(secretEnv, "wrong")
	err = run([]string{"export", "-url", url, "-store", "src"}, io.Discard)
	require.ErrorContains(t, err, "401")
	t.Setenv(secretEnv, "")
	require.ErrorContains(t, run([]string{"export", "-url", url, "-store", "src"}, io.Discard), secretEnv)

	_, err = dokv.AdminHandler("", nil)
	require.ErrorIs(t, err, dokv.ErrInvalidArgument, "the routes cannot be open")
}

func TestAdmin_UnknownStoreAndBadLines(t *testing.T) {
	url, _, _ := adminServer(t, 1)
	t.Setenv(secretEnv, testSecret)
	require.ErrorContains(t, run([]string{"export", "-url", url, "-store", "nope"}, io.Discard), "404")
	file := filepath.Join(t.TempDir(), "bad.jsonl")
	require.NoError(t, os.WriteFile(file, []byte("{not json}\n"), 0o644))
	require.ErrorContains(t, run([]string{"import", "-url", url, "-store", "dst", "-i", file}, io.Discard), "400")
}
