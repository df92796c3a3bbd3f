//go:build js && wasm

// Command lagworker is a test-only Worker for internal/e2e's lag test: a Go
// watcher inside the Worker that stops reading while the same request
// writes on, to show that the object drops it (ErrLagging) and that the
// writes never wait for it. It is never part of examples/ or of what
// cmd/dokv writes.
//
//	GET /lag?key=K&writes=N&size=S
//	    watches K, reads its first event, then sets K N times to S bytes
//	    without reading, then reads the watch to its end; answers JSON
//	    {"writes": done, "writeMillis": time of the writes, "heard": changes
//	    read, "lagging": whether the watch ended with ErrLagging, "error":
//	    how it ended}
//
// Build it with GOOS=js GOARCH=wasm.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"iter"
	"log"
	"strconv"
	"time"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/worker"
)

// lagResult is the answer of GET /lag.
type lagResult struct {
	Writes      int    `json:"writes"`
	WriteMillis int64  `json:"writeMillis"`
	Heard       int    `json:"heard"`
	Lagging     bool   `json:"lagging"`
	Error       string `json:"error"`
}

func main() {
	ns, err := dokv.WorkersNamespace("KV")
	if err != nil {
		log.Fatal(err)
	}
	store, err := dokv.New[[]byte](ns, dokv.WithCodec(dokv.Raw()))
	if err != nil {
		log.Fatal(err)
	}
	worker.Serve(worker.HandlerFunc(func(w *worker.ResponseWriter, r *worker.Request) {
		if r.Path != "/lag" {
			w.WriteHeader(404)
			return
		}
		writes, _ := strconv.Atoi(r.Query("writes"))
		size, _ := strconv.Atoi(r.Query("size"))
		out, err := lag(r.Context(), store, r.Query("key"), writes, size)
		if err != nil {
			w.WriteHeader(500)
			w.WriteString(err.Error())
			return
		}
		body, _ := json.Marshal(out)
		w.SetHeader("Content-Type", "application/json")
		w.Write(body)
	}))
}

func lag(ctx context.Context, store *dokv.Store[[]byte], key string, writes, size int) (lagResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	next, stop := iter.Pull2(store.Watch(ctx, key))
	defer stop()
	if _, err, ok := next(); !ok || err != nil {
		return lagResult{}, errors.Join(errors.New("the watch did not start"), err)
	}
	var out lagResult
	value := bytes.Repeat([]byte("v"), size)
	start := time.Now()
	for range writes {
		if _, err := store.SetEntry(ctx, key, value); err != nil {
			return out, err
		}
		out.Writes++
	}
	out.WriteMillis = time.Since(start).Milliseconds()
	for {
		ev, err, ok := next()
		if !ok {
			out.Error = "the watch ended without an error"
			return out, nil
		}
		if err != nil {
			out.Lagging = errors.Is(err, dokv.ErrLagging)
			out.Error = err.Error()
			return out, nil
		}
		if ev.Kind == dokv.WatchSet {
			out.Heard++
		}
	}
}
