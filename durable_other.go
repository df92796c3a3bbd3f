//go:build !(js && wasm)

package dokv

import "fmt"

// WorkersNamespace returns the Durable Object namespace bound to the Worker
// under binding. It needs GOOS=js GOARCH=wasm; built for any other platform
// it returns an error wrapping ErrUnsupported, so code that uses it still
// compiles and can fall back to NewMemoryNamespace.
func WorkersNamespace(binding string) (Namespace, error) {
	return nil, &Error{Op: "workers", Err: ErrUnsupported,
		Detail: fmt.Sprintf("WorkersNamespace(%q) needs a Worker built with GOOS=js GOARCH=wasm", binding)}
}
