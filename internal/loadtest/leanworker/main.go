// Command leanworker is the load test's second Go Worker: one built only
// from the README's recipe on dokv's lean handler form, so that it links no
// net/http. It serves the byte routes the JS baseline serves, with the same
// stores as the example Worker (same prefixes and partitionings):
//
//	PUT    /single/{key}, /perkey/{key}   store the body: 204
//	GET    /single/{key}, /perkey/{key}   200 with exactly the stored bytes, 404 if missing
//	DELETE /single/{key}, /perkey/{key}   204
//
// It is test-only and never part of examples/ or of what cmd/dokv writes.
// Build it with GOOS=js GOARCH=wasm; built for another platform it exits.
package main

import (
	"errors"
	"log"
	"strconv"
	"strings"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/worker"
)

func main() {
	ns, err := dokv.WorkersNamespace("DOKV")
	if err != nil {
		log.Fatal(err)
	}
	single, err := dokv.New[[]byte](ns, dokv.WithCodec(dokv.Raw()), dokv.WithPrefix("worker:single:"),
		dokv.WithPartitioning(dokv.SingleObject("single")))
	if err != nil {
		log.Fatal(err)
	}
	perKey, err := dokv.New[[]byte](ns, dokv.WithCodec(dokv.Raw()), dokv.WithPrefix("worker:perkey:"))
	if err != nil {
		log.Fatal(err)
	}
	worker.Serve(worker.HandlerFunc(func(w *worker.ResponseWriter, r *worker.Request) {
		if key, ok := strings.CutPrefix(r.Path, "/single/"); ok {
			serveBytes(w, r, single, key)
		} else if key, ok := strings.CutPrefix(r.Path, "/perkey/"); ok {
			serveBytes(w, r, perKey, key)
		} else {
			writeError(w, 404, "no route for "+r.Path)
		}
	}))
}

func serveBytes(w *worker.ResponseWriter, r *worker.Request, s *dokv.Store[[]byte], key string) {
	ctx := r.Context()
	switch r.Method {
	case "GET":
		v, err := s.Get(ctx, key)
		if err != nil {
			writeStoreError(w, err)
			return
		}
		w.SetHeader("Content-Type", "application/octet-stream")
		w.SetHeader("Content-Length", strconv.Itoa(len(v)))
		w.SetHeader("X-Content-Type-Options", "nosniff")
		w.Write(v)
	case "PUT":
		if err := s.Set(ctx, key, r.Body); err != nil {
			writeStoreError(w, err)
			return
		}
		w.WriteHeader(204)
	case "DELETE":
		if err := s.Delete(ctx, key); err != nil {
			writeStoreError(w, err)
			return
		}
		w.WriteHeader(204)
	default:
		w.SetHeader("Allow", "DELETE, GET, PUT")
		writeError(w, 405, "method not allowed")
	}
}

func writeStoreError(w *worker.ResponseWriter, err error) {
	switch {
	case errors.Is(err, dokv.ErrNotFound):
		writeError(w, 404, "not found")
	case errors.Is(err, dokv.ErrInvalidKey), errors.Is(err, dokv.ErrInvalidArgument):
		writeError(w, 400, err.Error())
	case errors.Is(err, dokv.ErrValueTooLarge):
		writeError(w, 413, err.Error())
	default:
		writeError(w, 500, err.Error())
	}
}

func writeError(w *worker.ResponseWriter, status int, msg string) {
	w.SetHeader("Content-Type", "application/json")
	w.WriteHeader(status)
	w.WriteString(`{"error":` + strconv.Quote(msg) + "}\n")
}
