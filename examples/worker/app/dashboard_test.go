package app

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
)

// get sends GET path with the headers given as name, value pairs.
func (s *testServer) get(path string, headers ...string) (*http.Response, string) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.srv.URL+path, nil)
	require.NoError(s.t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := s.srv.Client().Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return resp, string(body)
}

func TestDashboard_BrowsersGetThePageOthersTheRoutes(t *testing.T) {
	s := newTestServer(t)
	resp, body := s.get("/", "Accept", "text/html,application/xhtml+xml")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Contains(t, body, `<script src="/dashboard.js" defer></script>`)
	assert.Contains(t, body, `id="start-demo"`)

	resp, body = s.get("/", "Accept", "*/*")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, routesText, body)
}

func TestTaskProgress(t *testing.T) {
	for _, c := range []struct {
		task dokv.FlowJobTask
		want float64
	}{
		{dokv.FlowJobTask{Status: dokv.FlowJobTaskPending}, 0},
		{dokv.FlowJobTask{Status: dokv.FlowJobTaskRunning, Result: []byte(`{"progress":0.4}`)}, 0.4},
		{dokv.FlowJobTask{Status: dokv.FlowJobTaskRunning, Result: []byte(`{"progress":7}`)}, 1},
		{dokv.FlowJobTask{Status: dokv.FlowJobTaskRunning, Result: []byte(`{"progress":-1}`)}, 0},
		{dokv.FlowJobTask{Status: dokv.FlowJobTaskRunning, Result: []byte(`"text"`)}, 0},
		{dokv.FlowJobTask{Status: dokv.FlowJobTaskCompleted, Result: []byte(`{"progress":0.1}`)}, 1},
	} {
		assert.Equal(t, c.want, TaskProgress(c.task), "%s %s", c.task.Status, c.task.Result)
	}
}
