// Package workerdtest builds a Go Worker for GOOS=js GOARCH=wasm and runs it
// in workerd, the open-source Workers runtime, on a loopback port, for
// end-to-end tests and load runs.
//
// workerd comes from the npm package pinned in the repository's
// package.json (`npm ci` installs it). Where it is missing, tests skip,
// except under CI=true, where they fail: CI must never pass by skipping.
package workerdtest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dokv/dokv/internal/workerfiles"
)

// Worker is a built Worker and, once started, its workerd process.
type Worker struct {
	Dir      string // entry.mjs, wasm_exec.js, app.wasm and workerd.capnp
	StoreDir string // the Durable Objects' SQLite files; survives restarts
	Port     int
	URL      string // http://127.0.0.1:Port

	binary string
	cmd    *exec.Cmd
	log    *Output
	done   chan struct{}
}

// Output collects a child process's output, written by exec's copying
// goroutines while a test may read it. The zero value is ready to use.
type Output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *Output) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *Output) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Binary returns the path of the pinned workerd binary.
func Binary() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, "node_modules", ".bin", "workerd")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("workerd is not installed (run `npm ci` in %s): %w", root, err)
	}
	return bin, nil
}

// Require returns the workerd binary, or ends the test: a skip normally, a
// failure under CI=true.
func Require(tb testing.TB) string {
	tb.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("workerd is required under CI=true: %v", err)
		}
		tb.Skipf("skipping: %v", err)
	}
	return bin
}

// Build compiles the main package pkg (an import path or a path relative to
// the repository root) for GOOS=js GOARCH=wasm and writes it, the entry
// module, Go's wasm_exec.js and a workerd config for c into a new temporary
// directory.
func Build(bin, pkg string, c workerfiles.Config) (*Worker, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "dokv-workerd-")
	if err != nil {
		return nil, err
	}
	w := &Worker{Dir: dir, StoreDir: filepath.Join(dir, "store"), binary: bin}
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, "app.wasm"), pkg)
	build.Dir = root
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building %s for js/wasm: %v\n%s", pkg, err, out)
	}
	wasmExec, err := workerfiles.WasmExec()
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		"entry.mjs":     workerfiles.EntryModule,
		"wasm_exec.js":  wasmExec,
		"workerd.capnp": []byte(workerfiles.WorkerdConfig(c)),
		"store/.keep":   nil,
	}
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// Start runs workerd on a free loopback port and waits until it accepts
// connections. The store directory is kept, so Start after Kill is a restart
// on the same storage.
func (w *Worker) Start() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	return w.startOn(port)
}

// Restart ends workerd with SIGKILL and starts it again on the same port
// and storage, so that a client (a browser page) finds it where it was.
func (w *Worker) Restart() error {
	w.Kill()
	return w.startOn(w.Port)
}

func (w *Worker) startOn(port int) error {
	w.Port, w.URL = port, "http://127.0.0.1:"+strconv.Itoa(port)
	w.log = &Output{}
	w.cmd = exec.Command(w.binary, "serve", "workerd.capnp",
		"--socket-addr", "http=127.0.0.1:"+strconv.Itoa(port),
		"--directory-path", "store="+w.StoreDir)
	w.cmd.Dir = w.Dir
	w.cmd.Stdout, w.cmd.Stderr = w.log, w.log
	w.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := w.cmd.Start(); err != nil {
		return fmt.Errorf("starting workerd: %w", err)
	}
	w.done = make(chan struct{})
	go func() { w.cmd.Wait(); close(w.done) }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-w.done:
			return fmt.Errorf("workerd exited at start:\n%s", w.log.String())
		default:
		}
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 100*time.Millisecond)
		if err == nil {
			conn.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.Kill()
	return fmt.Errorf("workerd did not listen within 20s:\n%s", w.log.String())
}

// Kill ends workerd with SIGKILL, as a crash would, and waits for it.
func (w *Worker) Kill() {
	if w.cmd == nil || w.cmd.Process == nil {
		return
	}
	syscall.Kill(-w.cmd.Process.Pid, syscall.SIGKILL)
	<-w.done
	w.cmd = nil
}

// Log returns what workerd printed.
func (w *Worker) Log() string {
	if w.log == nil {
		return ""
	}
	return w.log.String()
}

// Remove kills workerd and deletes the Worker's directory.
func (w *Worker) Remove() {
	w.Kill()
	os.RemoveAll(w.Dir)
}

// Client is an HTTP client for loopback requests to the Worker.
var Client = &http.Client{
	Timeout:   60 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
