//go:build js && wasm

package workers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall/js"
)

var (
	served  sync.Once
	handler http.Handler
)

// Serve installs h as the Worker's fetch handler and blocks forever, keeping
// the Go instance alive for the isolate's later requests and Durable Object
// calls. It must be called from main, once.
func Serve(h http.Handler) {
	served.Do(func() {
		handler = h
		api := js.Global().Get("Object").New()
		// Requests and call results enter through exported functions
		// (dokvFetch, dokvSettle); this object tells the entry module that
		// Serve ran, and carries the rare abort.
		api.Set("abort", js.FuncOf(onAbort))
		js.Global().Set("__dokv", api)
	})
	select {}
}

// dokvFetch(id, headLen, bodyLen) starts serving a request whose head
// ("METHOD\nURL\nname:value\n...") and body JS wrote to input. It only
// hands the request to a handler goroutine, which runs when JS resumes Go
// right after: an exported function must not block, and entering Go this
// way costs far less than a syscall/js callback.
//
//go:wasmexport dokvFetch
func dokvFetch(id, headLen, bodyLen int32) {
	if int(headLen)+int(bodyLen) > len(input) || headLen < 0 || bodyLen < 0 {
		respondError(id, http.StatusInternalServerError, "dokv: request buffer mismatch")
		return
	}
	msg := bytes.Clone(input[:headLen+bodyLen])
	dispatch(job{id: id, head: string(msg[:headLen]), body: msg[headLen:]})
}

// job is one request to serve.
type job struct {
	id   int32
	head string
	body []byte
}

// Requests are served by a pool of long-lived goroutines, whose stacks have
// already grown to what a handler needs: a new goroutine per request would
// grow and copy its stack on every request.
var (
	jobs    = make(chan job)
	idleMu  sync.Mutex
	idle    int // workers waiting on jobs
	maxIdle = 64
)

func dispatch(j job) {
	select {
	case jobs <- j: // an idle worker takes it
	default:
		go worker(j)
	}
}

func worker(j job) {
	for {
		serve(j.id, j.head, j.body)
		idleMu.Lock()
		if idle >= maxIdle {
			idleMu.Unlock()
			return
		}
		idle++
		idleMu.Unlock()
		j = <-jobs
		idleMu.Lock()
		idle--
		idleMu.Unlock()
	}
}

// cancels holds the cancel function of each request being served, for
// onAbort.
var (
	cancelsMu sync.Mutex
	cancels   = map[int32]context.CancelFunc{}
)

// onAbort(id) cancels the context of a request whose client went away.
func onAbort(_ js.Value, args []js.Value) any {
	id := int32(args[0].Int())
	cancelsMu.Lock()
	cancel := cancels[id]
	cancelsMu.Unlock()
	if cancel != nil {
		cancel()
	}
	return nil
}

func serve(id int32, head string, body []byte) {
	ctx, cancel := context.WithCancel(withRequestID(context.Background(), id))
	cancelsMu.Lock()
	cancels[id] = cancel
	cancelsMu.Unlock()
	defer func() {
		cancelsMu.Lock()
		delete(cancels, id)
		cancelsMu.Unlock()
		cancel()
	}()
	w := &responseWriter{header: http.Header{}}
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(os.Stderr, "dokv: handler panic: %v\n", p)
			respondError(id, http.StatusInternalServerError, "internal server error")
		}
	}()
	req, err := parseRequest(ctx, head, body)
	if err != nil {
		respondError(id, http.StatusBadRequest, err.Error())
		return
	}
	handler.ServeHTTP(w, req)
	w.finish(id)
}

func parseRequest(ctx context.Context, head string, body []byte) (*http.Request, error) {
	method, rest, _ := strings.Cut(head, "\n")
	url, rest, _ := strings.Cut(rest, "\n")
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for line := range strings.SplitSeq(rest, "\n") {
		if name, value, ok := strings.Cut(line, ":"); ok {
			req.Header.Add(name, value)
		}
	}
	req.RequestURI = req.URL.RequestURI()
	req.ContentLength = int64(len(body))
	if len(body) == 0 {
		req.Body = http.NoBody
	}
	if ip := req.Header.Get("Cf-Connecting-Ip"); ip != "" {
		req.RemoteAddr = ip
	}
	return req, nil
}

// responseWriter buffers a response and hands it to JS when the handler
// returns.
type responseWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *responseWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

var _ io.Writer = (*responseWriter)(nil)

func (w *responseWriter) finish(id int32) {
	w.WriteHeader(http.StatusOK)
	if w.status < 200 || w.status > 599 {
		w.status = http.StatusInternalServerError
	}
	var head strings.Builder
	for name, values := range w.header {
		for _, v := range values {
			head.WriteString(name)
			head.WriteByte(':')
			head.WriteString(newlines.Replace(v))
			head.WriteByte('\n')
		}
	}
	h := head.String()
	hp, hl := strPtr(h)
	bp, bl := bytesPtr(w.body.Bytes())
	respond(id, int32(w.status), hp, hl, bp, bl)
}

// newlines would end a header line early; net/http forbids them in values.
var newlines = strings.NewReplacer("\n", " ", "\r", " ")

func respondError(id int32, status int, msg string) {
	w := &responseWriter{header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, status: status}
	w.body.WriteString(msg)
	w.finish(id)
}
