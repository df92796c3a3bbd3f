//go:build js && wasm

package main

import (
	"sync"
	"syscall/js"
)

// memoryFunc is globalThis.__dokvMemoryBytes, looked up once so that a
// stats request makes no js.Value of its own.
var memoryFunc = sync.OnceValue(func() js.Value { return js.Global().Get("__dokvMemoryBytes") })

// memoryBytes returns the size of this Go instance's wasm linear memory, as
// the entry module reports it, or 0 if the entry module does not say.
func memoryBytes() int {
	f := memoryFunc()
	if f.Type() != js.TypeFunction {
		return 0
	}
	return f.Invoke().Int()
}
