package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/internal/workerdtest"
)

// recipe is a Worker written from the README's recipe, for a module made
// from scratch.
const recipe = `package main

import (
	"errors"
	"log"
	"strings"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/worker"
)

type Note struct {
	Text string ` + "`json:\"text\"`" + `
}

func main() {
	ns, err := dokv.WorkersNamespace("DOKV")
	if err != nil {
		log.Fatal(err)
	}
	notes, err := dokv.New[Note](ns)
	if err != nil {
		log.Fatal(err)
	}
	worker.Serve(worker.HandlerFunc(func(w *worker.ResponseWriter, r *worker.Request) {
		id, _ := strings.CutPrefix(r.Path, "/notes/")
		note, err := notes.Get(r.Context(), id)
		if errors.Is(err, dokv.ErrNotFound) {
			w.WriteHeader(404)
			return
		}
		w.SetHeader("Content-Type", "text/plain")
		w.WriteString(note.Text)
	}))
}
`

// newModule writes a new module with the recipe Worker in a temporary
// directory, using this repository's dokv, and returns its directory.
func newModule(t *testing.T) string {
	t.Helper()
	root, err := workerdtest.RepoRoot()
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "notes-worker")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	gomod := "module example.com/notes\n\ngo 1.24\n\nrequire github.com/dokv/dokv v0.0.0\n\nreplace github.com/dokv/dokv => " + root + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(recipe), 0o644))
	tidy := exec.Command("go", "mod", "tidy")
	tidy.Dir = dir
	out, err := tidy.CombinedOutput()
	require.NoError(t, err, "go mod tidy: %s", out)
	return dir
}

// wrangler returns the pinned wrangler of `npm ci`, or ends the test: a
// skip normally, a failure under CI=true.
func wrangler(t *testing.T) string {
	t.Helper()
	root, err := workerdtest.RepoRoot()
	require.NoError(t, err)
	bin := filepath.Join(root, "node_modules", ".bin", "wrangler")
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("wrangler is required under CI=true (npm ci): %v", err)
		}
		t.Skipf("skipping: wrangler is not installed (npm ci): %v", err)
	}
	return bin
}

// dryRun runs `wrangler deploy --dry-run` beside dir's wrangler.toml and
// returns its output; wrangler bundles the Worker and checks its config
// without an account or the network.
func dryRun(t *testing.T, bin, dir string) string {
	t.Helper()
	cmd := exec.Command(bin, "deploy", "--dry-run", "--outdir", filepath.Join(t.TempDir(), "out"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "WRANGLER_SEND_METRICS=false", "CI=true", "NO_UPDATE_NOTIFIER=1",
		"WRANGLER_LOG_PATH="+t.TempDir())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "wrangler deploy --dry-run in %s:\n%s", dir, out)
	return string(out)
}

// The example Worker, built as the README says, is a Worker wrangler
// accepts: its wrangler.toml finds build/entry.mjs and the wasm.
func TestWranglerDryRun_ExampleWorker(t *testing.T) {
	bin := wrangler(t)
	dir := t.TempDir()
	wranglerToml, err := os.ReadFile(filepath.Join("..", "..", "examples", "worker", "wrangler.toml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "wrangler.toml"), wranglerToml, 0o644))
	var out bytes.Buffer
	require.NoError(t, run([]string{"build", "-dir", filepath.Join(dir, "build"), "../../examples/worker"}, &out))
	log := dryRun(t, bin, dir)
	assert.Contains(t, log, "env.DOKV (DokvObject)")
	assert.Contains(t, log, "env.GREETING")
}

// A Worker made from scratch with init and build, in a module of its own,
// is one wrangler accepts.
func TestWranglerDryRun_WorkerFromScratch(t *testing.T) {
	bin := wrangler(t)
	dir := newModule(t)
	var out bytes.Buffer
	require.NoError(t, run([]string{"init", "-var", "GREETING=hi", dir}, &out))
	require.NoError(t, run([]string{"build", dir}, &out))
	for _, name := range []string{"app.wasm", "entry.mjs", "wasm_exec.js", "entry.d.mts"} {
		assert.FileExists(t, filepath.Join(dir, "build", name))
	}
	log := dryRun(t, bin, dir)
	assert.Contains(t, log, "env.DOKV (DokvObject)")
	assert.Contains(t, log, `env.GREETING ("hi")`)
	wranglerToml, err := os.ReadFile(filepath.Join(dir, "wrangler.toml"))
	require.NoError(t, err)
	assert.Contains(t, string(wranglerToml), `name = "notes-worker"`, "init names the Worker after its directory")
}
