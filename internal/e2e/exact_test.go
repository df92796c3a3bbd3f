package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/dokv/dokv/internal/exactjson"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// On workerd, values as clients write them go out through the built dokv
// command's export and come back through its import (both through the
// example Worker's admin route) byte for byte.
func TestExampleWorker_ExportImportIsByteExact(t *testing.T) {
	w := startExample(t)
	dokvBin := buildDokv(t)
	values := exactjson.Corpus(16, 100, 299)
	for i, v := range values {
		require.Equal(t, http.StatusNoContent, w.do(t, http.MethodPut, fmt.Sprintf("/single/exact-%03d", i), v).Status)
	}

	file := filepath.Join(t.TempDir(), "exact.jsonl")
	stderr, err := runDokv(dokvBin, exampleAdminSecret, "export", "-url", w.URL, "-store", "single", "-o", file)
	require.NoError(t, err, stderr)
	stderr, err = runDokv(dokvBin, exampleAdminSecret, "import", "-url", w.URL, "-store", "sharded", "-i", file)
	require.NoError(t, err, stderr)
	for i, v := range values {
		resp := w.do(t, http.MethodGet, fmt.Sprintf("/sharded/exact-%03d", i), nil)
		require.Equal(t, http.StatusOK, resp.Status, "exact-%03d", i)
		assert.Equal(t, v, resp.Body, "exact-%03d: %q", i, v)
	}
}
