// Package e2e runs dokv against real workerd: the conformance suite on the
// Durable Object's SQLite storage through a test-only bridge Worker, and the
// example Worker over HTTP, including a crash and restart.
package e2e

import (
	"os"
	"testing"

	"github.com/dokv/dokv/internal/workerdtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	for name, w := range map[string]*workerdtest.Worker{"bridge": bridge, "glue": glue} {
		if w == nil {
			continue
		}
		if code != 0 {
			os.Stderr.WriteString("workerd log of the " + name + " Worker:\n" + w.Log())
		}
		w.Remove()
	}
	os.Exit(code)
}
