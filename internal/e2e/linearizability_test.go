package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/dokvtest"
	"github.com/dokv/dokv/internal/lincheck"
)

// TestLinearizability_Workerd checks histories of 16 clients making 10,000
// random Get, Set, Delete and CompareAndSwap calls on 4 hot keys of the
// real DokvObject Durable Objects in workerd (SQLite storage) with
// porcupine: under PerKey, and under HashShards with call failures injected
// on the test's side of the bridge (each case takes about 10s). A failing
// history's visualization goes to $DOKV_ARTIFACTS (else a temporary
// directory; the path is logged).
func TestLinearizability_Workerd(t *testing.T) {
	w := startBridge(t)
	retry := dokv.WithRetry(dokv.RetryPolicy{MaxAttempts: 3, BaseDelay: 100 * time.Microsecond, MaxDelay: time.Millisecond})
	cases := []struct {
		name         string
		partitioning dokv.Partitioning
		faults       *dokvtest.Faults
	}{
		{"PerKey", dokv.PerKey(), nil},
		// Reset needs a namespace that can reset an object; the bridge
		// cannot, so the failures are those of a call.
		{"HashShardsWithFaults", dokv.HashShards(2), &dokvtest.Faults{Seed: 3, Overloaded: 0.05, Unavailable: 0.05, LostReply: 0.05}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ns dokv.Namespace = newBridgeNamespace(w.URL)
			var faulty *dokvtest.FaultyNamespace
			if c.faults != nil {
				faulty = dokvtest.WithFaults(ns, *c.faults)
				ns = faulty
			}
			res := lincheck.Run(t, ns, lincheck.Config{
				Clients: 16,
				Ops:     10_000,
				Keys:    4,
				Seed:    uint64(i + 1),
				Options: []dokv.Option{dokv.WithPartitioning(c.partitioning), retry},
			})
			if faulty != nil {
				t.Logf("faults injected: %+v", faulty.Counts())
			}
			if t.Failed() {
				return
			}
			st := res.Stats
			assert.Equal(t, 10_000, st.Calls)
			assert.Positive(t, st.GetsFound)
			assert.Positive(t, st.CASOK)
			assert.Positive(t, st.CASConflict)
			if faulty != nil {
				counts := faulty.Counts()
				assert.Positive(t, counts.Overloaded)
				assert.Positive(t, counts.LostReplies)
				assert.Positive(t, st.UnknownWrites)
			}
		})
	}
}
