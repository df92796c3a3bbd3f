package app

import (
	"log"
	"strings"

	"github.com/dokv/dokv/worker"
)

// serveWatch serves GET /jobs/{id}/watch and GET /uploads/{id}/watch,
// reporting whether the path was one of them. A watch needs a token from
// the record's watch-token route (401 without one). The WebSocket is accepted by
// the record's Durable Object (dokv's ServeWatch); outside a Worker, under
// workerhttp.FromHandler, by the server in process, with the same messages.
func (s *server) serveWatch(w *worker.ResponseWriter, r *worker.Request) bool {
	rest, ok := strings.CutSuffix(r.Path, "/watch")
	if !ok {
		return false
	}
	id, job := strings.CutPrefix(rest, "/jobs/")
	if !job {
		if id, ok = strings.CutPrefix(rest, "/uploads/"); !ok {
			return false
		}
	}
	if id == "" || strings.Contains(id, "/") {
		return false
	}
	if r.Method != "GET" {
		w.SetHeader("Allow", "GET")
		writeFetchBody(w, errorStatusBody(405, "method not allowed; allowed: GET"))
		return true
	}
	ws, err := s.watch.get()
	if err != nil {
		log.Printf("app: watch tokens: %v", err)
		writeFetchBody(w, errorStatusBody(500, internalMessage))
		return true
	}
	if job {
		ws.jobs.ServeWatch(w, r, id)
	} else {
		ws.uploads.ServeWatch(w, r, id)
	}
	return true
}
