//go:build js && wasm

// Command retentionworker is a test-only Worker (internal/e2e's retention
// test) whose main configures the TTL rules of records that TypeScript
// writes through the RPC methods of @uploadista/kv-store-cloudflare-do:
// before worker.Serve it creates, in that client's layout (ObjectNamedByKey),
//
//   - a flow job store keeping finished jobs for Retention,
//   - a second one keeping them for ShortRetention (the longer rule wins),
//   - a flow job store with no TTL at all, which the routes read with (a
//     store without a TTL rule sets none), and
//   - an upload file store whose values live for UploadTTL.
//
// It is never part of examples/ or of what cmd/dokv writes. Its binding is
// KV, so that testdata/interop/interop.mjs can be its main module.
//
//	GET  /job?key=K      {version, expiresAt, status} of the flow job at K; 404 if none
//	PUT  /job?key=K      store the body, a flow job, at K through the Retention store
//	GET  /upload?key=K   {version, expiresAt} of the upload file at K; 404 if none
//	GET  /stats?key=K    the ObjectStats of K's object
//	POST /late           create a flow job store keeping finished jobs for
//	                     LateRetention after worker.Serve ran: it sets no rule
//
// Build it with GOOS=js GOARCH=wasm.
package main

import (
	"encoding/json"
	"errors"
	"log"
	"time"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/worker"
)

// The times the stores keep their records; internal/e2e's test names the
// same.
const (
	Retention      = 3 * time.Second
	ShortRetention = time.Second
	LateRetention  = time.Hour
	UploadTTL      = time.Hour
)

// late is the store POST /late made; kept so that it stays alive.
var late *dokv.Store[dokv.FlowJob]

func main() {
	ns, err := dokv.WorkersNamespace("KV")
	if err != nil {
		log.Fatal(err)
	}
	layout := dokv.WithPartitioning(dokv.ObjectNamedByKey())
	retained, err := dokv.NewFlowJobStore(ns, layout, dokv.WithFlowJobRetention(Retention))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := dokv.NewFlowJobStore(ns, layout, dokv.WithFlowJobRetention(ShortRetention)); err != nil {
		log.Fatal(err)
	}
	jobs, err := dokv.NewFlowJobStore(ns, layout)
	if err != nil {
		log.Fatal(err)
	}
	uploads, err := dokv.NewUploadFileStore(ns, layout, dokv.WithTTL(UploadTTL))
	if err != nil {
		log.Fatal(err)
	}
	worker.Serve(worker.HandlerFunc(func(w *worker.ResponseWriter, r *worker.Request) {
		key := r.Query("key")
		switch {
		case r.Path == "/job" && r.Method == "PUT":
			var job dokv.FlowJob
			if err := json.Unmarshal(r.Body, &job); err != nil {
				w.WriteHeader(400)
				w.WriteString(err.Error())
				return
			}
			_, err := retained.SetEntry(r.Context(), key, job)
			answer(w, struct{}{}, err)
		case r.Path == "/job":
			e, err := jobs.GetEntry(r.Context(), key)
			answer(w, entry{Version: e.Version, ExpiresAt: e.ExpiresAt, Status: string(e.Value.Status)}, err)
		case r.Path == "/upload":
			e, err := uploads.GetEntry(r.Context(), key)
			answer(w, entry{Version: e.Version, ExpiresAt: e.ExpiresAt}, err)
		case r.Path == "/stats":
			st, err := jobs.ObjectStats(r.Context(), key)
			answer(w, st, err)
		case r.Path == "/late" && r.Method == "POST":
			late, err = dokv.NewFlowJobStore(ns, layout, dokv.WithFlowJobRetention(LateRetention))
			answer(w, struct{}{}, err)
		default:
			w.WriteHeader(404)
		}
	}))
}

// entry is the answer of GET /job and /upload.
type entry struct {
	Version   uint64    `json:"version"`
	ExpiresAt time.Time `json:"expiresAt"`
	Status    string    `json:"status,omitempty"`
}

// answer writes v as JSON, 404 for ErrNotFound, or 500 with the error.
func answer(w *worker.ResponseWriter, v any, err error) {
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
	w.Write(body)
}
