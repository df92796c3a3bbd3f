package dokvtest

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/internal/protocol"
)

// A checker that passes everything proves nothing, so the suite is run, in a
// child process, on namespaces broken in known ways, and must fail there with
// the behaviours that rule out each defect.
func TestRun_FailsOnBrokenNamespaces(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite three times in child processes")
	}
	cases := map[string][]string{
		"ignore-conditions": {"CompareAndSwap/RaceHasOneWinnerPerVersion", "Txn/AllOrNothing", "Update/NoLostUpdates"},
		"lose-writes":       {"Value/RoundTrip", "Version/EveryWriteIsLarger"},
		"reverse-lists":     {"List/AscendingByteOrder"},
	}
	for mode, mustFail := range cases {
		t.Run(mode, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenNamespace$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), "DOKV_BROKEN_NAMESPACE="+mode)
			out, err := cmd.CombinedOutput()
			require.Error(t, err, "the suite passed a namespace that %s:\n%s", mode, out)
			for _, name := range mustFail {
				assert.Contains(t, string(out), "--- FAIL: TestBrokenNamespace/"+name, "mode %s", mode)
			}
		})
	}
}

// TestBrokenNamespace runs the suite on a broken namespace when a parent test
// asks for one; on its own it has nothing to check.
func TestBrokenNamespace(t *testing.T) {
	mode := os.Getenv("DOKV_BROKEN_NAMESPACE")
	if mode == "" {
		t.Skip("only run by TestRun_FailsOnBrokenNamespaces")
	}
	RunConformanceTests(t, func(t *testing.T) driver.Namespace {
		return &brokenNamespace{MemoryNamespace: dokv.NewMemoryNamespace(), mode: mode}
	})
}

type brokenNamespace struct {
	*dokv.MemoryNamespace
	mode   string
	writes atomic.Int64
}

func (b *brokenNamespace) Get(id driver.ObjectID) driver.Stub {
	return brokenStub{ns: b, next: b.MemoryNamespace.Get(id)}
}

type brokenStub struct {
	ns   *brokenNamespace
	next driver.Stub
}

func (s brokenStub) Call(ctx context.Context, raw []byte) ([]byte, error) {
	req, err := protocol.DecodeRequest(raw)
	if err != nil {
		return s.next.Call(ctx, raw)
	}
	switch s.ns.mode {
	case "ignore-conditions":
		for i := range req.Mutations {
			req.Mutations[i].HasCondition = false
		}
		return s.next.Call(ctx, protocol.AppendRequest(nil, &req))
	case "lose-writes":
		if req.Op == protocol.OpWrite && s.ns.writes.Add(1)%5 == 0 {
			versions := make([]uint64, len(req.Mutations))
			for i := range versions {
				versions[i] = 1
			}
			return protocol.AppendReply(nil, req.Op, &protocol.Reply{Versions: versions}), nil
		}
	case "reverse-lists":
		if req.Op == protocol.OpList {
			out, err := s.next.Call(ctx, raw)
			if err != nil {
				return out, err
			}
			reply, err := protocol.DecodeReply(req.Op, out)
			if err != nil || reply.Status != protocol.StatusOK {
				return out, err
			}
			slices.Reverse(reply.Entries)
			return protocol.AppendReply(nil, req.Op, &reply), nil
		}
	}
	return s.next.Call(ctx, raw)
}
