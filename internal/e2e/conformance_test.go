package e2e

import (
	"testing"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/dokvtest"
)

// TestConformance_Workerd runs the conformance suite against the real
// DokvObject Durable Object on workerd's SQLite storage.
func TestConformance_Workerd(t *testing.T) {
	w := startBridge(t)
	dokvtest.RunConformanceTests(t, func(t *testing.T) dokv.Namespace {
		return newBridgeNamespace(w.URL)
	})
}
