package dokv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
)

// AdminPath is where AdminHandler serves: GET AdminPath+"export" and POST
// AdminPath+"import", which `dokv export` and `dokv import` call.
const AdminPath = "/__dokv/admin/"

// adminAuthPrefix starts the Authorization header of an admin request.
const adminAuthPrefix = "Bearer "

// AdminExportLimit and AdminExportBytes bound one export response (it ends
// with the line that crosses AdminExportBytes), so that it fits in a
// Worker's memory; the response names its last key in the Dokv-Next header
// when more may follow.
const (
	AdminExportLimit = 1000
	AdminExportBytes = 4 << 20
)

// AdminStore is a store the admin routes export and import: any *Store[T].
type AdminStore interface {
	Export(ctx context.Context, w io.Writer, opts ExportOptions) (Progress, error)
	Import(ctx context.Context, r io.Reader) (Progress, error)
}

// AdminHandler returns the handler of the admin routes over the named
// stores, for `dokv export` and `dokv import` against a running Worker:
//
//	GET  /__dokv/admin/export?store=NAME&after=KEY   up to AdminExportLimit entries (about AdminExportBytes) as JSON Lines;
//	                                                 header Dokv-Next: the key to pass as after, while more may follow
//	POST /__dokv/admin/import?store=NAME             a body of JSON Lines (at most 8 MiB), imported: 200 {"entries", "bytes"}
//
// Every request must carry "Authorization: Bearer SECRET": without it, or
// with another secret, the answer is 401 and nothing is read or written.
// The secret is compared in constant time and never logged. Mount the
// handler only when the Worker's environment holds a secret (a Worker
// secret, `wrangler secret put`): with an empty secret AdminHandler fails
// with ErrInvalidArgument, so the routes cannot be open by mistake.
func AdminHandler(secret string, stores map[string]AdminStore) (Handler, error) {
	if secret == "" {
		return nil, &Error{Op: "admin", Err: ErrInvalidArgument, Detail: "an admin secret is required"}
	}
	sum := sha256.Sum256([]byte(secret))
	return &adminHandler{secret: sum, stores: stores}, nil
}

type adminHandler struct {
	secret [32]byte // compared as hashes, so that the comparison's time says nothing of the length
	stores map[string]AdminStore
}

func (h *adminHandler) ServeFetch(w *ResponseWriter, r *Request) {
	given, ok := strings.CutPrefix(r.Header("Authorization"), adminAuthPrefix)
	sum := sha256.Sum256([]byte(given))
	if !ok || subtle.ConstantTimeCompare(sum[:], h.secret[:]) != 1 {
		w.SetHeader("WWW-Authenticate", `Bearer realm="dokv admin"`)
		adminError(w, 401, "the admin routes need the Worker's admin secret")
		return
	}
	name := r.Query("store")
	store, ok := h.stores[name]
	if !ok {
		adminError(w, 404, "no store named "+strconv.Quote(name))
		return
	}
	switch {
	case r.Path == AdminPath+"export" && (r.Method == "GET" || r.Method == "HEAD"):
		var body bytes.Buffer
		p, err := store.Export(r.Context(), &body, ExportOptions{StartAfter: r.Query("after"), Limit: AdminExportLimit, MaxBytes: AdminExportBytes})
		if err != nil {
			adminError(w, adminStatus(err), err.Error())
			return
		}
		if p.Entries == AdminExportLimit || p.Truncated {
			w.SetHeader("Dokv-Next", p.Last)
		}
		w.SetHeader("Content-Type", "application/x-ndjson")
		w.WriteHeader(200)
		_, _ = w.Write(body.Bytes())
	case r.Path == AdminPath+"import" && r.Method == "POST":
		p, err := store.Import(r.Context(), bytes.NewReader(r.Body))
		if err != nil {
			adminError(w, adminStatus(err), err.Error())
			return
		}
		b, _ := json.Marshal(map[string]int64{"entries": p.Entries, "bytes": p.Bytes})
		w.SetHeader("Content-Type", "application/json")
		w.WriteHeader(200)
		_, _ = w.Write(b)
	default:
		adminError(w, 404, "no admin route "+r.Method+" "+r.Path)
	}
}

func adminStatus(err error) int {
	switch {
	case errors.Is(err, ErrInvalidArgument), errors.Is(err, ErrInvalidKey), errors.Is(err, ErrValueTooLarge):
		return 400
	case errors.Is(err, ErrUnsupported):
		return 501
	}
	return 500
}

func adminError(w *ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.SetHeader("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
