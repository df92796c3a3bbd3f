// Package workers is dokv's glue to the Workers runtime: the JS entry module
// that exports the Worker's fetch handler and the DokvObject Durable Object
// class, and (in GOOS=js GOARCH=wasm builds) the Go side of that glue.
//
// JS and Go exchange bytes through Go's linear memory: JS calls Go's
// //go:wasmexport functions and a few long-lived syscall/js functions with
// numbers only, and Go calls the entry module's //go:wasmimport functions
// with pointers and lengths. No js.Value is made per request, so no
// finalizers pile up and no js.Func is allocated per request.
package workers

import _ "embed"

// EntryModule is the JS entry module (entry.mjs) a Worker built with dokv
// runs. It imports "./wasm_exec.js" (Go's own, from the toolchain that built
// the wasm) and "./app.wasm".
//
//go:embed entry.mjs
var EntryModule []byte

// ClassName is the Durable Object class the entry module exports.
const ClassName = "DokvObject"

// CallError is a failed call to an object: the rejection of the RPC
// promise, with the flags the Workers runtime sets on it.
type CallError struct {
	Message    string
	Retryable  bool // the runtime judged the failure transient
	Overloaded bool // the object is overloaded; do not retry
	Remote     bool // the error was thrown by the object's code
	Reset      bool // the object was reset (durableObjectReset); use a new stub
}

func (e *CallError) Error() string { return e.Message }
