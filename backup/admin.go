package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/internal/rawstore"
	"github.com/dokv/dokv/worker"
)

// AdminPath is where AdminHandler serves: GET AdminPath+"export" and POST
// AdminPath+"import", which `dokv export` and `dokv import` call.
const AdminPath = "/__dokv/admin/"

// adminAuthScheme is the scheme of the Authorization header of an admin
// request. Scheme names are case-insensitive (RFC 7235, section 2.1).
const adminAuthScheme = "Bearer"

// AdminSecretMinBytes is the shortest admin secret AdminHandler accepts:
// the routes read and overwrite whole stores, so their secret must be too
// long to guess, such as the output of `openssl rand -hex 32`.
const AdminSecretMinBytes = 32

// AdminExportLimit and AdminExportBytes bound one export response (it ends
// with the line that crosses AdminExportBytes), so that it fits in a
// Worker's memory; the response names its last key in the Dokv-Next header
// when more may follow.
const (
	AdminExportLimit = 1000
	AdminExportBytes = 4 << 20
)

// Store is what the admin routes export and import: For(s) of any
// *dokv.Store[T].
type Store interface {
	// Export writes a page of the store's entries, as Export does.
	Export(ctx context.Context, w io.Writer, opts ExportOptions) (Progress, error)
	// Import writes the entries of r into the store, as Import does.
	Import(ctx context.Context, r io.Reader) (Progress, error)
}

// For returns s as a Store the admin routes serve.
func For[T any](s *dokv.Store[T]) Store { return rawStore{rawstore.Of(s)} }

type rawStore struct{ raw rawstore.Store }

func (s rawStore) Export(ctx context.Context, w io.Writer, opts ExportOptions) (Progress, error) {
	return export(ctx, s.raw, w, opts)
}

func (s rawStore) Import(ctx context.Context, r io.Reader) (Progress, error) {
	return importFrom(ctx, s.raw, r)
}

// AdminHandler returns the handler of the admin routes over the named
// stores, for `dokv export` and `dokv import` against a running Worker:
//
//	GET  /__dokv/admin/export?store=NAME&after=KEY   up to AdminExportLimit entries (about AdminExportBytes) as JSON Lines;
//	                                                 header Dokv-Next: the key to pass as after, while more may follow
//	POST /__dokv/admin/import?store=NAME             a body of JSON Lines (at most 8 MiB), imported: 200 {"entries", "bytes"}
//
// Every request must carry "Authorization: Bearer SECRET" (the scheme name
// in any case): without it, or with another secret, the answer is 401 and
// nothing is read or written. The secret is compared in constant time and
// never logged. Mount the handler only when the Worker's environment holds
// a secret (a Worker secret, `wrangler secret put`): with a secret shorter
// than AdminSecretMinBytes, or none, AdminHandler fails with
// ErrInvalidArgument, so the routes cannot be open by mistake.
//
// An error is answered as JSON, {"error": "message"}. A refused request (an
// unknown store or route, a malformed line, an invalid key, a value too
// large) says what was wrong; a line of an import body that is refused is
// named at the start of the message, "line N: ...", and in a "line" field,
// N counted from 1 within the request body. Any other failure is a 500
// that says only "internal error": what went wrong, which may name the
// store's objects, is written to standard error, the Worker's log.
func AdminHandler(secret string, stores map[string]Store) (worker.Handler, error) {
	if len(secret) < AdminSecretMinBytes {
		return nil, &dokv.Error{Op: "admin", Err: dokv.ErrInvalidArgument,
			Detail: fmt.Sprintf("the admin secret has %d bytes; it needs at least %d (such as the output of `openssl rand -hex 32`)", len(secret), AdminSecretMinBytes)}
	}
	sum := sha256.Sum256([]byte(secret))
	return &adminHandler{secret: sum, stores: stores}, nil
}

type adminHandler struct {
	secret [32]byte // compared as hashes, so that the comparison's time says nothing of the length
	stores map[string]Store
}

