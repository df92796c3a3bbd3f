package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/internal/workerfiles"
)

// exampleConfig is the example Worker's configuration: its wrangler.toml is
// what `dokv init` writes for it.
var exampleConfig = workerfiles.Config{
	Name:      "dokv-example",
	FilesDir:  "build/",
	Bindings:  []string{"DOKV"},
	UniqueKey: "dokv-example",
	Vars:      map[string]string{"GREETING": "Hello from a Go Worker on dokv."},
}

func TestExampleWranglerTomlMatchesInit(t *testing.T) {
	path := filepath.Join("..", "..", "examples", "worker", "wrangler.toml")
	if os.Getenv("DOKV_UPDATE_CONFIGS") == "1" {
		require.NoError(t, os.WriteFile(path, []byte(workerfiles.WranglerConfig(exampleConfig)), 0o644))
	}
	wrangler, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, workerfiles.WranglerConfig(exampleConfig), string(wrangler), "regenerate with DOKV_UPDATE_CONFIGS=1 go test ./cmd/dokv")
}

// dev reads back what init writes: the bindings, vars and compatibility.
func TestReadWrangler_ReadsWhatInitWrites(t *testing.T) {
	c, err := readWrangler(filepath.Join("..", "..", "examples", "worker", "wrangler.toml"))
	require.NoError(t, err)
	assert.Equal(t, "dokv-example", c.Name)
	assert.Equal(t, []string{"DOKV"}, c.Bindings)
	assert.Equal(t, exampleConfig.Vars, c.Vars)
	assert.Equal(t, workerfiles.CompatibilityDate, c.CompatibilityDate)
	assert.Equal(t, workerfiles.CompatibilityFlags, c.CompatibilityFlags)
	capnp := workerfiles.WorkerdConfig(c)
	assert.Contains(t, capnp, `(name = "DOKV", durableObjectNamespace = "DokvObject")`)
	assert.Contains(t, capnp, `(name = "GREETING", text = "Hello from a Go Worker on dokv.")`)
	assert.Contains(t, capnp, `compatibilityDate = "`+workerfiles.CompatibilityDate+`"`)
}

// A Worker that binds what only wrangler simulates is handed over to
// wrangler dev, by name; so are non-string vars and other classes.
func TestReadWrangler_HandsOffToWrangler(t *testing.T) {
	base := workerfiles.WranglerConfig(exampleConfig)
	for name, extra := range map[string]string{
		"kv_namespaces": "\n[[kv_namespaces]]\nbinding = \"CACHE\"\nid = \"x\"\n",
		"r2_buckets":    "\n[[r2_buckets]]\nbinding = \"FILES\"\nbucket_name = \"f\"\n",
		"d1_databases":  "\n[[d1_databases]]\nbinding = \"DB\"\ndatabase_name = \"d\"\ndatabase_id = \"i\"\n",
		"not a string":  "LIMIT = 5\n",
		"other class":   "\n[[durable_objects.bindings]]\nname = \"OTHER\"\nclass_name = \"Counter\"\n",
	} {
		path := filepath.Join(t.TempDir(), "wrangler.toml")
		require.NoError(t, os.WriteFile(path, []byte(base+extra), 0o644))
		_, err := readWrangler(path)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "wrangler dev", name)
	}
	_, err := readWrangler(filepath.Join(t.TempDir(), "wrangler.toml"))
	assert.ErrorContains(t, err, "dokv init")
}

func TestRun_InitWritesWranglerTomlOnce(t *testing.T) {
	dir := newModule(t)
	var out bytes.Buffer
	require.NoError(t, run([]string{"init", "-binding", "A", "-binding", "B", "-var", "X=1", dir}, &out))
	path := filepath.Join(dir, "wrangler.toml")
	wrangler, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, want := range []string{`main = "build/entry.mjs"`, `new_sqlite_classes = ["DokvObject"]`, `name = "A"`, `name = "B"`,
		`X = "1"`, `compatibility_date = "` + workerfiles.CompatibilityDate + `"`} {
		assert.Contains(t, string(wrangler), want)
	}

	// A wrangler.toml the user edited is kept, and init says so; flags
	// that would shape it are refused rather than ignored.
	edited := append(wrangler, "\n[[kv_namespaces]]\nbinding = \"CACHE\"\nid = \"x\"\n"...)
	require.NoError(t, os.WriteFile(path, edited, 0o644))
	out.Reset()
	require.NoError(t, run([]string{"init", dir}, &out))
	assert.Contains(t, out.String(), "kept    "+path)
	err = run([]string{"init", "-var", "Y=2", dir}, &out)
	assert.ErrorContains(t, err, "exists and is kept, so -var would change nothing")
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, edited, got)

	require.NoError(t, run([]string{"init", "-force", "-compatibility-date", "2026-01-15", dir}, &out))
	got, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(got), `compatibility_date = "2026-01-15"`)
	assert.NotContains(t, string(got), "CACHE", "-force rewrites")
}

func TestRun_HelpAndBadArguments(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"help", "init"}, {"help", "build"}, {"help", "dev"}, {"dev", "-h"}, {"init", "-help"}} {
		var out bytes.Buffer
		err := run(args, &out)
		if len(args) > 1 && args[0] != "help" {
			assert.ErrorIs(t, err, flag.ErrHelp, "%v", args)
		} else {
			assert.NoError(t, err, "%v", args)
		}
		assert.Contains(t, out.String(), "Usage: dokv", "%v", args)
	}
	var out bytes.Buffer
	assert.Error(t, run(nil, &out))
	assert.ErrorContains(t, run([]string{"deploy"}, &out), "unknown command")
	assert.ErrorContains(t, run([]string{"build"}, &out), "takes one PACKAGE")
	assert.ErrorContains(t, run([]string{"build", "-nope", "."}, &out), "dokv help build")
	assert.ErrorContains(t, run([]string{"init", "-var", "novalue", newModule(t)}, &out), "KEY=VALUE")
}
