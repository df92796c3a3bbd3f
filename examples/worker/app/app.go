package app

import (
	"fmt"
	"log"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/backup"
	"github.com/dokv/dokv/worker"
	"github.com/dokv/dokv/worker/workerhttp"
)

// DefaultShards is the number of objects of the /sharded store and of the
// job index unless WithShards says otherwise.
const DefaultShards = 8

// Prefixes of the byte stores. The flow job store keeps uploadista's
// dokv.FlowJobPrefix.
const (
	singlePrefix   = "worker:single:"
	perKeyPrefix   = "worker:perkey:"
	shardedPrefix  = "worker:sharded:"
	jobIndexPrefix = "worker:jobs:"
)

// Option configures the handler that New builds.
type Option func(*config)

type config struct {
	shards      int
	greeting    func() string
	retention   time.Duration
	adminSecret func() string
	watchSecret func() string
}

// WithAdminSecret enables dokv's admin routes (backup.AdminHandler: export
// and import of the /single and /sharded stores, for `dokv export` and
// `dokv import`) while secret returns a non-empty secret. It is called on
// each admin request, so it may read a Worker secret. Without it, or while
// it returns "", the routes answer 404; while it returns a secret shorter
// than backup.AdminSecretMinBytes, they answer 500 and log why.
func WithAdminSecret(secret func() string) Option {
	return func(c *config) { c.adminSecret = secret }
}

// DefaultJobRetention is how long a finished flow job is kept unless
// WithJobRetention says otherwise.
const DefaultJobRetention = 7 * 24 * time.Hour

// WithJobRetention sets how long a flow job is kept after the write that
// finished it (completed, failed or cancelled): up to dokv.MaxTTL.
func WithJobRetention(d time.Duration) Option {
	return func(c *config) { c.retention = d }
}

// WithShards sets the number of objects of the /sharded store and of the
// job index: 1 to dokv.MaxShards (New fails otherwise). The default is
// DefaultShards. Changing it starts both afresh: keys written under another
// count are not visible (jobs themselves are kept, but no longer listed).
func WithShards(n int) Option {
	return func(c *config) { c.shards = n }
}

// WithGreeting sets a function whose result, when not empty, opens the
// response of GET /. It is called on every such request, so it may read
// configuration that changes, such as an environment variable of the Worker.
func WithGreeting(greeting func() string) Option {
	return func(c *config) { c.greeting = greeting }
}

// server holds the stores behind the routes.
type server struct {
	greeting func() string
	jobs     *dokv.Store[dokv.FlowJob]
	jobIndex *dokv.Store[struct{}]
	uploads  *dokv.Store[dokv.UploadFile]
	// retention is how long finished jobs, and their index entries, stay.
	retention time.Duration
	// watch holds the stores whose watches need a token.
	watch *watchStores
	// stats are the listable byte stores whose figures GET /stats/{name}
	// reports.
	stats map[string]*dokv.Store[[]byte]
}

