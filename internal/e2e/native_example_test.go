package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/internal/workerdtest"
)

// nativeExample is the example Worker's app served natively on local files
// (local/examples/worker, module github.com/dokv/dokv/local) as a process
// of its own, as its README command runs it.
type nativeExample struct {
	bin, dir string
	port     int
	URL      string
	cmd      *exec.Cmd
	done     chan struct{}
	log      *workerdtest.Output
}

// startNativeExample builds the native server and starts it on a fresh
// data directory. Its log is printed if the test fails.
func startNativeExample(t *testing.T) *nativeExample {
	t.Helper()
	root, err := workerdtest.RepoRoot()
	require.NoError(t, err)
	n := &nativeExample{bin: filepath.Join(t.TempDir(), "example-server"), dir: filepath.Join(t.TempDir(), "data")}
	build := exec.Command("go", "build", "-o", n.bin, "./examples/worker")
	build.Dir = filepath.Join(root, "local")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build in local: %s", out)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	n.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	n.URL = "http://127.0.0.1:" + strconv.Itoa(n.port)
	t.Cleanup(func() {
		n.stop()
		if t.Failed() {
			t.Logf("the native server's log:\n%s", n.log)
		}
	})
	require.NoError(t, n.start())
	return n
}

// start runs the server on n's port and directory and waits until it
// listens.
func (n *nativeExample) start() error {
	n.log = &workerdtest.Output{}
	n.cmd = exec.Command(n.bin, "-dir", n.dir, "-addr", "127.0.0.1:"+strconv.Itoa(n.port))
	n.cmd.Env = append(os.Environ(), "GREETING="+exampleGreeting)
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	if err := n.cmd.Start(); err != nil {
		return err
	}
	n.done = make(chan struct{})
	go func() { n.cmd.Wait(); close(n.done) }()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-n.done:
			return fmt.Errorf("the native server exited at start:\n%s", n.log)
		default:
		}
		if conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(n.port), 100*time.Millisecond); err == nil {
			conn.Close()
			return nil
		}
	}
	return fmt.Errorf("the native server did not listen within 20s:\n%s", n.log)
}

// stop stops the server as an operator does, with SIGTERM, and waits.
func (n *nativeExample) stop() {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(20 * time.Second):
		n.cmd.Process.Kill()
		<-n.done
	}
	n.cmd = nil
}

// Restart stops the server and starts it again on the same address and
// data, as a deploy of a new version would.
func (n *nativeExample) Restart() error {
	n.stop()
	return n.start()
}

// The dashboard test of TestExampleWorker_Dashboard, in a real browser,
// against the example served natively on local files: the same page, the
// watches served by the Go server (coder/websocket), and a restart that
// closes them with 1001, after which the page catches up by itself.
func TestNativeExample_Dashboard(t *testing.T) {
	n := startNativeExample(t)
	testDashboard(t, n.URL, n.Restart, false)
}
