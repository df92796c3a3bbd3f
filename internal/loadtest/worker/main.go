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
	"encoding/json"
	"log"
	"net/http"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/examples/worker/app"
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
	mux := http.NewServeMux()
	mux.HandleFunc("GET /__stats", stats)
	mux.Handle("/", h)
	dokv.Serve(mux)
}

// stats answers GET /__stats.
func stats(w http.ResponseWriter, _ *http.Request) {
	body, err := json.Marshal(struct {
		WasmMemoryBytes int `json:"wasmMemoryBytes"`
	}{memoryBytes()})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}
