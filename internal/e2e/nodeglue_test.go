package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/internal/workerdtest"
	"github.com/dokv/dokv/internal/workerfiles"
)

// A client that goes away ends its request at once (499), and no fetch
// handler is left waiting for a response that would be dropped. Local
// workerd never fires request.signal while a response is pending, so this
// runs the entry module and the glue Worker's wasm in Node, whose Request
// takes an AbortSignal; testdata/nodeglue stands in for "cloudflare:workers".
func TestGlue_AbortedRequestEndsAtOnce(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node is required under CI=true: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	w, err := workerdtest.Build("", "./internal/e2e/glueworker", workerfiles.Config{Name: "dokv-node", Bindings: []string{"KV"}})
	require.NoError(t, err)
	t.Cleanup(w.Remove)
	for _, name := range []string{"cf-stub.mjs", "hooks.mjs", "register.mjs", "abort.mjs"} {
		data, err := os.ReadFile(filepath.Join("testdata", "nodeglue", name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(w.Dir, name), data, 0o644))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--import", "./register.mjs", "abort.mjs")
	cmd.Dir = w.Dir
	out, err := cmd.Output()
	require.NoError(t, err, "node: %s (the aborted request may still be waiting)", out)
	var got struct {
		FirstStatus    int    `json:"firstStatus"`
		FirstBody      string `json:"firstBody"`
		AbortedStatus  int    `json:"abortedStatus"`
		AbortedAfterMs int    `json:"abortedAfterMs"`
		ActiveRequests int    `json:"activeRequests"`
	}
	require.NoError(t, json.Unmarshal(out, &got), "%s", out)
	assert.Equal(t, 200, got.FirstStatus, "the harness serves a request")
	assert.Equal(t, "slept", got.FirstBody)
	assert.Equal(t, 499, got.AbortedStatus)
	assert.Less(t, got.AbortedAfterMs, 1000, "the request ended when its client went away, not when its handler did")
	assert.Zero(t, got.ActiveRequests, "no fetch handler is left waiting")
}
