package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// init says what it wrote and what it kept, path by path, and makes the
// Worker's .gitignore ignore the build and the local secrets, once.
func TestInit_SaysWhatItWroteAndKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "notes")
	require.NoError(t, os.Mkdir(dir, 0o755))
	wranglerToml, gitignore := filepath.Join(dir, "wrangler.toml"), filepath.Join(dir, ".gitignore")

	var out bytes.Buffer
	require.NoError(t, run([]string{"init", dir}, &out))
	assert.Equal(t, "wrote   "+wranglerToml+"\nwrote   "+gitignore+" (build/, .dev.vars)\n", out.String())
	got, err := os.ReadFile(gitignore)
	require.NoError(t, err)
	assert.Equal(t, "build/\n.dev.vars\n", string(got))

	out.Reset()
	require.NoError(t, run([]string{"init", dir}, &out))
	assert.Equal(t, "kept    "+wranglerToml+" (it exists; edit it, or rewrite it with -force)\n"+
		"kept    "+gitignore+" (it ignores build/ and .dev.vars already)\n", out.String())
	got, err = os.ReadFile(gitignore)
	require.NoError(t, err)
	assert.Equal(t, "build/\n.dev.vars\n", string(got), "nothing is added twice")

	require.NoError(t, os.WriteFile(gitignore, []byte("node_modules/\n/build"), 0o644))
	out.Reset()
	require.NoError(t, run([]string{"init", "-force", dir}, &out))
	assert.Equal(t, "wrote   "+wranglerToml+"\nadded   .dev.vars to "+gitignore+"\n", out.String())
	got, err = os.ReadFile(gitignore)
	require.NoError(t, err)
	assert.Equal(t, "node_modules/\n/build\n.dev.vars\n", string(got))
}

// ensureIgnored appends only the lines a .gitignore lacks, counting other
// spellings of the same pattern as present, and leaves every line there as
// it was.
func TestEnsureIgnored_AppendsOnlyWhatIsMissing(t *testing.T) {
	for _, tc := range []struct {
		before, after string
		added         []string
	}{
		{"", "build/\n.dev.vars\n", []string{"build/", ".dev.vars"}},
		{"*.log", "*.log\nbuild/\n.dev.vars\n", []string{"build/", ".dev.vars"}},
		{"build\n", "build\n.dev.vars\n", []string{".dev.vars"}},
		{"/build/\n.dev.vars*\n", "/build/\n.dev.vars*\n", nil},
		{"  .dev.vars  \r\nbuild/\r\n", "  .dev.vars  \r\nbuild/\r\n", nil},
		{"# build/\nbuilds/\n", "# build/\nbuilds/\nbuild/\n.dev.vars\n", []string{"build/", ".dev.vars"}},
	} {
		path := filepath.Join(t.TempDir(), ".gitignore")
		require.NoError(t, os.WriteFile(path, []byte(tc.before), 0o644))
		added, created, err := ensureIgnored(path)
		require.NoError(t, err, "%q", tc.before)
		assert.False(t, created, "%q", tc.before)
		assert.Equal(t, tc.added, added, "%q", tc.before)
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, tc.after, string(got), "%q", tc.before)

		added, _, err = ensureIgnored(path)
		require.NoError(t, err)
		assert.Empty(t, added, "a second run adds nothing to %q", tc.before)
	}
}
