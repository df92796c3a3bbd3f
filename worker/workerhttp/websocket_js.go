//go:build js && wasm

package workerhttp

import (
	"context"
	"net/http"
)

// upgrader is never made in a Worker: there the runtime holds the
// connection, and a handler hands a WebSocket to an object instead
// (worker.ForwardToObject). The twin of websocket.go, which links the
// WebSocket library every other platform uses.
type upgrader struct{}

func newUpgrader(http.ResponseWriter, *http.Request) *upgrader { return nil }

func withUpgrader(ctx context.Context, _ *upgrader) context.Context { return ctx }

func (*upgrader) tookOver() bool { return false }
