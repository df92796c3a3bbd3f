package main

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/examples/quickstart/scenarios"
	"github.com/dokv/dokv/local"
)

// Two runs over one directory, as a user runs the quick start twice: the
// second finds what the first left on disk, reads it back intact, and
// still holds its own invariants over it.
func TestRun_SecondRunFindsTheFirstRunsData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "quickstart-data")
	var first, second strings.Builder
	require.NoError(t, run(context.Background(), &first, []string{"-dir", dir}), first.String())
	require.NoError(t, run(context.Background(), &second, []string{"-dir", dir}), second.String())

	assert.True(t, strings.HasPrefix(first.String(), "data in "+dir+"\n\n"), first.String())
	assert.NotContains(t, first.String(), "earlier", "the first run finds nothing and says nothing of it")
	assert.Contains(t, first.String(), "the data stays in "+dir+": run again over it, and the scenarios find it\n")
	for _, name := range scenarios.Names {
		assert.DirExists(t, filepath.Join(dir, name), "each scenario's namespace has its directory")
	}

	assert.Contains(t, second.String(), "found 1 flow job from an earlier run, still completed with its 4 tasks\n")
	m := regexp.MustCompile(`(?m)^upload (upload-[0-9a-f-]{36}) expects 12 parts of 5 MiB\n  part +(\d+) completed the upload`).FindStringSubmatch(first.String())
	require.NotNil(t, m, first.String())
	upload, part := m[1], m[2]
	assert.Contains(t, second.String(), "found 1 upload from an earlier run, still complete (12 parts), assembled on part "+part+"'s arrival\n")
	assert.Contains(t, second.String(), "part "+part+" delivered again to "+upload+" now is ignored as a duplicate: it is not assembled twice\n")
	assert.Regexp(t, `(?m)^  SingleObject\("uploads"\) +1 object, lists all 200 keys in order; each key written by this run and 1 earlier one$`, second.String())
	assert.Regexp(t, `(?m)^  PerKey\(\) +200 objects, cannot list \(ErrUnsupported\); each key written by this run and 1 earlier one$`, second.String())
	assert.Regexp(t, `(?m)^  HashShards\(8\) +8 objects, lists all 200 keys in order; each key written by this run and 1 earlier one$`, second.String())
	for _, scenario := range []string{"flow jobs", "upload coordination", "partitioning"} {
		assert.Contains(t, second.String(), "ok   "+scenario+"\n")
	}
	assert.NotContains(t, second.String(), "FAIL")
	assert.NotEqual(t, jobID(t, first.String()), jobID(t, second.String()), "each run makes a job of its own")
}

// jobID returns the ID of the job a run's output says it created.
func jobID(t *testing.T, out string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^created job ([0-9a-f-]{36}):`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	return m[1]
}

// The command as its users run it, a process of its own: while another
// process holds one of its namespaces' directories it fails at once,
// saying so, before any scenario runs; once the directory is free it runs
// over it. Without -dir it is a usage error.
func TestCommand_DirectoryInUseByAnotherProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and starts processes")
	}
	bin := filepath.Join(t.TempDir(), "quickstart")
	built, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", built)
	dir := filepath.Join(t.TempDir(), "quickstart-data")

	// The last namespace the command opens: the ones it opened before
	// must not let a scenario run.
	held, err := local.Open(filepath.Join(dir, scenarios.PartitioningHashShards))
	require.NoError(t, err)
	code, out := command(t, bin, "-dir", dir)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, local.ErrLocked.Error())
	assert.Contains(t, out, "(is another quickstart running on it?)")
	assert.NotContains(t, out, "== ", "no scenario ran")
	require.NoError(t, held.Close())

	code, out = command(t, bin, "-dir", dir)
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "ok   partitioning\n")

	code, out = command(t, bin)
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "-dir is required")
}

// command runs bin with args and returns its exit code and its output.
func command(t *testing.T, bin string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	require.NoError(t, ctx.Err(), "the command did not end: %s", out)
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), string(out)
	}
	require.NoError(t, err, "%s", out)
	return 0, string(out)
}
