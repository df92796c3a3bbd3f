package dokvtest_test

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/dokvtest"
	"github.com/dokv/dokv/driver"
)

// relay is a namespace written as a driver outside this module would be,
// with nothing but the public driver contract: it relays every call to
// another namespace, as a proxy or a metrics wrapper would.
type relay struct{ inner driver.Namespace }

func (r relay) IDFromName(name string) driver.ObjectID { return r.inner.IDFromName(name) }

func (r relay) Get(id driver.ObjectID) driver.Stub {
	next := r.inner.Get(id)
	if w, ok := next.(driver.Watcher); ok {
		return relayWatcher{w}
	}
	return relayStub{next}
}

type relayStub struct{ next driver.Stub }

func (s relayStub) Call(ctx context.Context, request []byte) ([]byte, error) {
	return s.next.Call(ctx, request)
}

type relayWatcher struct{ driver.Watcher }

// An outside namespace proves itself with the exported suite.
func TestRunConformanceTests_OutsideNamespacePasses(t *testing.T) {
	dokvtest.RunConformanceTests(t, func(t *testing.T) driver.Namespace {
		return relay{inner: dokv.NewMemoryNamespace()}
	})
}

// forgetful is a broken outside namespace: every stub reaches a new, empty
// object, so nothing written is ever read back.
type forgetful struct{ relay }

func (f forgetful) Get(id driver.ObjectID) driver.Stub {
	return relayStub{dokv.NewMemoryNamespace().Get(id)}
}

// The suite fails a broken outside namespace, naming the rules it breaks.
// It runs in a child process, where its failure is the expected outcome.
func TestRunConformanceTests_ForgetfulOutsideNamespaceFails(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite in a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestForgetfulNamespace$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "DOKV_FORGETFUL_NAMESPACE=1")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "the suite passed a namespace that forgets every write:\n%s", out)
	for _, name := range []string{"Value/RoundTrip", "Version/EveryWriteIsLarger", "List/AscendingByteOrder"} {
		assert.Contains(t, string(out), "--- FAIL: TestForgetfulNamespace/"+name)
	}
}

// TestForgetfulNamespace runs the suite on the forgetful namespace when its
// parent test asks for it; on its own it has nothing to check.
func TestForgetfulNamespace(t *testing.T) {
	if os.Getenv("DOKV_FORGETFUL_NAMESPACE") == "" {
		t.Skip("only run by TestRunConformanceTests_ForgetfulOutsideNamespaceFails")
	}
	dokvtest.RunConformanceTests(t, func(t *testing.T) driver.Namespace {
		return forgetful{relay{inner: dokv.NewMemoryNamespace()}}
	})
}
