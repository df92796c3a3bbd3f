package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/internal/workerdtest"
	"github.com/dokv/dokv/internal/workerfiles"
)

// The values of .dev.vars become bindings workerd reads from its
// environment: they replace wrangler.toml's vars of the same name, -var
// replaces both, and no value is written into the workerd config.
func TestDevConfig_DevVarsReachWorkerdThroughItsEnvironmentOnly(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "wrangler.toml"), []byte(workerfiles.WranglerConfig(exampleConfig)), 0o644))
	secret := "dev-secret-0123456789abcdef0123456789"
	devVars := "# local secrets\nDOKV_ADMIN_SECRET=\"" + secret + "\"\nGREETING=from dev vars\nPATH=not workerd's\nLEVEL=debug\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, devVarsFile), []byte(devVars), 0o600))

	c, env, err := devConfig(dir, map[string]string{"LEVEL": "info"})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"LEVEL": "info"}, c.Vars, "-var wins over .dev.vars, which wins over [vars]")
	assert.Equal(t, map[string]string{
		"DOKV_ADMIN_SECRET": "DOKV_DEV_VAR_DOKV_ADMIN_SECRET",
		"GREETING":          "DOKV_DEV_VAR_GREETING",
		"PATH":              "DOKV_DEV_VAR_PATH",
	}, c.EnvBindings)
	assert.Equal(t, []string{
		"DOKV_DEV_VAR_DOKV_ADMIN_SECRET=" + secret,
		"DOKV_DEV_VAR_GREETING=from dev vars",
		"DOKV_DEV_VAR_PATH=not workerd's",
	}, env, "prefixed, so that .dev.vars cannot change workerd's own PATH")

	capnp := workerfiles.WorkerdConfig(c)
	assert.Contains(t, capnp, `(name = "DOKV_ADMIN_SECRET", fromEnvironment = "DOKV_DEV_VAR_DOKV_ADMIN_SECRET"),`)
	assert.Contains(t, capnp, `(name = "LEVEL", text = "info"),`)
	assert.NotContains(t, capnp, secret)
	assert.NotContains(t, capnp, `"Hello from a Go Worker on dokv."`, "the .dev.vars GREETING replaces wrangler.toml's")

	// Without .dev.vars, the config is wrangler.toml's.
	require.NoError(t, os.Remove(filepath.Join(dir, devVarsFile)))
	c, env, err = devConfig(dir, nil)
	require.NoError(t, err)
	assert.Equal(t, exampleConfig.Vars, c.Vars)
	assert.Empty(t, c.EnvBindings)
	assert.Empty(t, env)
}

// devProcess is a dokv dev (or `go tool dokv dev`) running as a process of
// its own, whose standard error is watched for dev's messages.
type devProcess struct {
	cmd    *exec.Cmd
	port   int
	served chan error    // receives once: nil when dev says it is serving
	done   chan struct{} // closed when the process has exited
	err    error         // how it exited, once done is closed

	mu     sync.Mutex
	stderr strings.Builder
}

// startDev starts cmd, a dokv dev serving on port, and ends it with the
// test if it is still running.
func startDev(t *testing.T, cmd *exec.Cmd, port int) *devProcess {
	t.Helper()
	p := &devProcess{cmd: cmd, port: port, served: make(chan error, 1), done: make(chan struct{})}
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.stderr.WriteString(line + "\n")
			p.mu.Unlock()
			if strings.HasPrefix(line, "dokv: serving on ") {
				// Checked at once: dev must say it serves only when the
				// port accepts.
				conn, err := net.DialTimeout("tcp", addrOf(port), time.Second)
				if err == nil {
					conn.Close()
				}
				p.served <- err
			}
		}
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// log is what dev printed to standard error so far.
func (p *devProcess) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// waitServing waits until dev says it is serving; the port must accept
// connections by then.
func (p *devProcess) waitServing(t *testing.T) {
	t.Helper()
	select {
	case err := <-p.served:
		require.NoError(t, err, "dev said it was serving before the port accepted:\n%s", p.log())
	case <-p.done:
		require.Fail(t, "dev exited before serving", "%v\n%s", p.err, p.log())
	case <-time.After(3 * time.Minute):
		require.Fail(t, "dev did not serve within 3 minutes", p.log())
	}
}

// stop sends sig to dev and checks that it exits cleanly soon after,
// leaving the port free and no workerd behind.
func (p *devProcess) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	started := descendants(p.cmd.Process.Pid)
	require.NoError(t, p.cmd.Process.Signal(sig))
	select {
	case <-p.done:
		require.NoError(t, p.err, "dev's exit after %v:\n%s", sig, p.log())
	case <-time.After(20 * time.Second):
		require.Fail(t, "dev did not exit within 20s of "+sig.String(), p.log())
	}
	assert.Contains(t, p.log(), "dokv: stopped workerd")
	l, err := net.Listen("tcp", addrOf(p.port))
	require.NoError(t, err, "the port is still held after dev exited")
	l.Close()
	if runtime.GOOS == "linux" {
		assert.NotEmpty(t, started, "dev runs workerd as its child")
	}
	for _, pid := range started {
		assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "process %d, started by dev, is still there", pid)
	}
}

