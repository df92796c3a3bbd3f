package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/internal/workerdtest"
)

// screenshotEnv names the variable that makes TestExampleWorker_Dashboard
// write its screenshot to docs/dashboard.png, the one the README shows.
const screenshotEnv = "DOKV_UPDATE_SCREENSHOT"

// browser is the dashboard driver (testdata/browser/dashboard.mjs): headless
// Chromium from the pinned npm packages, one JSON command per line.
type browser struct {
	t    *testing.T
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Scanner
	errs *workerdtest.Output
}

type browserReply struct {
	OK     bool                         `json:"ok"`
	Error  string                       `json:"error"`
	ID     string                       `json:"id"`
	Shown  map[string][]shownTaskRow    `json:"shown"`
	Errors []struct{ Text, URL string } `json:"errors"`
}

// shownTaskRow is one state a task's row showed: its bar's percentage and
// its status.
type shownTaskRow struct {
	Progress int    `json:"progress"`
	Status   string `json:"status"`
}

// startBrowser opens url in the driver. Under CI=true a browser that
// cannot start fails the test; elsewhere it skips.
func startBrowser(t *testing.T, url string) *browser {
	t.Helper()
	node, err := exec.LookPath("node")
	root, rootErr := workerdtest.RepoRoot()
	if err == nil {
		err = rootErr
	}
	if err == nil {
		_, err = os.Stat(filepath.Join(root, "node_modules", "@sparticuz", "chromium"))
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the browser test needs node and `npm ci` under CI=true: %v", err)
		}
		t.Skipf("skipping the browser test: %v (run npm ci)", err)
	}
	b := &browser{t: t, errs: &workerdtest.Output{}}
	b.cmd = exec.Command(node, filepath.Join("internal", "e2e", "testdata", "browser", "dashboard.mjs"), url)
	b.cmd.Dir = root
	b.cmd.Stderr = b.errs
	b.in, err = b.cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := b.cmd.StdoutPipe()
	require.NoError(t, err)
	b.out = bufio.NewScanner(stdout)
	b.out.Buffer(make([]byte, 1<<20), 16<<20)
	require.NoError(t, b.cmd.Start(), "starting the browser driver")
	t.Cleanup(func() {
		b.in.Close()
		done := make(chan struct{})
		go func() { b.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			b.cmd.Process.Kill()
			<-done
		}
	})
	return b
}

// do sends a command and returns the driver's answer, failing the test on
// an error.
func (b *browser) do(cmd map[string]any) browserReply {
	b.t.Helper()
	line, err := json.Marshal(cmd)
	require.NoError(b.t, err)
	_, err = b.in.Write(append(line, '\n'))
	require.NoError(b.t, err, "the browser driver: %s", b.errs)
	if !b.out.Scan() {
		b.t.Fatalf("the browser driver ended (%v): %s", b.out.Err(), b.errs)
	}
	var r browserReply
	require.NoError(b.t, json.Unmarshal(b.out.Bytes(), &r), "%s", b.out.Bytes())
	require.True(b.t, r.OK, "browser %v: %s\nconsole: %+v\nstderr: %s", cmd, r.Error, r.Errors, b.errs)
	return r
}

// progressSteps are what the test's clients write to each task, in order.
var progressSteps = []float64{0.25, 0.5, 0.75}

// completeTasks has one client per task move it through progressSteps and
// complete it, all tasks at once, as uploadista's nodes report progress,
// in the example app at base.
func completeTasks(t *testing.T, base, location string, nodes []string) {
	t.Helper()
	var wg sync.WaitGroup
	for _, node := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, p := range progressSteps {
				body := fmt.Sprintf(`{"status":"running","result":{"progress":%v}}`, p)
				resp, err := sendRequest(workerdtest.Client, http.MethodPatch, base, location+"/tasks/"+node, []byte(body))
				if !assert.NoError(t, err) || !assert.Equal(t, http.StatusOK, resp.Status, "%s", resp) {
					return
				}
			}
			resp, err := sendRequest(workerdtest.Client, http.MethodPatch, base, location+"/tasks/"+node, []byte(`{"status":"completed"}`))
			if assert.NoError(t, err) {
				assert.Equal(t, http.StatusOK, resp.Status, "%s", resp)
			}
		}()
	}
	wg.Wait()
}

