// Command worker is the Go Worker that the load test (internal/loadtest)
// drives: the example Worker's application (examples/worker/app) over the
// Durable Object namespace bound as DOKV, plus one route for the load test:
//
//	GET /__stats   200 {"wasmMemoryBytes": n}: the size of the Go instance's
//	               wasm linear memory, from the entry module's
//	               globalThis.__dokvMemoryBytes()
//
// It is test-only and never part of examples/ or of what cmd/dokv writes.
// Build it with GOOS=js GOARCH=wasm; built for another platform it exits.
package main

import (
	"log"
	"strconv"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/examples/worker/app"
	"github.com/dokv/dokv/worker"
)

// binding is the Durable Object namespace binding of the load test's
// workerd config.
const binding = "DOKV"

func main() {
	ns, err := dokv.WorkersNamespace(binding)
	if err != nil {
		log.Fatal(err)
	}
	h, err := app.New(ns)
	if err != nil {
		log.Fatal(err)
	}
	worker.Serve(worker.HandlerFunc(func(w *worker.ResponseWriter, r *worker.Request) {
		if r.Path == "/__stats" && r.Method == "GET" {
			stats(w)
			return
		}
		h.ServeFetch(w, r)
	}))
}

// stats answers GET /__stats.
func stats(w *worker.ResponseWriter) {
	w.SetHeader("Content-Type", "application/json")
	w.SetHeader("Cache-Control", "no-store")
	w.WriteString(`{"wasmMemoryBytes":` + strconv.Itoa(memoryBytes()) + "}")
}