// descendants returns the processes pid started, and theirs, read from
// /proc on Linux (elsewhere none, and the port check stands alone).
func descendants(pid int) []int {
	var all []int
	for _, child := range children(pid) {
		all = append(all, child)
		all = append(all, descendants(child)...)
	}
	return all
}

// children returns the processes whose parent is pid.
func children(pid int) []int {
	if runtime.GOOS != "linux" {
		return nil
	}
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces, so read after
		// its closing parenthesis.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			pids = append(pids, child)
		}
	}
	return pids
}

func addrOf(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// freePort returns a loopback port nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// buildDokv builds this command into a temporary directory.
func buildDokv(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "dokv")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// dokv dev, stopped by SIGTERM or SIGINT, stops its workerd: the port is
// free and workerd gone at once, so the next dev on the same port serves
// again. dev says it is serving only when the port accepts connections.
func TestDev_StopsWorkerdWhenStopped(t *testing.T) {
	workerdtest.Require(t)
	root, err := workerdtest.RepoRoot()
	require.NoError(t, err)
	bin := buildDokv(t)
	dir := newModule(t)
	var out strings.Builder
	require.NoError(t, run([]string{"init", dir}, &out))
	port := freePort(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		// From the repository root, where `npm ci` installed workerd, as
		// from a module where the user ran `npm install workerd`.
		cmd := exec.Command(bin, "dev", "-port", strconv.Itoa(port), dir)
		cmd.Dir = root
		dev := startDev(t, cmd, port)
		dev.waitServing(t)
		resp, err := workerdtest.Client.Get("http://" + addrOf(port) + "/notes/none")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, "the Worker answers: a note that is not there")
		dev.stop(t, sig)
	}
}

// A port another process holds is refused before workerd starts, and dev
// never says it is serving: it used to, before workerd failed with "Address
// already in use".
func TestDev_RefusesABusyPortWithoutSayingItServes(t *testing.T) {
	workerdtest.Require(t)
	root, err := workerdtest.RepoRoot()
	require.NoError(t, err)
	bin := buildDokv(t)
	dir := newModule(t)
	var out strings.Builder
	require.NoError(t, run([]string{"init", dir}, &out))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port

	cmd := exec.Command(bin, "dev", "-port", strconv.Itoa(port), dir)
	cmd.Dir = root
	stderr, err := cmd.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(stderr), fmt.Sprintf("127.0.0.1:%d is in use", port))
	assert.NotContains(t, string(stderr), "serving")
}

// envWorker answers GET /NAME with the value of the Worker's binding NAME,
// as a Worker reads its secrets.
const envWorker = `package main

import (
	"github.com/syumai/workers/cloudflare"

	"github.com/dokv/dokv/worker"
)

func main() {
	worker.Serve(worker.HandlerFunc(func(w *worker.ResponseWriter, r *worker.Request) {
		w.WriteString(cloudflare.Getenv(r.Path[1:]))
	}))
}
`

// On workerd, the Worker reads the secrets of .dev.vars as it reads
// wrangler's, and the build directory holds none of them.
func TestDev_ServesDevVarsToTheWorker(t *testing.T) {
	workerdtest.Require(t)
	root, err := workerdtest.RepoRoot()
	require.NoError(t, err)
	bin := buildDokv(t)
	dir := newModule(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(envWorker), 0o644))
	tidy := exec.Command("go", "mod", "tidy")
	tidy.Dir = dir
	out, err := tidy.CombinedOutput()
	require.NoError(t, err, "go mod tidy: %s", out)
	var initOut strings.Builder
	require.NoError(t, run([]string{"init", "-var", "GREETING=from wrangler.toml", dir}, &initOut))
	secret := "a dev secret # with a hash, long enough"
	require.NoError(t, os.WriteFile(filepath.Join(dir, devVarsFile), []byte("DOKV_ADMIN_SECRET=\""+secret+"\"\n"), 0o600))

	port := freePort(t)
	cmd := exec.Command(bin, "dev", "-port", strconv.Itoa(port), dir)
	cmd.Dir = root
	dev := startDev(t, cmd, port)
	dev.waitServing(t)
	assert.Contains(t, dev.log(), "dokv: using DOKV_ADMIN_SECRET from ")
	for name, want := range map[string]string{"DOKV_ADMIN_SECRET": secret, "GREETING": "from wrangler.toml"} {
		resp, err := workerdtest.Client.Get("http://" + addrOf(port) + "/" + name)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, want, string(body), name)
	}
	dev.stop(t, syscall.SIGTERM)
	assert.NotContains(t, dev.log(), secret, "dev prints names, never values")
	filepath.WalkDir(filepath.Join(dir, "build"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.NotContains(t, string(data), secret, "%s holds the secret", path)
		}
		return nil
	})
}
