package dokv_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/dokvtest"
	"github.com/dokv/dokv/internal/lincheck"
)

// TestLinearizability_MemoryNamespace records histories of 16 clients
// making 10,000 random Get, Set, Delete and CompareAndSwap calls on 4 hot
// keys, with no faults and under each fault a FaultyNamespace injects
// (separately and all together), under PerKey and HashShards partitioning,
// and checks each with porcupine. A failing history's visualization goes to
// $DOKV_ARTIFACTS (else a temporary directory; the path is logged).
func TestLinearizability_MemoryNamespace(t *testing.T) {
	faults := []struct {
		name   string
		faults dokvtest.Faults
	}{
		{"NoFaults", dokvtest.Faults{}},
		{"Reset", dokvtest.Faults{Reset: 0.2}},
		{"Overloaded", dokvtest.Faults{Overloaded: 0.1}},
		{"Unavailable", dokvtest.Faults{Unavailable: 0.2}},
		{"LostReply", dokvtest.Faults{LostReply: 0.05}},
		{"MaxLatency", dokvtest.Faults{MaxLatency: 500 * time.Microsecond}},
		{"AllFaults", dokvtest.Faults{Reset: 0.1, Overloaded: 0.05, Unavailable: 0.1, LostReply: 0.05, MaxLatency: 500 * time.Microsecond}},
	}
	partitionings := []dokv.Partitioning{dokv.PerKey(), dokv.HashShards(2)}
	// Retries of idempotent calls after ErrUnavailable, with delays small
	// enough to keep the test fast. Three attempts leave some Sets and Gets
	// with an unknown outcome under Unavailable; CAS is never retried.
	retry := dokv.WithRetry(dokv.RetryPolicy{MaxAttempts: 3, BaseDelay: 20 * time.Microsecond, MaxDelay: 100 * time.Microsecond})

	for fi, fc := range faults {
		for pi, p := range partitionings {
			t.Run(fc.name+"/"+p.String(), func(t *testing.T) {
				f := fc.faults
				f.Seed = uint64(100*fi + pi + 1)
				ns := dokvtest.WithFaults(dokv.NewMemoryNamespace(), f)
				res := lincheck.Run(t, ns, lincheck.Config{
					Clients: 16,
					Ops:     10_000,
					Keys:    8,
					Seed:    f.Seed,
					Options: []dokv.Option{dokv.WithPartitioning(p), retry},
				})
				counts := ns.Counts()
				t.Logf("faults injected: %+v", counts)
				if t.Failed() {
					return
				}

				// The run exercised what it is meant to.
				st := res.Stats
				assert.Equal(t, 10_000, st.Calls)
				assert.Positive(t, st.GetsFound)
				assert.Positive(t, st.GetsNotFound)
				assert.Positive(t, st.CASOK)
				assert.Positive(t, st.CASConflict)
				if f.Reset > 0 {
					assert.Positive(t, counts.Resets)
				}
				if f.Overloaded > 0 {
					assert.Positive(t, counts.Overloaded)
					assert.Positive(t, st.Overloaded)
				}
				if f.Unavailable > 0 {
					assert.Positive(t, counts.Unavailable)
					assert.Positive(t, st.UnknownWrites, "CAS is not retried: ErrUnavailable leaves its outcome unknown")
				}
				if f.LostReply > 0 {
					assert.Positive(t, counts.LostReplies)
					assert.Positive(t, st.UnknownWrites)
					assert.Positive(t, st.UnknownWritesSeen, "some lost-reply writes were observed, resolving their versions")
				}
				if f == (dokvtest.Faults{Seed: f.Seed}) {
					assert.Zero(t, st.UnknownWrites+st.UnknownGets+st.Overloaded)
				}
			})
		}
	}
}
