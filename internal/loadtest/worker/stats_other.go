//go:build !(js && wasm)

package main

// memoryBytes is 0 outside a Worker, where there is no wasm memory; main
// exits there before serving anyway.
func memoryBytes() int { return 0 }
