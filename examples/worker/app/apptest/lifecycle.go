package apptest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/backup"
	"github.com/dokv/dokv/dokvtest"
	"github.com/dokv/dokv/examples/worker/app"
)

// lifecycleTests are expiry (TTLs, job retention) and the admin routes.
func lifecycleTests() []test {
	return []test{
		{"TestBytesTTL", testBytesTTL},
		{"TestWithFlowJobRetention", testWithFlowJobRetention},
		{"TestAdminRoutesOnlyWithASecret", testAdminRoutesOnlyWithASecret},
	}
}

func testBytesTTL(t *testing.T, newNamespace NewNamespace) {
	clock := dokvtest.NewManualClock(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC))
	s := newTestServerOn(t, newNamespace(t, clock))
	for _, p := range patterns {
		resp, body := s.do(http.MethodPut, "/"+p+"/short?ttl=2s", []byte("v"))
		require.Equal(t, http.StatusNoContent, resp.StatusCode, "%s", body)
		resp, _ = s.do(http.MethodPut, "/"+p+"/long", []byte("v"))
		require.Equal(t, http.StatusNoContent, resp.StatusCode)
		for _, bad := range []string{"2", "-1s", "0s", "soon", "1000000h"} {
			resp, body = s.do(http.MethodPut, "/"+p+"/bad?ttl="+bad, []byte("v"))
			requireError(t, resp, body, http.StatusBadRequest)
		}
		resp, body = s.do(http.MethodGet, "/"+p+"/bad", nil)
		requireError(t, resp, body, http.StatusNotFound)
	}
	clock.Advance(2*time.Second - time.Millisecond)
	for _, p := range patterns {
		resp, _ := s.do(http.MethodGet, "/"+p+"/short", nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode, p)
	}
	clock.Advance(time.Millisecond)
	for _, p := range patterns {
		resp, body := s.do(http.MethodGet, "/"+p+"/short", nil)
		requireError(t, resp, body, http.StatusNotFound)
		resp, _ = s.do(http.MethodGet, "/"+p+"/long", nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode, p)
	}
}

// jobIndexPrefix is the prefix of the app's job index (GET /jobs lists
// it), whose entries expire with their jobs.
const jobIndexPrefix = "worker:jobs:"

func testWithFlowJobRetention(t *testing.T, newNamespace NewNamespace) {
	clock := dokvtest.NewManualClock(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC))
	ns := newNamespace(t, clock)
	s := newTestServerOn(t, ns, app.WithJobRetention(time.Hour))
	done := s.createJob("f", "s", "a")
	running := s.createJob("f", "s", "a")
	resp, body := s.doJSON(http.MethodPatch, "/jobs/"+done.ID, map[string]any{"status": "completed"})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)

	clock.Advance(time.Hour)
	resp, body = s.do(http.MethodGet, "/jobs/"+done.ID, nil)
	requireError(t, resp, body, http.StatusNotFound)
	assert.Equal(t, running.ID, s.getJob(running.ID).ID, "a running job is kept")
	resp, body = s.do(http.MethodGet, "/jobs", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	var list jobList
	require.NoError(t, json.Unmarshal(body, &list))
	require.Len(t, list.Jobs, 1)
	assert.Equal(t, running.ID, list.Jobs[0].ID)
	index, err := dokv.New[struct{}](ns, dokv.WithPrefix(jobIndexPrefix), dokv.WithPartitioning(dokv.HashShards(app.DefaultShards)))
	require.NoError(t, err)
	st, err := index.Stats(t.Context())
	require.NoError(t, err)
	assert.Equal(t, int64(1), st.Keys, "the finished job's index entry expired with it")
}

func testAdminRoutesOnlyWithASecret(t *testing.T, newNamespace NewNamespace) {
	secret := ""
	s := newTestServer(t, newNamespace, app.WithAdminSecret(func() string { return secret }))
	resp, _ := s.do(http.MethodGet, backup.AdminPath+"export?store=single", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "off without a secret")

	secret = "letmein"
	var body []byte
	logged := captureLog(t, func() { resp, body = s.do(http.MethodGet, backup.AdminPath+"export?store=single", nil) })
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode, "a guessable secret turns the routes off")
	assert.JSONEq(t, `{"error":"`+internalMessage+`"}`, string(body), "the client learns nothing of it")
	assert.Contains(t, logged, "at least 32", "the log says why")
	assert.NotContains(t, logged, "letmein")

	secret = "letmein-letmein-letmein-letmein-letmein"
	resp, _ = s.do(http.MethodGet, backup.AdminPath+"export?store=single", nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	req, err := http.NewRequest(http.MethodPost, s.srv.URL+backup.AdminPath+"import?store=single", strings.NewReader(`{"key":"k","value64":"aGk="}`+"\n"))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+secret)
	r, err := s.srv.Client().Do(req)
	require.NoError(t, err)
	r.Body.Close()
	require.Equal(t, http.StatusOK, r.StatusCode)
	resp, body = s.do(http.MethodGet, "/single/k", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "hi", string(body))
}
