package main

import (
	"bytes"
	_ "embed"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/template"
	"time"

	"github.com/dokv/dokv/internal/workerdtest"
	"github.com/dokv/dokv/internal/workerfiles"
)

// The pure-JS baseline (its Worker module and its workerd config template),
// and the diagnostic hybrid: a JS fetch handler in front of dokv's Go
// Durable Object.
var (
	//go:embed jsbaseline/worker.mjs
	baselineModule []byte
	//go:embed jsbaseline/workerd.capnp.tmpl
	baselineConfig string
	//go:embed jsbaseline/hybrid.mjs
	hybridModule []byte
	//go:embed jsbaseline/hybrid.capnp.tmpl
	hybridConfig string
	//go:embed jsbaseline/nethttp.mjs
	netHTTPModule []byte
	//go:embed jsbaseline/nethttp.capnp.tmpl
	netHTTPConfig string
)

// variant is one built Worker: a directory with a workerd config and the
// modules it embeds. Every run of it gets fresh storage.
type variant struct {
	name   string // "dokv", "lean", "baseline" or "hybrid"
	dir    string
	config string // the config file in dir
	remove func()
}

// buildDokv builds the load test's Go Worker (./internal/loadtest/worker)
// with workerdtest.Build: the wasm, dokv's entry module, Go's wasm_exec.js
// and dokv's workerd config.
func buildDokv(bin string) (*variant, error) {
	return buildGo(bin, "dokv", "./internal/loadtest/worker")
}

// buildGo builds the Go Worker pkg as the variant name, with
// workerdtest.Build: the wasm, dokv's entry module, Go's wasm_exec.js and
// dokv's workerd config, binding DOKV.
func buildGo(bin, name, pkg string) (*variant, error) {
	w, err := workerdtest.Build(bin, pkg, workerfiles.Config{
		Name:      name + "-loadtest",
		Bindings:  []string{"DOKV"},
		UniqueKey: name + "-loadtest",
	})
	if err != nil {
		return nil, err
	}
	return &variant{name: name, dir: w.Dir, config: "workerd.capnp", remove: w.Remove}, nil
}

// buildBaseline writes the JS baseline and its config, with dokv's
// compatibility date, to a new temporary directory.
func buildBaseline() (*variant, error) {
	config, err := capnpConfig(baselineConfig)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "dokv-loadtest-baseline-")
	if err != nil {
		return nil, err
	}
	v := &variant{name: "baseline", dir: dir, config: "workerd.capnp", remove: func() { os.RemoveAll(dir) }}
	if err := writeFiles(dir, map[string][]byte{"worker.mjs": baselineModule, "workerd.capnp": config}); err != nil {
		v.remove()
		return nil, err
	}
	return v, nil
}

// buildNetHTTP builds the net/http reference: ./internal/loadtest/
// nethttpworker's wasm behind jsbaseline/nethttp.mjs, with no dokv.
func buildNetHTTP() (*variant, error) {
	config, err := capnpConfig(netHTTPConfig)
	if err != nil {
		return nil, err
	}
	root, err := workerdtest.RepoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "dokv-loadtest-nethttp-")
	if err != nil {
		return nil, err
	}
	v := &variant{name: "nethttp", dir: dir, config: "workerd.capnp", remove: func() { os.RemoveAll(dir) }}
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, "app.wasm"), "./internal/loadtest/nethttpworker")
	build.Dir = root
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		v.remove()
		return nil, fmt.Errorf("building the net/http reference: %v\n%s", err, out)
	}
	wasmExec, err := workerfiles.WasmExec()
	if err != nil {
		v.remove()
		return nil, err
	}
	if err := writeFiles(dir, map[string][]byte{"nethttp.mjs": netHTTPModule, "wasm_exec.js": wasmExec, "workerd.capnp": config}); err != nil {
		v.remove()
		return nil, err
	}
	return v, nil
}

// buildHybrid writes the diagnostic hybrid's module and config into the
// directory of the dokv build, whose entry module, wasm_exec.js and wasm it
// uses.
func buildHybrid(dokv *variant) (*variant, error) {
	config, err := capnpConfig(hybridConfig)
	if err != nil {
		return nil, err
	}
	if err := writeFiles(dokv.dir, map[string][]byte{"hybrid.mjs": hybridModule, "hybrid.capnp": config}); err != nil {
		return nil, err
	}
	return &variant{name: "hybrid", dir: dokv.dir, config: "hybrid.capnp", remove: func() {}}, nil
}

