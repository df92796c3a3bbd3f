package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/internal/workerdtest"
)

// A newcomer's path, in a module outside this repository, typed as the
// command's doc says: dokv as a tool of the module (go.mod's tool line), so
// that `go tool dokv` is built from the dokv in go.mod; init, build,
// `wrangler deploy --dry-run`, and dev answering a request until Ctrl-C.
//
// dokv is not published, so the module replaces it with this repository,
// and the tool line is added by `go mod edit -tool` and `go mod tidy`, the
// doc's way for a replaced dokv: `go get -tool` asks the module proxy about
// github.com/dokv/dokv/cmd/dokv as a module path of its own, and a proxy
// that answers 403 for a path it does not serve, as the one this test was
// written with does, stops go get (only 404 and 410 mean "no such module").
// Everything else is what a user runs, with no GOFLAGS; node_modules is
// this repository's `npm ci`, standing for the user's `npm install
// --save-exact workerd wrangler`.
func TestNewcomer_GoToolInAModuleOfItsOwn(t *testing.T) {
	wranglerBin := wrangler(t)
	workerdtest.Require(t)
	root, err := workerdtest.RepoRoot()
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "app")
	require.NoError(t, os.Mkdir(dir, 0o755))
	goCmd := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go %s:\n%s", strings.Join(args, " "), out)
		return string(out)
	}
	goCmd("mod", "init", "example.com/app")
	goCmd("mod", "edit", "-require=github.com/dokv/dokv@v0.0.0", "-replace=github.com/dokv/dokv="+root)
	goCmd("mod", "edit", "-tool=github.com/dokv/dokv/cmd/dokv")
	goCmd("mod", "tidy")
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	assert.Contains(t, string(gomod), "tool github.com/dokv/dokv/cmd/dokv")
	require.NoError(t, os.Symlink(filepath.Join(root, "node_modules"), filepath.Join(dir, "node_modules")))

	out := goCmd("tool", "dokv", "init", ".")
	assert.Equal(t, "wrote   wrangler.toml\nwrote   .gitignore (build/, .dev.vars)\n", out)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(recipe), 0o644))
	goCmd("mod", "tidy") // main.go imports dokv's packages, whose requirements go.sum now needs
	goCmd("tool", "dokv", "build", ".")
	for _, name := range []string{"app.wasm", "entry.mjs", "wasm_exec.js", "entry.d.mts"} {
		assert.FileExists(t, filepath.Join(dir, "build", name))
	}
	log := dryRun(t, wranglerBin, dir)
	assert.Contains(t, log, "env.DOKV (DokvObject)")

	port := freePort(t)
	cmd := exec.Command("go", "tool", "dokv", "dev", "-port", strconv.Itoa(port), ".")
	cmd.Dir = dir
	dev := startDev(t, cmd, port)
	dev.waitServing(t)
	resp, err := workerdtest.Client.Get("http://" + addrOf(port) + "/notes/none")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "the Worker answers: a note that is not there")
	// Ctrl-C: `go tool` passes the signal on to dokv, which stops workerd.
	dev.stop(t, syscall.SIGINT)
}
