// Command bridge is a test-only Worker: it lets a Namespace on the test's
// host reach the real DokvObject Durable Objects on workerd, so that the
// conformance suite that runs in memory runs on workerd's SQLite storage
// too. It is never part of examples/ or of what cmd/dokv writes.
//
// POST /call/{binding}/{name} sends the body, an encoded request, to the
// object named name and answers with its reply. A failed call answers 502
// with the error's kind in the X-Dokv-Error header.
package main

import (
	"errors"
	"io"
	"net/http"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/worker/workerhttp"
)

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /call/{binding}/{name...}", call)
	workerhttp.Serve(mux)
}

func call(w http.ResponseWriter, r *http.Request) {
	ns, err := dokv.WorkersNamespace(r.PathValue("binding"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	request, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	reply, err := ns.Get(ns.IDFromName(r.PathValue("name"))).Call(r.Context(), request)
	if err != nil {
		kind := "unknown-outcome"
		switch {
		case errors.Is(err, dokv.ErrOverloaded):
			kind = "overloaded"
		case errors.Is(err, dokv.ErrUnavailable):
			kind = "unavailable"
		case errors.Is(err, dokv.ErrInvalidArgument):
			kind = "invalid-argument"
		}
		w.Header().Set("X-Dokv-Error", kind)
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(reply)
}
