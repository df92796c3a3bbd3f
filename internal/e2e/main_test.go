// Package e2e runs dokv against real workerd: the conformance suite on the
// Durable Object's SQLite storage through a test-only bridge Worker, and the
// example Worker over HTTP, including a crash and restart.
package e2e

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if bridge != nil {
		if code != 0 {
			os.Stderr.WriteString("workerd log of the bridge Worker:\n" + bridge.Log())
		}
		bridge.Remove()
	}
	os.Exit(code)
}
