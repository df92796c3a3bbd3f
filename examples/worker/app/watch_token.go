package app

import (
	"crypto/rand"
	"encoding/hex"
	"log"
	"net/http"
	"sync"
	"time"

	"github.com/dokv/dokv"
)

// watchTokenTTL is how long a watch token opens a watch: the page asks for
// one just before each (re)connection, so it needs only a few seconds.
const watchTokenTTL = time.Minute

// WithWatchTokenSecret sets the function that returns the secret that signs
// watch tokens (dokv.NewWatchTokens; 32 bytes at least): a browser opens
// GET /jobs/{id}/watch and /uploads/{id}/watch only with a token from POST
// /jobs/{id}/watch-token or /uploads/{id}/watch-token. It is called once,
// on the first token or watch request (a Worker secret can be read then).
// When it returns "" (or without this option), a random secret is made for
// the instance: enough for one instance, as under `dokv dev`, but on
// Cloudflare, where a token may be checked by another isolate than the one
// that made it, set the secret (`wrangler secret put WATCH_TOKEN_SECRET`).
func WithWatchTokenSecret(secret func() string) Option {
	return func(c *config) { c.watchSecret = secret }
}

// watchStores are the job and upload stores whose ServeWatch requires a
// token: views of the same records as server.jobs and server.uploads, made
// on first use, because a random secret cannot be drawn while a Worker's
// module is evaluated.
type watchStores struct {
	once    sync.Once
	secret  func() string
	layout  []dokv.Option
	ns      dokv.Namespace
	jobs    *dokv.Store[dokv.FlowJob]
	uploads *dokv.Store[dokv.UploadFile]
	err     error
}

func (ws *watchStores) get() (*watchStores, error) {
	ws.once.Do(func() {
		secret := ""
		if ws.secret != nil {
			secret = ws.secret()
		}
		if secret == "" {
			b := make([]byte, 32)
			if _, err := rand.Read(b); err != nil {
				ws.err = err
				return
			}
			secret = hex.EncodeToString(b)
			log.Printf("app: no watch token secret set; tokens are signed with a random secret of this instance (set WATCH_TOKEN_SECRET where more than one instance serves)")
		}
		tokens, err := dokv.NewWatchTokens(secret)
		if err != nil {
			ws.err = err
			return
		}
		opts := append(ws.layout, dokv.WithWatchTokens(tokens))
		if ws.jobs, ws.err = dokv.NewFlowJobStore(ws.ns, opts...); ws.err != nil {
			return
		}
		ws.uploads, ws.err = dokv.NewUploadFileStore(ws.ns, opts...)
	})
	return ws, ws.err
}

// watchToken answers POST /jobs/{id}/watch-token and POST
// /uploads/{id}/watch-token: {"token", "expiresAt"}, a token that opens the
// record's watch for watchTokenTTL. In an application this route sits
// behind the application's own authentication, and checks that the user may
// follow the record; the example has no users.
func (s *server) watchToken(w http.ResponseWriter, r *http.Request) {
	ws, err := s.watch.get()
	if err != nil {
		writeError(w, r, err)
		return
	}
	id := r.PathValue("id")
	var token string
	if r.PathValue("kind") == "uploads" {
		token, err = ws.uploads.WatchToken(id, watchTokenTTL)
	} else {
		token, err = ws.jobs.WatchToken(id, watchTokenTTL)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"token": token, "expiresAt": time.Now().Add(watchTokenTTL).UTC()})
}
