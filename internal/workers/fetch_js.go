//go:build js && wasm

package workers

import (
	"context"
	"sync"
	"syscall/js"
)

// Request is one fetch request the entry module handed to Go.
type Request struct {
	ID     int32 // the entry module's handle of the request
	Method string
	URL    string
	Body   []byte
}

var (
	served  sync.Once
	handler func(ctx context.Context, r *Request)
)

// Serve installs h as the Worker's fetch handler and blocks forever, keeping
// the Go instance alive for the isolate's later requests and Durable Object
// calls. It must be called from main, once. h runs on a goroutine of its
// own for each request, with a context that ends when the client goes away
// or h returns; h must answer with Respond.
func Serve(h func(ctx context.Context, r *Request)) {
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

// dokvFetch(id, methodLen, urlLen, bodyLen) starts serving a request whose
// method, URL and body JS wrote, in that order, to the buffer dokvInput
// returned. It only hands the request to a handler goroutine, which runs
// when JS resumes Go right after: an exported function must not block, and
// entering Go this way costs far less than a syscall/js callback. It
// returns 0, or -1 when the lengths do not match what JS staged (the
// request is then answered 500 by JS).
//
//go:wasmexport dokvFetch
func dokvFetch(id, methodLen, urlLen, bodyLen int32) int32 {
	m, u, b := int(methodLen), int(urlLen), int(bodyLen)
	if m < 0 || u < 0 || b < 0 || m+u+b != len(input) {
		return -1
	}
	in := input
	r := &Request{ID: id, Method: string(in[:m]), URL: string(in[m : m+u])}
	if b > 0 {
		r.Body = make([]byte, b)
		copy(r.Body, in[m+u:])
	}
	releaseInput()
	dispatch(r)
	return 0
}

// Requests are served by a pool of long-lived goroutines, whose stacks have
// already grown to what a handler needs: a new goroutine per request would
// grow and copy its stack on every request.
var (
	jobs    = make(chan *Request)
	idleMu  sync.Mutex
	idle    int // workers waiting on jobs
	maxIdle = 64
)

func dispatch(r *Request) {
	select {
	case jobs <- r: // an idle worker takes it
	default:
		go worker(r)
	}
}

func worker(r *Request) {
	for {
		serve(r)
		idleMu.Lock()
		if idle >= maxIdle {
			idleMu.Unlock()
			return
		}
		idle++
		idleMu.Unlock()
		r = <-jobs
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

func serve(r *Request) {
	ctx, cancel := context.WithCancel(withRequestID(context.Background(), r.ID))
	cancelsMu.Lock()
	cancels[r.ID] = cancel
	cancelsMu.Unlock()
	defer func() {
		cancelsMu.Lock()
		delete(cancels, r.ID)
		cancelsMu.Unlock()
		cancel()
	}()
	handler(ctx, r)
}

// Respond answers request id with status, head ("name:value\n" lines) and
// body. JS copies what it needs before Respond returns.
func Respond(id int32, status int, head string, body []byte) {
	hp, hl := strPtr(head)
	bp, bl := bytesPtr(body)
	respond(id, int32(status), hp, hl, bp, bl)
}

// Header returns the value of the header lowerName of request id, read from
// the runtime, and whether the request has it.
func Header(id int32, lowerName string) (string, bool) {
	np, nl := strPtr(lowerName)
	n := requestHeader(id, np, nl)
	if n < 0 {
		return "", false
	}
	return string(takeBytes(int(n))), true
}

// Headers returns every header of request id as "name:value\n" lines.
func Headers(id int32) string {
	n := requestHeaders(id)
	if n < 0 {
		return ""
	}
	return string(takeBytes(int(n)))
}
