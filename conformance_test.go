package dokv_test

import (
	"testing"
	"time"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/dokvtest"
)

func TestConformance_MemoryNamespace(t *testing.T) {
	dokvtest.RunConformanceTests(t, func(t *testing.T) dokv.Namespace {
		return dokv.NewMemoryNamespace()
	})
}

// TestConformance_MemoryNamespaceWithFaults runs the suite with objects
// reset at random (their actors lose all in-memory state, storage stays) and
// random latency that reorders concurrent calls. Faults that make a call
// fail are covered by the retry and linearizability tests: the suite's
// conditional writes would rightly fail under them.
func TestConformance_MemoryNamespaceWithFaults(t *testing.T) {
	seed := uint64(0)
	dokvtest.RunConformanceTests(t, func(t *testing.T) dokv.Namespace {
		seed++
		return dokvtest.WithFaults(dokv.NewMemoryNamespace(), dokvtest.Faults{Seed: seed, Reset: 0.2, MaxLatency: 100 * time.Microsecond})
	})
}
