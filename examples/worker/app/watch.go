package app

import (
	"strings"

	"github.com/dokv/dokv/worker"
)

// serveWatch serves GET /jobs/{id}/watch and GET /uploads/{id}/watch,
// reporting whether the path was one of them. The WebSocket is accepted by
// the record's Durable Object (dokv's ServeWatch); outside a Worker the
// answer is 501.
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
	if job {
		s.jobs.ServeWatch(w, r, id)
	} else {
		s.uploads.ServeWatch(w, r, id)
	}
	return true
}