// assertShownInOrder checks that the page showed each task go through
// every step, in order, to completed.
func assertShownInOrder(t *testing.T, shown map[string][]shownTaskRow, nodes []string) {
	t.Helper()
	want := []shownTaskRow{{0, "pending"}, {25, "running"}, {50, "running"}, {75, "running"}, {100, "completed"}}
	for _, node := range nodes {
		assert.Equal(t, want, shown[node], "task %s as the page showed it", node)
	}
}

// The dashboard in a real browser: it shows a job's tasks move, step by
// step and in order, while clients complete them concurrently; it catches
// up by itself after workerd restarts; it runs a demo job; and its console
// stays free of errors (but for the refused connections while workerd was
// down, which Chromium logs itself).
func TestExampleWorker_Dashboard(t *testing.T) {
	w := startExample(t)
	testDashboard(t, w.URL, w.Restart, os.Getenv(screenshotEnv) != "")
}

// testDashboard runs the dashboard test on the example app at base, which
// restart stops and starts again on the same address and data; with
// screenshot, the page's screenshot replaces docs/dashboard.png.
func testDashboard(t *testing.T, base string, restart func() error, screenshot bool) {
	b := startBrowser(t, base+"/")
	nodes := []string{"fetch", "scan", "resize", "store"}

	job, location := createJobAt(t, base, nodes...)
	b.do(map[string]any{"cmd": "open", "id": job.ID})
	completeTasks(t, base, location, nodes)
	shown := b.do(map[string]any{"cmd": "wait", "status": string(dokv.FlowJobCompleted)}).Shown
	assertShownInOrder(t, shown, nodes)

	// The server goes away and comes back on the same port and storage;
	// the page's socket drops, and it reconnects with its last position.
	second, location2 := createJobAt(t, base, nodes...)
	b.do(map[string]any{"cmd": "open", "id": second.ID})
	require.NoError(t, restart())
	completeTasks(t, base, location2, nodes)
	shown = b.do(map[string]any{"cmd": "wait", "status": string(dokv.FlowJobCompleted), "timeoutMs": 30000}).Shown
	for _, node := range nodes {
		rows := shown[node]
		require.NotEmpty(t, rows, node)
		assert.Equal(t, shownTaskRow{100, "completed"}, rows[len(rows)-1], "task %s caught up", node)
		for i := 1; i < len(rows); i++ {
			assert.GreaterOrEqual(t, rows[i].Progress, rows[i-1].Progress, "task %s never went back: %v", node, rows)
		}
	}

	shot := filepath.Join(t.TempDir(), "dashboard.png")
	if screenshot {
		root, err := workerdtest.RepoRoot()
		require.NoError(t, err)
		shot = filepath.Join(root, "docs", "dashboard.png")
	}
	demo := b.do(map[string]any{"cmd": "click-demo", "screenshot": shot}).ID
	resp, err := sendRequest(workerdtest.Client, http.MethodGet, base, "/jobs/"+demo, nil)
	require.NoError(t, err)
	final := decodeExampleJob(t, resp, http.StatusOK)
	assert.Equal(t, dokv.FlowJobCompleted, final.Status, "the page advanced the demo job to its end")
	assert.Equal(t, "demo", final.FlowID)
	info, err := os.Stat(shot)
	require.NoError(t, err)
	assert.Greater(t, info.Size(), int64(5000), "a screenshot of the page")

	// Console errors: none but Chromium's own reports of the connections
	// refused while the server was down.
	for _, e := range b.do(map[string]any{"cmd": "console"}).Errors {
		refused := strings.Contains(e.Text, "ERR_CONNECTION_REFUSED") || strings.Contains(e.Text, "WebSocket connection to")
		assert.True(t, refused, "console error: %s (%s)", e.Text, e.URL)
	}
}