func (h *adminHandler) ServeFetch(w *worker.ResponseWriter, r *worker.Request) {
	// A store that panics must not answer with its panic (or crash the
	// Worker's instance with it): the client gets the generic 500.
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(os.Stderr, "dokv: admin %s %s: panic: %v\n", r.Method, r.Path, p)
			w.Reset()
			adminError(w, 500, adminInternalMessage, 0)
		}
	}()
	if !h.authorized(r.Header("Authorization")) {
		w.SetHeader("WWW-Authenticate", `Bearer realm="dokv admin"`)
		adminError(w, 401, "the admin routes need the Worker's admin secret", 0)
		return
	}
	var exporting bool
	switch {
	case r.Path == AdminPath+"export" && (r.Method == "GET" || r.Method == "HEAD"):
		exporting = true
	case r.Path == AdminPath+"import" && r.Method == "POST":
	default:
		adminError(w, 404, "no admin route "+r.Method+" "+r.Path, 0)
		return
	}
	name := r.Query("store")
	store, ok := h.stores[name]
	if !ok {
		adminError(w, 404, "no store named "+strconv.Quote(name), 0)
		return
	}
	if exporting {
		var body bytes.Buffer
		p, err := store.Export(r.Context(), &body, ExportOptions{StartAfter: r.Query("after"), Limit: AdminExportLimit, MaxBytes: AdminExportBytes})
		if err != nil {
			adminFailure(w, r, err)
			return
		}
		if p.Entries == AdminExportLimit || p.Truncated {
			w.SetHeader("Dokv-Next", p.Last)
		}
		w.SetHeader("Content-Type", "application/x-ndjson")
		w.WriteHeader(200)
		_, _ = w.Write(body.Bytes())
		return
	}
	p, err := store.Import(r.Context(), bytes.NewReader(r.Body))
	if err != nil {
		adminFailure(w, r, err)
		return
	}
	b, _ := json.Marshal(map[string]int64{"entries": p.Entries, "bytes": p.Bytes})
	w.SetHeader("Content-Type", "application/json")
	w.WriteHeader(200)
	_, _ = w.Write(b)
}

// authorized reports whether an Authorization header carries the admin
// secret: "Bearer SECRET", the scheme in any case and followed by one or
// more spaces (RFC 7235's credentials).
func (h *adminHandler) authorized(header string) bool {
	scheme, given, _ := strings.Cut(header, " ")
	given = strings.TrimLeft(given, " ")
	sum := sha256.Sum256([]byte(given))
	match := subtle.ConstantTimeCompare(sum[:], h.secret[:]) == 1
	return strings.EqualFold(scheme, adminAuthScheme) && match
}

// adminInternalMessage is all a client learns of a 500.
const adminInternalMessage = "internal error"

// adminFailure answers a store's error: a client's mistake with what was
// wrong, anything else with adminInternalMessage after logging it.
func adminFailure(w *worker.ResponseWriter, r *worker.Request, err error) {
	status := adminStatus(err)
	if status == 500 {
		fmt.Fprintf(os.Stderr, "dokv: admin %s %s: %v\n", r.Method, r.Path, err)
		adminError(w, status, adminInternalMessage, 0)
		return
	}
	msg, line := adminClientMessage(err)
	adminError(w, status, msg, line)
}

func adminStatus(err error) int {
	switch {
	case errors.Is(err, dokv.ErrInvalidArgument), errors.Is(err, dokv.ErrInvalidKey), errors.Is(err, dokv.ErrValueTooLarge):
		return 400
	case errors.Is(err, dokv.ErrUnsupported):
		return 501
	}
	return 500
}

// adminClientMessage says what was wrong with a request that err refused:
// `[line N: ][key "K": ]reason[: detail]`, built from the sentinel and the
// *Error's key and detail alone. Error() would name the object, and a
// wrapped error's text may come from anywhere inside the store. line is the
// refused line of an import body, from a detail of the form "line N: ...",
// or 0.
func adminClientMessage(err error) (msg string, line int64) {
	var b strings.Builder
	var detail, key string
	var de *dokv.Error
	if errors.As(err, &de) {
		detail, key = de.Detail, de.Key
	}
	if n, rest, ok := cutLine(detail); ok {
		line, detail = n, rest
		fmt.Fprintf(&b, "line %d: ", n)
	}
	if key != "" {
		fmt.Fprintf(&b, "key %q: ", key)
	}
	for _, s := range clientErrors {
		if errors.Is(err, s) {
			b.WriteString(strings.TrimPrefix(s.Error(), "dokv: "))
			break
		}
	}
	if detail != "" {
		b.WriteString(": ")
		b.WriteString(detail)
	}
	return b.String(), line
}

// clientErrors are the sentinels of the errors answered with a 4xx.
var clientErrors = []error{dokv.ErrInvalidKey, dokv.ErrValueTooLarge, dokv.ErrInvalidArgument, dokv.ErrUnsupported}

// cutLine splits the detail of an import's error, "line N: rest", into N
// and rest.
func cutLine(detail string) (n int64, rest string, ok bool) {
	s, ok := strings.CutPrefix(detail, "line ")
	if !ok {
		return 0, "", false
	}
	num, rest, ok := strings.Cut(s, ": ")
	if !ok {
		return 0, "", false
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 1 {
		return 0, "", false
	}
	return n, rest, true
}

// adminError answers {"error": msg}, with "line" when line > 0.
func adminError(w *worker.ResponseWriter, status int, msg string, line int64) {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
		Line  int64  `json:"line,omitempty"`
	}{msg, line})
	w.SetHeader("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