// capnpConfig fills a config template with dokv's compatibility date.
func capnpConfig(text string) ([]byte, error) {
	tmpl, err := template.New("capnp").Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, struct{ CompatibilityDate string }{workerfiles.CompatibilityDate}); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func writeFiles(dir string, files map[string][]byte) error {
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// server is one workerd process serving a variant on a loopback port, with
// storage of its own.
type server struct {
	v        *variant
	url      string // http://127.0.0.1:port
	storeDir string
	cmd      *exec.Cmd
	log      *workerdtest.Output
	done     chan struct{}
	started  time.Time // just before the process was started
}

// startServer starts workerd on v with fresh, empty storage (a new
// directory under storeParent, or under v's directory if storeParent is "")
// and returns at once; use waitListening, or poll, before sending requests.
// verbose runs workerd with --verbose.
func startServer(bin string, v *variant, storeParent string, verbose bool) (*server, error) {
	if storeParent == "" {
		storeParent = v.dir
	}
	store, err := os.MkdirTemp(storeParent, "dokv-loadtest-store-"+v.name+"-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(store)
		return nil, err
	}
	s := &server{v: v, url: "http://127.0.0.1:" + strconv.Itoa(port), storeDir: store, log: &workerdtest.Output{}}
	args := []string{"serve", v.config,
		"--socket-addr", "http=127.0.0.1:" + strconv.Itoa(port),
		"--directory-path", "store=" + store}
	if verbose {
		args = append(args, "--verbose")
	}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Dir = v.dir
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s.started = time.Now()
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(store)
		return nil, fmt.Errorf("starting workerd for %s: %w", v.name, err)
	}
	s.done = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.done) }()
	return s, nil
}

// addr is the server's host:port.
func (s *server) addr() string { return strings.TrimPrefix(s.url, "http://") }

// exited reports whether workerd has exited.
func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// waitListening polls until workerd accepts connections, and returns how
// long after its start that was.
func (s *server) waitListening(timeout time.Duration) (time.Duration, error) {
	deadline := s.started.Add(timeout)
	for time.Now().Before(deadline) {
		if s.exited() {
			return 0, fmt.Errorf("workerd (%s) exited at start:\n%s", s.v.name, s.log.String())
		}
		conn, err := net.DialTimeout("tcp", s.addr(), 100*time.Millisecond)
		if err == nil {
			conn.Close()
			return time.Since(s.started), nil
		}
		time.Sleep(500 * time.Microsecond)
	}
	return 0, fmt.Errorf("workerd (%s) did not listen within %v:\n%s", s.v.name, timeout, s.log.String())
}

// rssBytes is workerd's resident set size (VmRSS), or 0 if unknown.
func (s *server) rssBytes() int64 {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// clockTicks is the unit of utime and stime in /proc/PID/stat (USER_HZ,
// which is 100 on every Linux platform Go supports).
const clockTicks = 100

// cpuTime is the CPU time workerd has used so far, user and system, over
// all its threads: utime + stime of /proc/PID/stat. The difference over a
// phase, divided by its requests, is the CPU per request that Cloudflare
// bills and that stays stable on a shared machine, unlike latency.
func (s *server) cpuTime() (time.Duration, error) {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0, fmt.Errorf("workerd (%s) is not running", s.v.name)
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// utime and stime are fields 14 and 15, the 12th and 13th after it.
	rest := string(data)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", s.cmd.Process.Pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed /proc/%d/stat", s.cmd.Process.Pid)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// stop kills workerd (its process group: it is ours alone) and deletes its
// storage.
func (s *server) stop() {
	if s.cmd != nil && s.cmd.Process != nil && !s.exited() {
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	}
	if s.done != nil {
		<-s.done
	}
	os.RemoveAll(s.storeDir)
}

// logTail is the end of workerd's output, for error messages.
func (s *server) logTail() string {
	out := s.log.String()
	if len(out) > 4000 {
		out = "…" + out[len(out)-4000:]
	}
	return out
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// workerdVersion is what `workerd --version` prints.
func workerdVersion(bin string) string {
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return strings.TrimSpace(string(out))
}
