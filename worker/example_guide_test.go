package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/worker"
)

type Note struct {
	Text string `json:"text"`
}

// notesHandler is the README's Worker: GET /notes/{id} reads a note, PUT
// writes one. Every store call uses the request's context.
func notesHandler(notes *dokv.Store[Note]) worker.Handler {
	return worker.HandlerFunc(func(w *worker.ResponseWriter, r *worker.Request) {
		id, ok := strings.CutPrefix(r.Path, "/notes/")
		if !ok || id == "" {
			w.WriteHeader(404)
			return
		}
		switch r.Method {
		case "GET":
			note, err := notes.Get(r.Context(), id)
			if errors.Is(err, dokv.ErrNotFound) {
				w.WriteHeader(404)
				return
			} else if err != nil {
				w.WriteHeader(500)
				return
			}
			body, _ := json.Marshal(note)
			w.SetHeader("Content-Type", "application/json")
			w.Write(body)
		case "PUT":
			if err := notes.Set(r.Context(), id, Note{Text: string(r.Body)}); err != nil {
				w.WriteHeader(500)
				return
			}
			w.WriteHeader(204)
		default:
			w.WriteHeader(405)
		}
	})
}

// A Worker's handler runs as it is outside a Worker, over the in-memory
// namespace; in the Worker, main passes it to worker.Serve over
// dokv.WorkersNamespace("DOKV").
func Example_notes() {
	notes, err := dokv.New[Note](dokv.NewMemoryNamespace())
	if err != nil {
		log.Fatal(err)
	}
	h := notesHandler(notes)
	for _, req := range []struct{ method, path, body string }{
		{"GET", "/notes/n1", ""},
		{"PUT", "/notes/n1", "buy milk"},
		{"GET", "/notes/n1", ""},
	} {
		r, _ := worker.NewRequest(context.Background(), req.method, "https://notes.example"+req.path, nil, []byte(req.body))
		var w worker.ResponseWriter
		h.ServeFetch(&w, r)
		fmt.Println(strings.TrimSpace(fmt.Sprint(req.method, " ", w.Status(), " ", string(w.Body()))))
	}
	// Output:
	// GET 404
	// PUT 204
	// GET 200 {"text":"buy milk"}
}
