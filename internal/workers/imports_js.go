//go:build js && wasm

package workers

import "unsafe"

// Functions of the entry module's `dokv` import object. Pointers address Go
// memory; JS reads and writes it during the call only. Results that JS must
// hand back are staged and copied with take.

//go:wasmimport dokv take
func take(dst unsafe.Pointer, n int32) int32

//go:wasmimport dokv requestHeader
func requestHeader(id int32, name unsafe.Pointer, nameLen int32) int32

//go:wasmimport dokv requestHeaders
func requestHeaders(id int32) int32

//go:wasmimport dokv respond
func respond(id int32, status int32, head unsafe.Pointer, headLen int32, body unsafe.Pointer, bodyLen int32)

//go:wasmimport dokv idFromName
func idFromName(binding unsafe.Pointer, bindingLen int32, name unsafe.Pointer, nameLen int32) int32

//go:wasmimport dokv stubCall
func stubCall(token int32, requestID int32, binding unsafe.Pointer, bindingLen int32, id unsafe.Pointer, idLen int32, req unsafe.Pointer, reqLen int32)

//go:wasmimport dokv sqlGet
func sqlGet(h int32, key unsafe.Pointer, keyLen int32) int32

//go:wasmimport dokv sqlVersion
func sqlVersion() float64

//go:wasmimport dokv sqlExpires
func sqlExpires() float64

//go:wasmimport dokv sqlPut
func sqlPut(h int32, key unsafe.Pointer, keyLen int32, version float64, value unsafe.Pointer, valueLen int32, expires float64) int32

//go:wasmimport dokv sqlDelete
func sqlDelete(h int32, key unsafe.Pointer, keyLen int32) int32

//go:wasmimport dokv sqlScan
func sqlScan(h int32, from unsafe.Pointer, fromLen int32, after unsafe.Pointer, afterLen int32, to unsafe.Pointer, toLen int32, limit int32, maxBytes int32, now float64) int32

//go:wasmimport dokv sqlStats
func sqlStats(h int32, from unsafe.Pointer, fromLen int32, to unsafe.Pointer, toLen int32, now float64) int32

//go:wasmimport dokv sqlExpired
func sqlExpired(h int32, now float64, limit int32) int32

//go:wasmimport dokv sqlNextExpiry
func sqlNextExpiry(h int32) float64

//go:wasmimport dokv sqlEmpty
func sqlEmpty(h int32) int32

//go:wasmimport dokv setAlarm
func setAlarm(h int32, at float64) int32

//go:wasmimport dokv now
func now() float64

//go:wasmimport dokv sqlLastVersion
func sqlLastVersion(h int32) float64

//go:wasmimport dokv sqlSetLastVersion
func sqlSetLastVersion(h int32, version float64) int32

// strPtr and bytesPtr address a string's or slice's bytes for an import.
func strPtr(s string) (unsafe.Pointer, int32) {
	return unsafe.Pointer(unsafe.StringData(s)), int32(len(s))
}

func bytesPtr(b []byte) (unsafe.Pointer, int32) {
	return unsafe.Pointer(unsafe.SliceData(b)), int32(len(b))
}

// takeBytes copies n staged bytes out of JS. JS checks that n is the
// length it staged, so that no interleaving can hand one call's bytes to
// another; a mismatch is a bug in the glue, reported as an error reply or
// a 500 by the caller, never copied.
func takeBytes(n int) []byte {
	b := make([]byte, n)
	if take(unsafe.Pointer(unsafe.SliceData(b)), int32(n)) != 0 {
		panic(errStaging)
	}
	return b
}

// errStaging is the panic of a takeBytes whose length does not match what
// JS staged. Every entry into Go recovers it: the request or call fails, and
// the instance lives on.
var errStaging = stagingError{}

type stagingError struct{}

func (stagingError) Error() string {
	return "dokv: staged bytes do not match the length taken (glue bug)"
}

//go:wasmimport dokv stubWatch
func stubWatch(token int32, requestID int32, binding unsafe.Pointer, bindingLen int32, id unsafe.Pointer, idLen int32, key unsafe.Pointer, keyLen int32, after float64, resume int32)

//go:wasmimport dokv stubEmit
func stubEmit(token int32, requestID int32, binding unsafe.Pointer, bindingLen int32, id unsafe.Pointer, idLen int32, key unsafe.Pointer, keyLen int32, event unsafe.Pointer, eventLen int32)

//go:wasmimport dokv streamRead
func streamRead(token int32, requestID int32, stream int32)

//go:wasmimport dokv streamClose
func streamClose(stream int32)

//go:wasmimport dokv forward
func forward(requestID int32, binding unsafe.Pointer, bindingLen int32, id unsafe.Pointer, idLen int32, url unsafe.Pointer, urlLen int32)
