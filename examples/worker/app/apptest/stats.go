package apptest

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/examples/worker/app"
)

// statsTests are the stats routes' tests.
func statsTests() []test {
	return []test{
		{"TestStatsRoutes", testStatsRoutes},
	}
}

func testStatsRoutes(t *testing.T, newNamespace NewNamespace) {
	s := newTestServer(t, newNamespace)
	for _, key := range []string{"a", "b", "c"} {
		resp, body := s.do(http.MethodPut, "/sharded/"+key, []byte("value"))
		require.Equal(t, http.StatusNoContent, resp.StatusCode, "%s", body)
	}
	resp, body := s.do(http.MethodGet, "/stats/sharded", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	var st dokv.StoreStats
	require.NoError(t, json.Unmarshal(body, &st), "%s", body)
	assert.EqualValues(t, 3, st.Keys)
	assert.Len(t, st.Objects, app.DefaultShards)
	assert.Positive(t, st.NewestVersion)
	// What a client reads: camelCase names, one meaning per name, and no
	// zero time for an alarm that is not due.
	var raw map[string]any
	require.NoError(t, json.Unmarshal(body, &raw))
	assert.Contains(t, raw, "storageBytes")
	assert.Equal(t, float64(0), raw["objectsNearLimit"], "the store counts its objects near the limit")
	assert.NotContains(t, raw, "nextAlarm", "no key expires")
	assert.NotContains(t, string(body), "0001-01-01")
	first := raw["objects"].([]any)[0].(map[string]any)
	assert.Equal(t, false, first["nearLimit"], "an object flags whether it is near the limit")
	assert.Contains(t, first, "newestVersion")

	resp, body = s.do(http.MethodGet, "/stats/single", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	require.NoError(t, json.Unmarshal(body, &st))
	assert.Zero(t, st.Keys)
	assert.Len(t, st.Objects, 1)

	resp, body = s.do(http.MethodGet, "/stats/perkey", nil)
	requireError(t, resp, body, http.StatusNotFound)
	resp, body = s.do(http.MethodPost, "/stats/single", nil)
	requireError(t, resp, body, http.StatusMethodNotAllowed)
}
