package e2e

import (
	"fmt"
	"math/rand/v2"
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
	values := make([][]byte, 0, len(exactjson.AwkwardValues)+100)
	for _, v := range exactjson.AwkwardValues {
		values = append(values, []byte(v))
	}
	rng := rand.New(rand.NewPCG(16, 17))
	for range 100 {
		v := make([]byte, rng.IntN(300))
		for i := range v {
			v[i] = byte(rng.IntN(256))
		}
		values = append(values, v)
	}
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
