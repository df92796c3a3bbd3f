//go:build js && wasm

// Command glueworker is a test-only Worker on dokv's lean handler form that
// exercises the glue's hazards (internal/e2e's glue tests): a Go instance
// that exits while requests wait, a handler that
// calls a store without its request's context, and large request bodies.
// It is never part of examples/ or of what cmd/dokv writes.
//
//	GET  /sleep?ms=N       answers 200 "slept" after N ms
//	POST /exit             ends the Go instance (os.Exit) in the middle of a request
//	GET  /get?key=K        200 with the value at K (a store call with the request's context)
//	GET  /job?key=K        the flow job at K (ObjectNamedByKey layout) as JSON, version in X-Version; 404 if none
//	PUT  /job?key=K        store the body, a flow job as JSON, at K
//	GET  /upload?key=K     the upload file at K (ObjectNamedByKey layout) as JSON; 404 if none
//	GET  /watch?kind=job|upload&key=K[&after=N]
//	                       a WebSocket watch of the flow job or upload file at K (ServeWatch)
//	GET  /events?key=K&n=N[&after=A]
//	                       a Go watcher (Store.Watch) of the flow job at K: the first N
//	                       events after the start, as JSON [{kind, at, version, status, event}];
//	                       504 after 10 s without them
//	GET  /background       a store call with context.Background(): 500 with the error
//	PUT  /len              200 with the body's length
//	GET  /binding?name=B   dokv.WorkersNamespace(B): 200 if it is a Durable Object
//	                       namespace binding, 400 with the error if not
//	GET  /stats            {"active": fetch handlers running in the entry module
//	                       (this one included), "heapInuse": Go heap bytes in use
//	                       after a GC, "startedAtEvaluation": whether this Go
//	                       instance started at module evaluation, "warmedUp":
//	                       whether its warm-up ran, "initRandom": bytes
//	                       crypto/rand gave the program's init}
//
// With the variable RAND_AT_INIT set, its init reads crypto/rand, which the
// global scope forbids: the instance then starts on its first request.
//
// Build it with GOOS=js GOARCH=wasm.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log"
	"os"
	"runtime"
	"strconv"
	"syscall/js"
	"time"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/internal/workers"
	"github.com/dokv/dokv/worker"
)

// initRandom is what crypto/rand gave init, when RAND_AT_INIT is set.
var initRandom []byte

func init() {
	if env := js.Global().Get("context").Get("env"); env.Truthy() && env.Get("RAND_AT_INIT").Truthy() {
		initRandom = make([]byte, 16)
		if _, err := rand.Read(initRandom); err != nil {
			log.Fatal(err)
		}
	}
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
	layout := dokv.WithPartitioning(dokv.ObjectNamedByKey())
	jobs, err := dokv.NewFlowJobStore(ns, layout)
	if err != nil {
		log.Fatal(err)
	}
	uploads, err := dokv.NewUploadFileStore(ns, layout)
	if err != nil {
		log.Fatal(err)
	}
	worker.Serve(worker.HandlerFunc(func(w *worker.ResponseWriter, r *worker.Request) {
		switch r.Path {
		case "/job":
			serveJob(w, r, jobs)
		case "/upload":
			u, err := uploads.Get(r.Context(), r.Query("key"))
			writeJSON(w, u, 0, err)
		case "/watch":
			if r.Query("kind") == "upload" {
				uploads.ServeWatch(w, r, r.Query("key"))
			} else {
				jobs.ServeWatch(w, r, r.Query("key"))
			}
		case "/events":
			serveEvents(w, r, jobs)
		case "/sleep":
			ms, _ := strconv.Atoi(r.Query("ms"))
			time.Sleep(time.Duration(ms) * time.Millisecond)
			w.WriteString("slept")
		case "/exit":
			os.Exit(3)
		case "/get":
			v, err := store.Get(r.Context(), r.Query("key"))
			if err != nil {
				w.WriteHeader(500)
				w.WriteString(err.Error())
				return
			}
			w.Write(v)
		case "/background":
			_, err := store.Get(context.Background(), "k")
			w.WriteHeader(500)
			if err != nil {
				w.WriteString(err.Error())
			}
		case "/binding":
			if _, err := dokv.WorkersNamespace(r.Query("name")); err != nil {
				w.WriteHeader(400)
				w.WriteString(err.Error())
			}
		case "/kv":
			serveKV(w, r, store)
		case "/len":
			w.WriteString(strconv.Itoa(len(r.Body)))
		case "/stats":
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			w.SetHeader("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{
				"active":              js.Global().Call("__dokvActiveRequests").Int(),
				"heapInuse":           ms.HeapInuse,
				"startedAtEvaluation": js.Global().Call("__dokvStartedAtEvaluation").Bool(),
				"initRandom":          len(initRandom),
				"warmedUp":            workers.WarmedUp(),
			})
		default:
			w.WriteHeader(404)
		}
	}))
}

