package app

import (
	"strconv"
	"strings"
	"time"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/worker"
)

// Bounds of the limit of a key listing.
const (
	defaultKeyLimit = 100
	maxKeyLimit     = 1000
)

// byteMethods are the methods of the byte routes, for Allow.
const byteMethods = "DELETE, GET, HEAD, PUT"

// byteStore serves one store of opaque bytes under path ("/single/", ...)
// on dokv's lean handler form: these are the routes a client calls most,
// and they need neither net/http's request parsing nor its router.
type byteStore struct {
	path  string
	store *dokv.Store[[]byte]
}

// serve answers a request for path{key}, where key is the rest of the
// percent-decoded path.
func (b *byteStore) serve(w *worker.ResponseWriter, r *worker.Request, key string) {
	switch r.Method {
	case "GET", "HEAD":
		if key == "" {
			b.list(w, r)
			return
		}
		b.get(w, r, key)
	case "PUT":
		b.put(w, r, key)
	case "DELETE":
		if err := b.store.Delete(r.Context(), key); err != nil {
			writeFetchError(w, r, err)
			return
		}
		w.WriteHeader(204)
	default:
		w.SetHeader("Allow", byteMethods)
		writeFetchBody(w, errorStatusBody(405, "method not allowed; allowed: "+byteMethods))
	}
}

// get answers GET path{key}: exactly the stored bytes.
func (b *byteStore) get(w *worker.ResponseWriter, r *worker.Request, key string) {
	value, err := b.store.Get(r.Context(), key)
	if err != nil {
		writeFetchError(w, r, err)
		return
	}
	w.SetHeader("Content-Type", "application/octet-stream")
	w.SetHeader("Content-Length", strconv.Itoa(len(value)))
	w.SetHeader("X-Content-Type-Options", "nosniff")
	w.WriteHeader(200)
	if r.Method != "HEAD" {
		_, _ = w.Write(value)
	}
}

// put answers PUT path{key}?ttl=: the body becomes the value, expiring after
// ttl (a Go duration) if given.
func (b *byteStore) put(w *worker.ResponseWriter, r *worker.Request, key string) {
	if len(r.Body) > dokv.MaxEntryBytes {
		writeFetchError(w, r, tooLarge("request body exceeds %d bytes", dokv.MaxEntryBytes))
		return
	}
	var err error
	if ttl := r.Query("ttl"); ttl != "" {
		d, perr := time.ParseDuration(ttl)
		if perr != nil || d <= 0 || d > dokv.MaxTTL {
			writeFetchError(w, r, badRequest("ttl must be a positive Go duration up to %v, such as 2s or 1h30m", dokv.MaxTTL))
			return
		}
		_, err = b.store.SetWithTTL(r.Context(), key, r.Body, d)
	} else {
		err = b.store.Set(r.Context(), key, r.Body)
	}
	if err != nil {
		writeFetchError(w, r, err)
		return
	}
	w.WriteHeader(204)
}

// keyList is the response of a key listing.
type keyList struct {
	Keys []string `json:"keys"`
	Next string   `json:"next"`
}

// list answers GET path?prefix=&after=&limit= with the keys in order.
func (b *byteStore) list(w *worker.ResponseWriter, r *worker.Request) {
	limit, err := parseLimit(r.Query("limit"), defaultKeyLimit, maxKeyLimit)
	if err != nil {
		writeFetchError(w, r, err)
		return
	}
	out := keyList{Keys: []string{}}
	opts := dokv.ListOptions{Prefix: r.Query("prefix"), StartAfter: r.Query("after"), Limit: limit}
	for e, err := range b.store.List(r.Context(), opts) {
		if err != nil {
			writeFetchError(w, r, err)
			return
		}
		out.Keys = append(out.Keys, e.Key)
	}
	if len(out.Keys) == limit {
		out.Next = out.Keys[len(out.Keys)-1]
	}
	writeFetchBody(w, jsonBody(200, out))
}

// leanRoutes dispatches the routes on dokv's lean form (the byte stores'
// paths and the watches), and hands every other request to next.
type leanRoutes struct {
	stores []*byteStore
	watch  func(w *worker.ResponseWriter, r *worker.Request) bool
	admin  func(w *worker.ResponseWriter, r *worker.Request) bool
	next   worker.Handler
}

func (lr *leanRoutes) ServeFetch(w *worker.ResponseWriter, r *worker.Request) {
	if lr.admin(w, r) {
		return
	}
	for _, b := range lr.stores {
		if key, ok := strings.CutPrefix(r.Path, b.path); ok {
			b.serve(w, r, key)
			return
		}
	}
	if lr.watch(w, r) {
		return
	}
	lr.next.ServeFetch(w, r)
}

// parseLimit parses a limit query parameter: def when empty, otherwise an
// integer from 1 to most.
func parseLimit(s string, def, most int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > most {
		return 0, badRequest("limit must be an integer from 1 to %d, got %q", most, s)
	}
	return n, nil
}
