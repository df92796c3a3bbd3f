//go:build js && wasm

package workers

import "unsafe"

// input is where JS writes a request for Go; output holds the last reply of
// an object. JS runs one call into Go at a time, and Go copies input before
// it returns, so one buffer of each suffices.
var input, output []byte

// dokvInput returns the address of a buffer of at least n bytes for JS to
// write a request into.
//
//go:wasmexport dokvInput
func dokvInput(n int32) int32 {
	if cap(input) < int(n) || input == nil {
		input = make([]byte, max(int(n), 4096))
	}
	input = input[:n]
	return int32(uintptr(unsafe.Pointer(unsafe.SliceData(input[:cap(input)]))))
}

// dokvOutput returns the address of the last object reply.
//
//go:wasmexport dokvOutput
func dokvOutput() int32 {
	return int32(uintptr(unsafe.Pointer(unsafe.SliceData(output))))
}
