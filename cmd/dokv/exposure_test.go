package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/examples/worker/app"
	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/workerfiles"
	"github.com/dokv/dokv/worker/workerhttp"
)

// The test-only Workers (the e2e bridge, which forwards raw requests to any
// object, and the load-test Worker) must never be part of what users build
// or what this command writes.
func TestTestOnlyWorkersAreNotShipped(t *testing.T) {
	for _, pkg := range []string{"github.com/dokv/dokv/examples/worker", "github.com/dokv/dokv/cmd/dokv", "github.com/dokv/dokv"} {
		for _, goos := range []string{"js", ""} {
			cmd := exec.Command("go", "list", "-deps", pkg)
			cmd.Dir = filepath.Join("..", "..")
			if goos == "js" {
				cmd.Env = append(cmd.Environ(), "GOOS=js", "GOARCH=wasm")
			}
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			for _, dep := range strings.Fields(string(out)) {
				assert.NotContains(t, dep, "internal/e2e", "%s (GOOS=%s) depends on %s", pkg, goos, dep)
				assert.NotContains(t, dep, "internal/loadtest", "%s (GOOS=%s) depends on %s", pkg, goos, dep)
				assert.NotContains(t, dep, "internal/workerdtest", "%s (GOOS=%s) depends on %s", pkg, goos, dep)
			}
		}
	}

	entry := string(workerfiles.EntryModule)
	exports := regexp.MustCompile(`(?m)^export .*$`).FindAllString(entry, -1)
	assert.Equal(t, []string{"export default {", "export class DokvObject extends DurableObject {"}, exports,
		"the entry module exports the Worker's fetch and the object class, nothing else")
	assert.NotContains(t, entry, "/call/", "the entry module routes no requests itself")
}

// TestExampleExposesNoRawObjectAccess posts encoded object requests to the
// example Worker's routes and to paths a raw bridge might use: none may
// reach an object, so the namespace must stay empty.
func TestExampleExposesNoRawObjectAccess(t *testing.T) {
	ns := dokv.NewMemoryNamespace()
	h, err := app.New(ns)
	require.NoError(t, err)
	write := protocol.AppendRequest(nil, &protocol.Request{Op: protocol.OpWrite, Mutations: []protocol.Mutation{
		{Key: "0:stolen", Kind: protocol.KindPut, Value: []byte("x")},
	}})
	paths := []string{"/", "/call/DOKV/x", "/call", "/object/x", "/objects", "/raw", "/__stats", "/DOKV", "/jobs/x/raw"}
	for _, path := range paths {
		for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch} {
			rec := httptest.NewRecorder()
			workerhttp.FromHandler(h).ServeHTTP(rec, httptest.NewRequest(method, path, bytes.NewReader(write)))
			assert.GreaterOrEqual(t, rec.Code, 400, "%s %s answered %d", method, path, rec.Code)
		}
	}
	assert.Zero(t, ns.Objects(), "a raw request reached an object")
}
