//go:build js && wasm

package workers

import "unsafe"

// input is where JS writes a request for Go; output holds the last reply of
// an object. JS runs one call into Go at a time, and Go copies input before
// it returns, so one buffer of each suffices.
var input, output []byte

// maxKeptBuffer is the largest input or output buffer kept between calls:
// one large request must not hold its peak of memory forever.
const maxKeptBuffer = 64 << 10

// dokvInput returns the address of a buffer of n bytes for JS to write a
// request into; the call that takes it checks that it got n bytes.
//
//go:wasmexport dokvInput
func dokvInput(n int32) int32 {
	if n < 0 {
		n = 0
	}
	if cap(input) < int(n) || input == nil {
		input = make([]byte, max(int(n), 4096))
	}
	input = input[:n]
	return int32(uintptr(unsafe.Pointer(unsafe.SliceData(input[:cap(input)]))))
}

// releaseInput ends the use of input by the call that took it, dropping a
// buffer that a large request grew.
func releaseInput() {
	if cap(input) > maxKeptBuffer {
		input = nil
	} else {
		input = input[:0]
	}
}

// dokvOutput returns the address of the last object reply.
//
//go:wasmexport dokvOutput
func dokvOutput() int32 {
	return int32(uintptr(unsafe.Pointer(unsafe.SliceData(output))))
}
