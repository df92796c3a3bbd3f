package app_test

import (
	"testing"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/examples/worker/app/apptest"
)

// The app's HTTP tests on the in-memory namespace. The local module runs
// the same suite on SQLite files.
func TestApp(t *testing.T) {
	apptest.Run(t, func(t *testing.T, clock dokv.Clock) dokv.Namespace {
		return dokv.NewMemoryNamespace(dokv.WithClock(clock))
	})
}
