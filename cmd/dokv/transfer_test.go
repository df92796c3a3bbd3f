package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/backup"
	"github.com/dokv/dokv/worker/workerhttp"
)

// testSecret is an admin secret of backup.AdminSecretMinBytes or more.
const testSecret = "s3cret-for-the-tests-of-the-admin-routes"

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
	h, err := backup.AdminHandler(testSecret, map[string]backup.Store{"src": backup.For(src), "dst": backup.For(dst)})
	require.NoError(t, err)
	srv := httptest.NewServer(workerhttp.FromHandler(h))
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
	rep, err := backup.Verify(context.Background(), dst, src)
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
			req, err := http.NewRequest(method, url+backup.AdminPath+path+"?store=dst", bytes.NewReader([]byte(`{"key":"evil","value":1}`+"\n")))
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

	_, err = backup.AdminHandler("", nil)
	require.ErrorIs(t, err, dokv.ErrInvalidArgument, "the routes cannot be open")
	_, err = backup.AdminHandler(testSecret[:backup.AdminSecretMinBytes-1], nil)
	require.ErrorIs(t, err, dokv.ErrInvalidArgument, "nor guessable")
}

func TestAdmin_UnknownStoreAndBadLines(t *testing.T) {
	url, _, _ := adminServer(t, 1)
	t.Setenv(secretEnv, testSecret)
	require.ErrorContains(t, run([]string{"export", "-url", url, "-store", "nope"}, io.Discard), "404")
	file := filepath.Join(t.TempDir(), "bad.jsonl")
	require.NoError(t, os.WriteFile(file, []byte("{not json}\n"), 0o644))
	require.ErrorContains(t, run([]string{"import", "-url", url, "-store", "dst", "-i", file}, io.Discard), "400")
}

func TestImport_NamesTheLineOfTheFile(t *testing.T) {
	url, _, dst := adminServer(t, 0)
	t.Setenv(secretEnv, testSecret)
	// Lines of a third of a request: the second request starts at line 4,
	// and the malformed line 5 is its line 2.
	big := func(key string) string {
		return fmt.Sprintf(`{"key":%q,"value64":"%s"}`, key, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, importChunkBytes*3/10)))
	}
	lines := []string{big("a"), "", big("b"), big("c"), "{not json}", big("d")}
	file := filepath.Join(t.TempDir(), "bad.jsonl")
	require.NoError(t, os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644))

	err := run([]string{"import", "-url", url, "-store", "dst", "-i", file}, io.Discard)
	require.ErrorContains(t, err, "400")
	require.ErrorContains(t, err, ": line 5: invalid argument: ")
	for _, key := range []string{"a", "b"} {
		_, err := dst.Get(context.Background(), key)
		require.NoError(t, err, "the first request, before the bad line, was imported")
	}
}

func TestExport_AFailureLeavesTheFileAsItWas(t *testing.T) {
	url, _, _ := adminServer(t, 3)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	dir := t.TempDir()
	partial := []byte(`{"key":"key-00000","version":1,"value":{"i":0}}` + "\n" + `{"key":"key-0`)
	for _, tc := range []struct {
		name, url, secret string
	}{
		{"wrong secret", url, testSecret + "x"},
		{"unreachable", closed.URL, testSecret},
		{"unknown store", url, testSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(secretEnv, tc.secret)
			store := "src"
			if tc.name == "unknown store" {
				store = "nope"
			}
			file := filepath.Join(dir, "new.jsonl")
			require.Error(t, run([]string{"export", "-url", tc.url, "-store", store, "-o", file}, io.Discard))
			assert.NoFileExists(t, file, "the export created it and wrote nothing")

			resumed := filepath.Join(dir, "partial.jsonl")
			require.NoError(t, os.WriteFile(resumed, partial, 0o644))
			require.Error(t, run([]string{"export", "-url", tc.url, "-store", store, "-o", resumed}, io.Discard))
			data, err := os.ReadFile(resumed)
			require.NoError(t, err)
			assert.Equal(t, string(partial), string(data), "an interrupted export, partial line included, is kept")

			empty := filepath.Join(dir, "empty.jsonl")
			require.NoError(t, os.WriteFile(empty, nil, 0o644))
			require.Error(t, run([]string{"export", "-url", tc.url, "-store", store, "-o", empty}, io.Discard))
			assert.FileExists(t, empty, "a file that was there stays")
		})
	}
}

// captureProgress sends progress reports to a buffer for the test.
func captureProgress(t *testing.T) *bytes.Buffer {
	var buf bytes.Buffer
	saved := stderr
	stderr = &buf
	t.Cleanup(func() { stderr = saved })
	return &buf
}

func TestExportImport_ProgressIsOneLineEndedByANewline(t *testing.T) {
	url, _, _ := adminServer(t, 3)
	t.Setenv(secretEnv, testSecret)
	out := captureProgress(t)
	file := filepath.Join(t.TempDir(), "export.jsonl")
	require.NoError(t, run([]string{"export", "-url", url, "-store", "src", "-o", file}, io.Discard))
	assert.Regexp(t, `^exported 3 entries, \d+ bytes, \d+ entries/s\n$`, out.String())

	out.Reset()
	require.NoError(t, run([]string{"import", "-url", url, "-store", "dst", "-i", file}, io.Discard))
	assert.Regexp(t, `^imported 3 entries, \d+ bytes, \d+ entries/s\n$`, out.String())

	out.Reset()
	t.Setenv(secretEnv, "wrong")
	require.Error(t, run([]string{"import", "-url", url, "-store", "dst", "-i", file}, io.Discard))
	assert.Empty(t, out.String(), "a refused import reports no progress")
}

func TestProgress_ReportsOnceAndEndsItsLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		tty  bool
		want string
	}{
		// A log gets one line a report, and not the last one twice.
		{"log", false, "copied 2 entries, 20 bytes, R\ncopied 3 entries, 30 bytes, R\n"},
		// A terminal sees one line redrawn, ended by a newline.
		{"terminal", true, "\rcopied 2 entries, 20 bytes, R\rcopied 3 entries, 30 bytes, R\rcopied 3 entries, 30 bytes, R\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := &progress{w: &buf, tty: tc.tty, verb: "copied", start: time.Now()}
			p.add(2, 20) // a report: more than a second since the last (none)
			p.last = time.Time{}
			p.add(1, 10)
			p.done(false)
			got := regexp.MustCompile(`\d+ entries/s *`).ReplaceAllString(buf.String(), "R")
			assert.Equal(t, tc.want, got)
		})
	}
	var buf bytes.Buffer
	p := &progress{w: &buf, verb: "copied", start: time.Now(), last: time.Now()}
	p.add(1, 10)
	p.done(true)
	assert.Empty(t, buf.String(), "a failure before the first report adds none")
}
