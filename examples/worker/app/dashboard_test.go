package app

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
)

func TestDashboard_BrowsersGetThePageOthersTheRoutes(t *testing.T) {
	resp, body := get(t, "/", []string{"Accept", "text/html,application/xhtml+xml"})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Contains(t, body, `<script src="/dashboard.js" defer></script>`)
	assert.Contains(t, body, `id="start-demo"`)

	resp, body = get(t, "/", []string{"Accept", "*/*"})
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
