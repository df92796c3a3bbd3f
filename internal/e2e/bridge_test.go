package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/internal/workerdtest"
	"github.com/dokv/dokv/internal/workerfiles"
)

// bridgeNamespace is a dokv.Namespace on the test's host whose stubs reach
// the real DokvObject objects in workerd through the test-only bridge
// Worker. Object names get a per-namespace prefix, so every namespace starts
// empty although all share one workerd.
type bridgeNamespace struct {
	url     string
	binding string
	prefix  string
	names   sync.Map // ObjectID -> object name
}

func newBridgeNamespace(url string) *bridgeNamespace {
	return &bridgeNamespace{url: url, binding: "KV", prefix: uuid.NewString() + "/"}
}

func (n *bridgeNamespace) IDFromName(name string) dokv.ObjectID {
	full := n.prefix + name
	id := dokv.ObjectID(sha256.Sum256([]byte(full)))
	n.names.Store(id, full)
	return id
}

func (n *bridgeNamespace) Get(id dokv.ObjectID) driver.Stub {
	name, _ := n.names.Load(id)
	s, _ := name.(string)
	return bridgeStub{ns: n, name: s}
}

type bridgeStub struct {
	ns   *bridgeNamespace
	name string
}

func (s bridgeStub) Call(ctx context.Context, request []byte) ([]byte, error) {
	u := s.ns.url + "/call/" + s.ns.binding + "/" + url.PathEscape(s.name)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(request))
	if err != nil {
		return nil, err
	}
	resp, err := workerdtest.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusOK {
		return body, nil
	}
	var sentinel error
	switch resp.Header.Get("X-Dokv-Error") {
	case "overloaded":
		sentinel = dokv.ErrOverloaded
	case "unavailable":
		sentinel = dokv.ErrUnavailable
	case "unknown-outcome":
		sentinel = dokv.ErrUnknownOutcome
	default:
		sentinel = errors.New("bridge")
	}
	return nil, fmt.Errorf("%w: %d %s", sentinel, resp.StatusCode, bytes.TrimSpace(body))
}

// bridge is the package's one bridge Worker.
var bridge = &sharedWorker{pkg: "./internal/e2e/bridge", config: workerfiles.Config{
	Name: "dokv-bridge", Bindings: []string{"KV"}, UniqueKey: "dokv-e2e-bridge",
}}

// startBridge starts the bridge Worker for the package's tests.
func startBridge(t *testing.T) *workerdtest.Worker { return bridge.start(t) }
