package e2e

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/workerdtest"
	"github.com/dokv/dokv/internal/workerfiles"
)

// A client that goes away ends its request at once (499), and no fetch
// handler is left waiting for a response that would be dropped. Local
// workerd never fires request.signal while a response is pending, so this
// runs the entry module and the glue Worker's wasm in Node, whose Request
// takes an AbortSignal; testdata/nodeglue stands in for "cloudflare:workers".
func TestGlue_AbortedRequestEndsAtOnce(t *testing.T) {
	out := runNodeGlue(t, "abort.mjs")
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

// The reply of a call made by a Go instance that has exited must not reach
// the next instance, whose calls reuse the same tokens: it would answer
// another request's call. In Node, so that the test controls when each
// object call settles.
func TestGlue_StaleCallReplyIsDropped(t *testing.T) {
	reply := func(value string) string {
		r := protocol.Reply{Status: protocol.StatusOK, Found: true, Version: 1, Value: []byte(value)}
		return hex.EncodeToString(protocol.AppendReply(nil, protocol.OpGet, &r))
	}
	out := runNodeGlue(t, "stale.mjs", reply("from-the-exited-instance"), reply("from-the-new-instance"))
	type response struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
		Error  string `json:"error"`
	}
	var got struct{ Stale, Exit, Fresh response }
	require.NoError(t, json.Unmarshal(out, &got), "%s", out)
	assert.Equal(t, 200, got.Fresh.Status, "%+v", got)
	assert.Equal(t, "from-the-new-instance", got.Fresh.Body, "the new instance's request got its own call's reply")
	assert.NotEqual(t, 200, got.Stale.Status, "the request of the exited instance failed: %+v", got.Stale)
}

// runNodeGlue builds the glue Worker with dokv's entry module, adds
// testdata/nodeglue, runs script in Node with args, and returns its output.
func runNodeGlue(t *testing.T, script string, args ...string) []byte {
	t.Helper()
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
	for _, name := range []string{"cf-stub.mjs", "hooks.mjs", "register.mjs", script} {
		data, err := os.ReadFile(filepath.Join("testdata", "nodeglue", name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(w.Dir, name), data, 0o644))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{"--import", "./register.mjs", script}, args...)...)
	cmd.Dir = w.Dir
	out, err := cmd.Output()
	require.NoError(t, err, "node %s: %s (a request may still be waiting)", script, out)
	return out
}
