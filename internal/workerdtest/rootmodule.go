package workerdtest

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rootModulePath is the module whose directory holds package.json,
// node_modules and the examples that Build compiles.
const rootModulePath = "github.com/dokv/dokv"

// RepoRoot finds the repository root, the directory of the module
// github.com/dokv/dokv, from the working directory. It goes on past the
// go.mod of a nested module (local, with its own go.mod), whose directory
// has no node_modules or examples.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && modulePath(data) == rootModulePath {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod of " + rootModulePath + " above the working directory")
		}
		dir = parent
	}
}

// modulePath returns the path of go.mod's module directive, "" if none.
func modulePath(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`)
		}
	}
	return ""
}

// EnterRootModule makes the root module's directory the working directory
// until the test ends (tb.Chdir) and returns it, so that RepoRoot, Binary,
// Require and Build, which start from the working directory, find the
// root's go.mod, examples and node_modules from a test of a nested module.
// As with tb.Chdir, the test must not be parallel.
//
// Not finding the root module is a broken checkout, not a missing tool, so
// it fails the test everywhere rather than skipping it.
func EnterRootModule(tb testing.TB) string {
	tb.Helper()
	root, err := RepoRoot()
	if err != nil {
		tb.Fatalf("finding the root module: %v", err)
	}
	tb.Chdir(root)
	return root
}