// New returns the application's handler, with every store over ns (see the
// package documentation for the routes). The byte routes are served on
// dokv's lean handler form; the others by a net/http ServeMux through
// workerhttp. It fails with an error wrapping dokv.ErrInvalidArgument if ns
// is nil or an option is invalid.
func New(ns dokv.Namespace, opts ...Option) (worker.Handler, error) {
	c := config{shards: DefaultShards, retention: DefaultJobRetention}
	for _, opt := range opts {
		if opt != nil {
			opt(&c)
		}
	}
	raw := func(prefix string, p dokv.Partitioning) (*dokv.Store[[]byte], error) {
		return dokv.New[[]byte](ns, dokv.WithCodec(dokv.Raw()), dokv.WithPrefix(prefix), dokv.WithPartitioning(p))
	}
	single, err := raw(singlePrefix, dokv.SingleObject("single"))
	if err != nil {
		return nil, err
	}
	perKey, err := raw(perKeyPrefix, dokv.PerKey())
	if err != nil {
		return nil, err
	}
	sharded, err := raw(shardedPrefix, dokv.HashShards(c.shards))
	if err != nil {
		return nil, err
	}
	// Jobs and upload files in the layout of
	// @uploadista/kv-store-cloudflare-do, so that a TypeScript uploadista
	// server bound to this Worker's DokvObject reads and writes the same
	// records, and each record's object is the one its watchers follow.
	npmLayout := dokv.WithPartitioning(dokv.ObjectNamedByKey())
	jobs, err := dokv.NewFlowJobStore(ns, npmLayout, dokv.WithFlowJobRetention(c.retention))
	if err != nil {
		return nil, err
	}
	uploads, err := dokv.NewUploadFileStore(ns, npmLayout)
	if err != nil {
		return nil, err
	}
	// Objects named by key cannot be listed: GET /jobs lists the IDs in
	// this index, written when a job is created.
	jobIndex, err := dokv.New[struct{}](ns, dokv.WithPrefix(jobIndexPrefix), dokv.WithPartitioning(dokv.HashShards(c.shards)))
	if err != nil {
		return nil, err
	}
	if c.retention <= 0 || c.retention > dokv.MaxTTL {
		return nil, fmt.Errorf("%w: job retention %v is not within 1ms and %v", dokv.ErrInvalidArgument, c.retention, dokv.MaxTTL)
	}
	s := &server{greeting: c.greeting, jobs: jobs, jobIndex: jobIndex, uploads: uploads, retention: c.retention,
		watch: &watchStores{secret: c.watchSecret, ns: ns, layout: []dokv.Option{npmLayout}},
		stats: map[string]*dokv.Store[[]byte]{"single": single, "sharded": sharded}}

	mux := http.NewServeMux()
	route(mux, "/jobs", map[string]http.HandlerFunc{
		http.MethodGet:  s.listJobs,
		http.MethodPost: s.createJob,
	})
	route(mux, "/jobs/{id}", map[string]http.HandlerFunc{
		http.MethodGet:   s.getJob,
		http.MethodPatch: s.patchJob,
	})
	route(mux, "/uploads/{id}", map[string]http.HandlerFunc{
		http.MethodGet: s.getUpload,
	})
	route(mux, "/jobs/{id}/tasks/{node}", map[string]http.HandlerFunc{
		http.MethodPatch: s.patchTask,
	})
	route(mux, "/stats/{name}", map[string]http.HandlerFunc{
		http.MethodGet: s.storeStats,
	})
	mux.HandleFunc("GET /{$}", s.root)
	mux.HandleFunc("GET /dashboard.css", serveAsset)
	mux.HandleFunc("GET /dashboard.js", serveAsset)
	mux.HandleFunc("POST /jobs/demo", s.createDemoJob)
	mux.HandleFunc("POST /jobs/{id}/advance", s.advanceDemoJob)
	mux.HandleFunc("POST /{kind}/{id}/watch-token", func(w http.ResponseWriter, r *http.Request) {
		if kind := r.PathValue("kind"); kind != "jobs" && kind != "uploads" {
			writeErrorStatus(w, http.StatusNotFound, "no route for "+r.URL.Path)
			return
		}
		s.watchToken(w, r)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			methodNotAllowed(w, "GET, HEAD")
			return
		}
		writeErrorStatus(w, http.StatusNotFound, "no route for "+r.URL.Path)
	})
	admin := map[string]backup.Store{"single": backup.For(single), "sharded": backup.For(sharded)}
	return &leanRoutes{
		watch: s.serveWatch,
		admin: func(w *worker.ResponseWriter, r *worker.Request) bool {
			if !strings.HasPrefix(r.Path, backup.AdminPath) || c.adminSecret == nil {
				return false
			}
			secret := c.adminSecret()
			if secret == "" {
				return false // no secret: the routes are off
			}
			h, err := backup.AdminHandler(secret, admin)
			if err != nil {
				// A secret too short to protect the stores: the operator
				// meant the routes to be on, so the log says why they are
				// not, and the client learns nothing of it.
				log.Printf("app: admin routes off: %v", err)
				writeFetchBody(w, errorStatusBody(http.StatusInternalServerError, internalMessage))
				return true
			}
			h.ServeFetch(w, r)
			return true
		},
		stores: []*byteStore{
			{path: "/single/", store: single},
			{path: "/perkey/", store: perKey},
			{path: "/sharded/", store: sharded},
		},
		next: workerhttp.Handler(recoverer(mux)),
	}, nil
}

