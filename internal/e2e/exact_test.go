package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// awkwardValues are values a path that re-encodes JSON would change, as
// clients send them: whitespace, <>&, U+2028/2029, numbers beyond float64,
// duplicate keys, invalid UTF-8, binary and the empty value.
var awkwardValues = []string{
	``, ` `, `{"a": 1}`, "{\n  \"a\": 1\n}\n", `  "padded"  `, `"<b>&amp;</b>"`,
	`{"html":"<script>alert(1)</script>"}`, "\"\u2028\u2029\"", `"\u2028"`,
	`123456789012345678901234567890.123456789e-400`, `-0`, `{"a":1,"a":2}`,
	"\"\xff\xfe\"", "\xff\x00\x01", "plain text", `null`, `"é 中文 😀"`, "\t[1,\t2]",
}

// On workerd, values as clients write them go out through the built dokv
// command's export and come back through its import (both through the
// example Worker's admin route) byte for byte.
func TestExampleWorker_ExportImportIsByteExact(t *testing.T) {
	w := startExample(t)
	dokvBin := buildDokv(t)
	values := make([][]byte, 0, len(awkwardValues)+100)
	for _, v := range awkwardValues {
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
