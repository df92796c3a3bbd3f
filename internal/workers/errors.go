// Package workers is the Go side of dokv's glue to the Workers runtime (in
// GOOS=js GOARCH=wasm builds): it serves the fetch requests and the
// DokvObject Durable Objects that the entry module (internal/workerfiles)
// hands to Go, and calls objects over RPC.
//
// JS and Go exchange bytes through Go's linear memory: JS calls Go's
// //go:wasmexport functions with numbers only, and Go calls the entry
// module's //go:wasmimport functions with pointers and lengths. No js.Value
// is made per request, so no finalizers pile up and no js.Func is allocated
// per request.
package workers

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
