package e2e

import (
	"testing"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/internal/conformance"
)

// TestConformance_Workerd runs the conformance suite against the real
// DokvObject Durable Object on workerd's SQLite storage.
func TestConformance_Workerd(t *testing.T) {
	w := startBridge(t)
	conformance.Run(t, func(t *testing.T) dokv.Namespace {
		return newBridgeNamespace(w.URL)
	})
}
