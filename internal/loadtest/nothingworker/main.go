// Command nothingworker is the load test's measure of what dokv adds to a
// Worker's wasm beyond net/http and the user's handler: workerhttp serving a
// ServeMux that answers 404 for everything, the same handler as
// nethttpworker's, which has no dokv. It is only built, never run.
//
// It is test-only. Build it with GOOS=js GOARCH=wasm.
package main

import (
	"net/http"

	"github.com/dokv/dokv/worker/workerhttp"
)

func main() { workerhttp.Serve(http.NewServeMux()) }
