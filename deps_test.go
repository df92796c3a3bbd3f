package dokv_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Package dokv links neither what only cmd/dokv needs (os/exec, the
// embedded entry module and config templates) nor net/http (nor the
// WebSocket library the in-process namespaces' watches use through
// workerhttp), in a Worker's wasm or in a plain Go program: every package
// it imports is paid for at every cold start of a Worker.
func TestPackageDependencies(t *testing.T) {
	forbidden := []string{"os/exec", "net/http", "embed", "github.com/dokv/dokv/internal/workerfiles", "github.com/dokv/dokv/worker/workerhttp", "github.com/coder/websocket"}
	for _, env := range [][]string{nil, {"GOOS=js", "GOARCH=wasm"}} {
		cmd := exec.Command("go", "list", "-deps", "github.com/dokv/dokv")
		cmd.Env = append(cmd.Environ(), env...)
		out, err := cmd.Output()
		require.NoError(t, err, "go list %v", env)
		deps := strings.Fields(string(out))
		require.Contains(t, deps, "github.com/dokv/dokv/internal/object", "go list %v lists dokv's own packages", env)
		for _, pkg := range forbidden {
			assert.NotContains(t, deps, pkg, "package dokv depends on %s (%v)", pkg, env)
		}
	}
}

// A Worker that serves an http.Handler (workerhttp.Serve) never links the
// WebSocket library that FromHandler uses outside a Worker: there the
// runtime holds the connections.
func TestPackageDependencies_WorkerhttpInAWorker(t *testing.T) {
	for _, env := range [][]string{nil, {"GOOS=js", "GOARCH=wasm"}} {
		cmd := exec.Command("go", "list", "-deps", "github.com/dokv/dokv/worker/workerhttp")
		cmd.Env = append(cmd.Environ(), env...)
		out, err := cmd.Output()
		require.NoError(t, err, "go list %v", env)
		deps := strings.Fields(string(out))
		if env == nil {
			assert.Contains(t, deps, "github.com/coder/websocket", "outside a Worker, FromHandler accepts WebSockets")
		} else {
			assert.NotContains(t, deps, "github.com/coder/websocket", "a Worker links the WebSocket library")
		}
	}
}
