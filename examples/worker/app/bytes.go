package app

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/dokv/dokv"
)

// Bounds of the limit of a key listing.
const (
	defaultKeyLimit = 100
	maxKeyLimit     = 1000
)

// byteStore serves one store of opaque bytes under path ("/single/", ...).
type byteStore struct {
	path  string
	store *dokv.Store[[]byte]
}

// get answers GET path{key}: the stored bytes, or the key listing when the
// key is empty.
func (b *byteStore) get(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if key == "" {
		b.list(w, r)
		return
	}
	value, err := b.store.Get(r.Context(), key)
	if err != nil {
		writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.Itoa(len(value)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(value) // fails for HEAD, which wants no body
}

// put answers PUT path{key}: the body becomes the value.
func (b *byteStore) put(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, dokv.MaxEntryBytes+1))
	if err != nil {
		var maxBytes *http.MaxBytesError
		if errors.As(err, &maxBytes) {
			writeError(w, r, tooLarge("request body exceeds %d bytes", dokv.MaxEntryBytes))
		} else {
			writeError(w, r, badRequest("reading the request body: %v", err))
		}
		return
	}
	if err := b.store.Set(r.Context(), r.PathValue("key"), body); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// delete answers DELETE path{key}.
func (b *byteStore) delete(w http.ResponseWriter, r *http.Request) {
	if err := b.store.Delete(r.Context(), r.PathValue("key")); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// keyList is the response of a key listing.
type keyList struct {
	Keys []string `json:"keys"`
	Next string   `json:"next"`
}

// list answers GET path?prefix=&after=&limit= with the keys in order.
func (b *byteStore) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := parseLimit(q.Get("limit"), defaultKeyLimit, maxKeyLimit)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := keyList{Keys: []string{}}
	opts := dokv.ListOptions{Prefix: q.Get("prefix"), StartAfter: q.Get("after"), Limit: limit}
	for e, err := range b.store.List(r.Context(), opts) {
		if err != nil {
			writeError(w, r, err)
			return
		}
		out.Keys = append(out.Keys, e.Key)
	}
	if len(out.Keys) == limit {
		out.Next = out.Keys[len(out.Keys)-1]
	}
	writeJSON(w, http.StatusOK, out)
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
