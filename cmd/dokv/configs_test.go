package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/internal/workerfiles"
)

// exampleConfig is the example Worker's configuration; its wrangler.toml and
// workerd.capnp are what the templates write for it, kept in the repository
// so that users can read and deploy them.
var exampleConfig = workerfiles.Config{
	Name:      "dokv-example",
	FilesDir:  "build/",
	Bindings:  []string{"DOKV"},
	UniqueKey: "dokv-example",
	Vars:      map[string]string{"GREETING": "Hello from a Go Worker on dokv."},
}

func TestExampleConfigsMatchTemplates(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "worker")
	if os.Getenv("DOKV_UPDATE_CONFIGS") == "1" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "wrangler.toml"), []byte(workerfiles.WranglerConfig(exampleConfig)), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "workerd.capnp"), []byte(workerfiles.WorkerdConfig(exampleConfig)), 0o644))
	}
	wrangler, err := os.ReadFile(filepath.Join(dir, "wrangler.toml"))
	require.NoError(t, err)
	assert.Equal(t, workerfiles.WranglerConfig(exampleConfig), string(wrangler), "regenerate with DOKV_UPDATE_CONFIGS=1 go test ./cmd/dokv")
	capnp, err := os.ReadFile(filepath.Join(dir, "workerd.capnp"))
	require.NoError(t, err)
	assert.Equal(t, workerfiles.WorkerdConfig(exampleConfig), string(capnp), "regenerate with DOKV_UPDATE_CONFIGS=1 go test ./cmd/dokv")
}

func TestRun_InitWritesGlueAndConfigs(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, run([]string{"init", "-dir", dir, "-name", "w", "-binding", "A", "-binding", "B", "-var", "X=1"}))
	for _, name := range []string{"entry.mjs", "wasm_exec.js", "wrangler.toml", "workerd.capnp"} {
		_, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err, name)
	}
	entry, err := os.ReadFile(filepath.Join(dir, "entry.mjs"))
	require.NoError(t, err)
	assert.Equal(t, workerfiles.EntryModule, entry)
	wrangler, err := os.ReadFile(filepath.Join(dir, "wrangler.toml"))
	require.NoError(t, err)
	assert.Contains(t, string(wrangler), `new_sqlite_classes = ["DokvObject"]`)
	assert.Contains(t, string(wrangler), `name = "A"`)
	assert.Contains(t, string(wrangler), `name = "B"`)
	assert.Contains(t, string(wrangler), `X = "1"`)
	capnp, err := os.ReadFile(filepath.Join(dir, "workerd.capnp"))
	require.NoError(t, err)
	assert.Contains(t, string(capnp), "enableSql = true")
	assert.Contains(t, string(capnp), `localDisk = "store"`)
}

func TestRun_RejectsBadArguments(t *testing.T) {
	assert.Error(t, run(nil))
	assert.Error(t, run([]string{"deploy"}))
	assert.Error(t, run([]string{"build", "-dir", t.TempDir()}))
	assert.Error(t, run([]string{"init", "-dir", t.TempDir(), "-var", "novalue"}))
}
