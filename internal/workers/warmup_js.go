//go:build js && wasm

package workers

// warmUp is the warm-up the store registers (SetWarmUp); nil for none.
var warmUp func() error

// warmedUp records that the warm-up ran to its end without an error.
var warmedUp bool

// SetWarmUp registers f to run once after Go starts at module evaluation:
// V8 compiles each wasm function on its first call, so running the store's
// and the object's code once there takes that compilation out of the first
// request. f must not reach JavaScript or wait on anything but Go.
func SetWarmUp(f func() error) { warmUp = f }

// WarmedUp reports whether this instance's warm-up ran to its end, for
// tests.
func WarmedUp() bool { return warmedUp }

// dokvWarmUp starts the registered warm-up on a goroutine; the entry
// module runs it to its end with the next resume of Go's scheduler. A
// warm-up that fails or panics leaves the instance as it was.
//
//go:wasmexport dokvWarmUp
func dokvWarmUp() {
	if warmUp == nil {
		return
	}
	go func() {
		defer func() { _ = recover() }()
		warmedUp = warmUp() == nil
	}()
}