// route registers the handlers of pattern by method, and a fallback that
// answers every other method with a JSON 405. A GET handler also serves HEAD.
func route(mux *http.ServeMux, pattern string, handlers map[string]http.HandlerFunc) {
	allowed := make([]string, 0, len(handlers)+1)
	for method, h := range handlers {
		mux.HandleFunc(method+" "+pattern, h)
		allowed = append(allowed, method)
		if method == http.MethodGet {
			allowed = append(allowed, http.MethodHead)
		}
	}
	sort.Strings(allowed)
	allow := strings.Join(allowed, ", ")
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		methodNotAllowed(w, allow)
	})
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeErrorStatus(w, http.StatusMethodNotAllowed, "method not allowed; allowed: "+allow)
}

// routesText is the body of GET /.
const routesText = `dokv example Worker (a browser gets the flow job dashboard here)

Byte stores (PUT body, ?ttl=2s to expire; GET bytes, DELETE; GET /<pattern>/?prefix=&after=&limit= lists keys):
  /single/{key...}    SingleObject("single"): one object for every key
  /perkey/{key...}    PerKey(): one object per key (cannot list)
  /sharded/{key...}   HashShards(n): keys hashed over n objects

Flow jobs (JSON):
  POST  /jobs                     {"flowId", "storageId", "nodes": [...]} creates a job
  GET   /jobs?status=&limit=&after=   lists jobs
  GET   /jobs/{id}                reads a job
  POST  /jobs/{id}/watch-token    {"token"} for the job's watch (a minute)
  GET   /jobs/{id}/watch?token=   follows a job over a WebSocket (on Workers)
  PATCH /jobs/{id}                {"status"} moves a job (finished jobs expire after the retention time)
  PATCH /jobs/{id}/tasks/{node}   {"status", "result", "error"} moves a task ({"progress": 0.4} in result fills its bar)
  POST  /jobs/demo                creates a demo job; POST /jobs/{id}/advance moves it one step

Stats (JSON): GET /stats/single, GET /stats/sharded

Admin (only with an admin secret; dokv export / dokv import -store single|sharded):
  GET  /__dokv/admin/export?store=&after=    POST /__dokv/admin/import?store=

Upload files (JSON, as @uploadista/kv-store-cloudflare-do stores them):
  GET   /uploads/{id}             reads an upload file
  POST  /uploads/{id}/watch-token, GET /uploads/{id}/watch?token=   the same for an upload file
`

// storeStats answers GET /stats/{name}: the figures of a listable byte
// store's objects (dokv.StoreStats).
func (s *server) storeStats(w http.ResponseWriter, r *http.Request) {
	store, ok := s.stats[r.PathValue("name")]
	if !ok {
		writeErrorStatus(w, http.StatusNotFound, "no stats for "+r.PathValue("name")+"; try single or sharded")
		return
	}
	st, err := store.Stats(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *server) root(w http.ResponseWriter, r *http.Request) {
	if wantsPage(r) {
		writeAsset(w, r, dashboardPage)
		return
	}
	var b strings.Builder
	if s.greeting != nil {
		if g := s.greeting(); g != "" {
			b.WriteString(g)
			if !strings.HasSuffix(g, "\n") {
				b.WriteByte('\n')
			}
			b.WriteByte('\n')
		}
	}
	b.WriteString(routesText)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprint(w, b.String())
}

// recoverer turns a panic in h into a logged 500, so that none escapes to
// the server (in a Worker, a panic would abort the instance).
func recoverer(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := &trackingWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					return
				}
				log.Printf("app: panic serving %s %s: %v", r.Method, r.URL.Path, v)
				if !tw.wrote {
					writeErrorStatus(tw, http.StatusInternalServerError, internalMessage)
				}
			}
		}()
		h.ServeHTTP(tw, r)
	})
}

// trackingWriter records whether the response has started.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) WriteHeader(code int) {
	t.wrote = true
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(p []byte) (int, error) {
	t.wrote = true
	return t.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }
