//go:build js && wasm

// Command glueworker is a test-only Worker on dokv's lean handler form that
// exercises the glue's hazards (internal/e2e's glue tests): a Go instance
// that exits while requests wait, a handler that
// calls a store without its request's context, and large request bodies.
// It is never part of examples/ or of what cmd/dokv writes.
//
//	GET  /sleep?ms=N       answers 200 "slept" after N ms
//	POST /exit             ends the Go instance (os.Exit) in the middle of a request
//	GET  /get?key=K        200 with the value at K (a store call with the request's context)
//	GET  /background       a store call with context.Background(): 500 with the error
//	PUT  /len              200 with the body's length
//	GET  /binding?name=B   dokv.WorkersNamespace(B): 200 if it is a Durable Object
//	                       namespace binding, 400 with the error if not
//	GET  /stats            {"active": fetch handlers running in the entry module
//	                       (this one included), "heapInuse": Go heap bytes in use
//	                       after a GC}
//
// Build it with GOOS=js GOARCH=wasm.
package main

import (
	"context"
	"log"
	"os"
	"runtime"
	"strconv"
	"syscall/js"
	"time"

	"github.com/dokv/dokv"
)

func main() {
	ns, err := dokv.WorkersNamespace("KV")
	if err != nil {
		log.Fatal(err)
	}
	store, err := dokv.New[[]byte](ns, dokv.WithCodec(dokv.Raw()))
	if err != nil {
		log.Fatal(err)
	}
	dokv.Serve(dokv.HandlerFunc(func(w *dokv.ResponseWriter, r *dokv.Request) {
		switch r.Path {
		case "/sleep":
			ms, _ := strconv.Atoi(r.Query("ms"))
			time.Sleep(time.Duration(ms) * time.Millisecond)
			w.WriteString("slept")
		case "/exit":
			os.Exit(3)
		case "/get":
			v, err := store.Get(r.Context(), r.Query("key"))
			if err != nil {
				w.WriteHeader(500)
				w.WriteString(err.Error())
				return
			}
			w.Write(v)
		case "/background":
			_, err := store.Get(context.Background(), "k")
			w.WriteHeader(500)
			if err != nil {
				w.WriteString(err.Error())
			}
		case "/binding":
			if _, err := dokv.WorkersNamespace(r.Query("name")); err != nil {
				w.WriteHeader(400)
				w.WriteString(err.Error())
			}
		case "/len":
			w.WriteString(strconv.Itoa(len(r.Body)))
		case "/stats":
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			active := js.Global().Call("__dokvActiveRequests").Int()
			w.SetHeader("Content-Type", "application/json")
			w.WriteString(`{"active":` + strconv.Itoa(active) + `,"heapInuse":` + strconv.FormatUint(ms.HeapInuse, 10) + "}")
		default:
			w.WriteHeader(404)
		}
	}))
}