// serveJob answers GET and PUT /job.
func serveJob(w *worker.ResponseWriter, r *worker.Request, jobs *dokv.Store[dokv.FlowJob]) {
	key := r.Query("key")
	if r.Method == "PUT" {
		var job dokv.FlowJob
		if err := json.Unmarshal(r.Body, &job); err != nil {
			w.WriteHeader(400)
			w.WriteString(err.Error())
			return
		}
		v, err := jobs.SetEntry(r.Context(), key, job)
		writeJSON(w, job, v, err)
		return
	}
	e, err := jobs.GetEntry(r.Context(), key)
	writeJSON(w, e.Value, e.Version, err)
}

// watchEvent is one event of GET /events.
type watchEvent struct {
	Kind    string          `json:"kind"`
	At      uint64          `json:"at"`
	Version uint64          `json:"version"`
	Status  string          `json:"status,omitempty"`
	Event   json.RawMessage `json:"event,omitempty"`
}

// serveEvents answers GET /events: a Go watcher inside the Worker.
func serveEvents(w *worker.ResponseWriter, r *worker.Request, jobs *dokv.Store[dokv.FlowJob]) {
	n, _ := strconv.Atoi(r.Query("n"))
	var opts []dokv.WatchOption
	if a := r.Query("after"); a != "" {
		after, _ := strconv.ParseUint(a, 10, 64)
		opts = append(opts, dokv.WithResumeAfter(after))
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	events := []watchEvent{}
	for ev, err := range jobs.Watch(ctx, r.Query("key"), opts...) {
		if err != nil {
			status := 500
			if errors.Is(err, context.DeadlineExceeded) {
				status = 504
			}
			w.WriteHeader(status)
			w.WriteString(err.Error())
			return
		}
		if ev.Kind == dokv.WatchSnapshot || ev.Kind == dokv.WatchResumed {
			continue
		}
		events = append(events, watchEvent{Kind: ev.Kind.String(), At: ev.At, Version: ev.Version, Status: string(ev.Value.Status), Event: ev.Event})
		if len(events) == n {
			break
		}
	}
	writeJSON(w, events, 0, nil)
}

// writeJSON answers v as JSON with its version, 404 for ErrNotFound, or 500
// with the error.
func writeJSON(w *worker.ResponseWriter, v any, version uint64, err error) {
	switch {
	case errors.Is(err, dokv.ErrNotFound):
		w.WriteHeader(404)
		return
	case err != nil:
		w.WriteHeader(500)
		w.WriteString(err.Error())
		return
	}
	body, err := json.Marshal(v)
	if err != nil {
		w.WriteHeader(500)
		w.WriteString(err.Error())
		return
	}
	w.SetHeader("Content-Type", "application/json")
	w.SetHeader("X-Version", strconv.FormatUint(version, 10))
	w.Write(body)
}

// kvResult is the answer of GET /kv.
type kvResult struct {
	Version   uint64            `json:"version"`
	Value     string            `json:"value,omitempty"`
	ExpiresAt time.Time         `json:"expiresAt"`
	Stats     *dokv.ObjectStats `json:"stats,omitempty"`
	Error     string            `json:"error,omitempty"`
	Conflict  bool              `json:"conflict,omitempty"`
	NotFound  bool              `json:"notFound,omitempty"`
}

// serveKV answers GET /kv?op=&key=&value=&ttl=&version= with one operation
// of the PerKey raw store: set (with ttl, a Go duration, if given), get,
// delete, cas (to version) or stats (of the key's object).
func serveKV(w *worker.ResponseWriter, r *worker.Request, store *dokv.Store[[]byte]) {
	ctx, key, value := r.Context(), r.Query("key"), []byte(r.Query("value"))
	var out kvResult
	var err error
	switch r.Query("op") {
	case "set":
		if ttl := r.Query("ttl"); ttl != "" {
			d, _ := time.ParseDuration(ttl)
			out.Version, err = store.SetWithTTL(ctx, key, value, d)
		} else {
			out.Version, err = store.SetEntry(ctx, key, value)
		}
	case "get":
		var e dokv.Entry[[]byte]
		e, err = store.GetEntry(ctx, key)
		out.Version, out.Value, out.ExpiresAt = e.Version, string(e.Value), e.ExpiresAt
	case "delete":
		err = store.Delete(ctx, key)
	case "cas":
		version, _ := strconv.ParseUint(r.Query("version"), 10, 64)
		out.Version, err = store.CompareAndSwap(ctx, key, version, value)
	case "stats":
		var st dokv.ObjectStats
		st, err = store.ObjectStats(ctx, key)
		out.Stats = &st
	default:
		w.WriteHeader(400)
		return
	}
	if err != nil {
		out.Error = err.Error()
		out.Conflict = errors.Is(err, dokv.ErrConflict)
		out.NotFound = errors.Is(err, dokv.ErrNotFound)
	}
	body, _ := json.Marshal(out)
	w.SetHeader("Content-Type", "application/json")
	w.Write(body)
}
