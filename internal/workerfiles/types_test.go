package workerfiles_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/internal/workerdtest"
)

// tsc returns the pinned TypeScript compiler of `npm ci`, or ends the test:
// a skip normally, a failure under CI=true, where the declarations must be
// checked.
func tsc(t *testing.T) string {
	t.Helper()
	root, err := workerdtest.RepoRoot()
	require.NoError(t, err)
	bin := filepath.Join(root, "node_modules", ".bin", "tsc")
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("tsc is required under CI=true (npm ci): %v", err)
		}
		t.Skipf("skipping: typescript is not installed (npm ci): %v", err)
	}
	return bin
}

// runTSC type-checks the project of config and returns tsc's output and
// whether it found no error.
func runTSC(t *testing.T, config string) (string, bool) {
	t.Helper()
	out, err := exec.Command(tsc(t), "--noEmit", "--pretty", "false", "-p", config).CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("tsc did not run: %v\n%s", err, out)
	}
	return string(out), err == nil
}

// A TypeScript Worker that calls every declared method of DokvObject
// through a DurableObjectNamespace<DokvObject> binding type-checks.
func TestEntryTypes_WorkerTypeChecks(t *testing.T) {
	out, ok := runTSC(t, filepath.Join("testdata", "tsworker"))
	assert.True(t, ok, "tsc:\n%s", out)
}

// The declarations bite: each wrong call of wrong.ts fails with the error
// its "expect TSnnnn" comment names, on its line, and nothing else fails,
// so that the file fails for the reasons it states, not for a missing
// module or a broken config.
func TestEntryTypes_WrongCallsFail(t *testing.T) {
	source, err := os.ReadFile(filepath.Join("testdata", "tsworker", "wrong.ts"))
	require.NoError(t, err)
	var want []string
	for i, line := range bytes.Split(source, []byte("\n")) {
		if m := regexp.MustCompile(`// expect (TS\d+)`).FindSubmatch(line); m != nil {
			want = append(want, "line "+strconv.Itoa(i+1)+" "+string(m[1]))
		}
	}
	require.NotEmpty(t, want)

	out, ok := runTSC(t, filepath.Join("testdata", "tsworker", "tsconfig.wrong.json"))
	require.False(t, ok, "tsc accepted wrong.ts:\n%s", out)
	var got []string
	for _, m := range regexp.MustCompile(`(?m)^(.*)\((\d+),\d+\): error (TS\d+)`).FindAllStringSubmatch(out, -1) {
		require.Equal(t, "wrong.ts", filepath.Base(m[1]), "an error outside wrong.ts:\n%s", out)
		got = append(got, "line "+m[2]+" "+m[3])
	}
	slices.Sort(got)
	slices.Sort(want)
	assert.Equal(t, want, got, "tsc:\n%s", out)
}
