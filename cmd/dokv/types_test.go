package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/internal/workerdtest"
	"github.com/dokv/dokv/internal/workerfiles"
)

// userWorker is a TypeScript Worker beside a Go Worker's build, importing
// DokvObject's types as the README says.
const userWorker = `import type { DokvObject, FlowJob } from "./build/entry.mjs";

interface Env {
  GO: DurableObjectNamespace<DokvObject>;
}

export default {
  async fetch(request, env): Promise<Response> {
    const job: FlowJob | undefined = await env.GO.get(env.GO.idFromName("k")).getFlowJob();
    return Response.json({ status: job?.status ?? null });
  },
} satisfies ExportedHandler<Env>;
`

// The glue that build writes carries the entry module's types under the
// name by which TypeScript finds them for "./build/entry.mjs" (entry.d.mts;
// entry.d.ts would leave the import untyped, TS7016), in each module
// resolution a Worker's tsconfig may use.
func TestBuildGlue_TypesResolveFromBuildDir(t *testing.T) {
	root, err := workerdtest.RepoRoot()
	require.NoError(t, err)
	tsc := filepath.Join(root, "node_modules", ".bin", "tsc")
	if _, err := os.Stat(tsc); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("tsc is required under CI=true (npm ci): %v", err)
		}
		t.Skipf("skipping: typescript is not installed (npm ci): %v", err)
	}
	dir := t.TempDir()
	build := filepath.Join(dir, "build")
	require.NoError(t, os.MkdirAll(build, 0o755))
	require.NoError(t, writeGlue(build, []byte("// wasm_exec.js")))
	types, err := os.ReadFile(filepath.Join(build, "entry.d.mts"))
	require.NoError(t, err)
	assert.Equal(t, workerfiles.EntryTypes, types)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "worker.ts"), []byte(userWorker), 0o644))
	// Found from dir upward, as a Worker beside the repository's own would.
	require.NoError(t, os.Symlink(filepath.Join(root, "node_modules"), filepath.Join(dir, "node_modules")))

	for _, resolution := range [][]string{{"es2022", "bundler"}, {"nodenext", "nodenext"}, {"es2022", "node10"}} {
		cmd := exec.Command(tsc, "--noEmit", "--pretty", "false", "--strict", "--target", "es2022", "--lib", "es2022",
			"--types", "@cloudflare/workers-types", "--module", resolution[0], "--moduleResolution", resolution[1],
			"--ignoreDeprecations", "5.0", "worker.ts")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		assert.NoError(t, err, "tsc --moduleResolution %s:\n%s", resolution[1], out)
	}
}
