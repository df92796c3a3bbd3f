package local

import (
	"testing"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/examples/worker/app/apptest"
)

// The example Worker's HTTP tests, which its app package runs on the
// memory namespace, here on SQLite files: the example behaves the same on
// this host, TTLs and job retention included (on the suite's manual
// clock).
func TestApp_Local(t *testing.T) {
	apptest.Run(t, func(t *testing.T, clock dokv.Clock) dokv.Namespace {
		return open(t, t.TempDir(), WithClock(clock))
	})
}
