package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/backup"
	"github.com/dokv/dokv/internal/workerdtest"
)

// exampleAdminSecret enables the example Worker's admin routes in these
// tests (a Worker secret in production): backup.AdminSecretMinBytes or more.
const exampleAdminSecret = "e2e-admin-secret-long-enough-to-guard-stores"

// buildDokv builds cmd/dokv into a temporary directory and returns its path.
func buildDokv(t *testing.T) string {
	t.Helper()
	root, err := workerdtest.RepoRoot()
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "dokv")
	build := exec.Command("go", "build", "-o", bin, "./cmd/dokv")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// runDokv runs the dokv command bin with args and the admin secret in its
// environment, and returns its standard error.
func runDokv(bin, secret string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "DOKV_ADMIN_SECRET="+secret)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	return stderr.String(), err
}

// On workerd, through the example Worker's admin route: dokv export of the
// sharded store and dokv import into the single one, an import cut off and
// run again, an import refused at a malformed line, refusals without the
// secret (which leave no file behind), and one progress line a command.
func TestExampleWorker_ExportImportThroughTheAdminRoute(t *testing.T) {
	w := startExample(t)
	dokvBin := buildDokv(t)
	for i := range 30 {
		require.Equal(t, http.StatusNoContent, w.do(t, http.MethodPut, fmt.Sprintf("/sharded/backup-%02d", i), []byte{byte(i), 0xff}).Status)
	}
	for _, auth := range []string{"", "Bearer wrong"} {
		req, err := http.NewRequest(http.MethodGet, w.URL+backup.AdminPath+"export?store=sharded", nil)
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := workerdtest.Client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%q", auth)
	}
	req, err := http.NewRequest(http.MethodGet, w.URL+backup.AdminPath+"export?store=sharded", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "bEARER "+exampleAdminSecret)
	resp, err := workerdtest.Client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the scheme name in any case")

	file := filepath.Join(t.TempDir(), "sharded.jsonl")
	_, err = runDokv(dokvBin, "wrong", "export", "-url", w.URL, "-store", "sharded", "-o", file)
	require.Error(t, err)
	assert.NoFileExists(t, file, "a refused export leaves no file")
	assert.NotContains(t, w.Log(), exampleAdminSecret, "the secret is never logged")

	stderr, err := runDokv(dokvBin, exampleAdminSecret, "export", "-url", w.URL, "-store", "sharded", "-o", file)
	require.NoError(t, err, stderr)
	assert.Regexp(t, `^exported 30 entries, \d+ bytes, \d+ entries/s\n$`, stderr, "one progress line")
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	lines := bytes.SplitAfter(data, []byte("\n"))
	require.GreaterOrEqual(t, len(lines), 30)

	// An import cut off after ten lines, then run again whole.
	half := filepath.Join(t.TempDir(), "half.jsonl")
	require.NoError(t, os.WriteFile(half, bytes.Join(lines[:10], nil), 0o644))
	stderr, err = runDokv(dokvBin, exampleAdminSecret, "import", "-url", w.URL, "-store", "single", "-i", half)
	require.NoError(t, err, stderr)
	assert.Regexp(t, `^imported 10 entries, \d+ bytes, \d+ entries/s\n$`, stderr, "one progress line")
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, append(bytes.Join(lines[:2], nil), "{not json}\n"...), 0o644))
	stderr, err = runDokv(dokvBin, exampleAdminSecret, "import", "-url", w.URL, "-store", "single", "-i", bad)
	require.Error(t, err)
	assert.Contains(t, stderr, "400 Bad Request: line 3: invalid argument: ", "the refused line, and no internals")
	stderr, err = runDokv(dokvBin, exampleAdminSecret, "import", "-url", w.URL, "-store", "single", "-i", file)
	require.NoError(t, err, stderr)
	for i := range 30 {
		resp := w.do(t, http.MethodGet, fmt.Sprintf("/single/backup-%02d", i), nil)
		require.Equal(t, http.StatusOK, resp.Status, "backup-%02d", i)
		assert.Equal(t, []byte{byte(i), 0xff}, resp.Body)
	}
}
