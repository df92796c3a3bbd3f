package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
)

// The example Worker's stats routes report the Durable Objects' figures:
// keys and bytes of the store, SQLite's database size, newest version.
func TestExampleWorker_Stats(t *testing.T) {
	w := startExample(t)
	stats := func(name string) dokv.StoreStats {
		t.Helper()
		resp := w.do(t, http.MethodGet, "/stats/"+name, nil)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp)
		var st dokv.StoreStats
		require.NoError(t, json.Unmarshal(resp.Body, &st), "%s", resp)
		return st
	}
	before := stats("sharded")
	value := make([]byte, 1000)
	for i := range 40 {
		require.Equal(t, http.StatusNoContent, w.do(t, http.MethodPut, fmt.Sprintf("/sharded/stats-%d", i), value).Status)
	}
	after := stats("sharded")
	require.Len(t, after.Objects, len(before.Objects))
	assert.Equal(t, before.Keys+40, after.Keys)
	assert.GreaterOrEqual(t, after.Bytes-before.Bytes, int64(40*1000), "the values' bytes are counted")
	assert.Greater(t, after.StorageBytes, after.Bytes, "SQLite's database size includes its pages and tables")
	assert.Greater(t, after.NewestVersion, before.NewestVersion)
	for _, o := range after.Objects {
		assert.Positive(t, o.StorageBytes, "%s", o.Object)
		assert.False(t, o.NearLimit)
	}
	single := stats("single")
	assert.Len(t, single.Objects, 1)

	// A client reads camelCase names, and no zero time for an alarm that
	// is not due.
	resp := w.do(t, http.MethodGet, "/stats/sharded", nil)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(resp.Body, &raw), "%s", resp)
	assert.Contains(t, raw, "storageBytes")
	assert.Contains(t, raw, "objectsNearLimit")
	assert.NotContains(t, string(resp.Body), "0001-01-01")
	assert.NotContains(t, string(resp.Body), `"NearLimit"`, "no Go field names")
}
