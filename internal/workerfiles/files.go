// Package workerfiles holds what cmd/dokv writes beside a Worker's wasm: the
// JS entry module that exports the Worker's fetch handler and the DokvObject
// Durable Object class, its TypeScript declarations, and the workerd and wrangler configs. It is kept
// apart from internal/workers, the Go side of the glue that runs inside the
// wasm, so that a Worker links none of it (no embedded JS, no os/exec).
package workerfiles

import _ "embed"

// EntryModule is the JS entry module (entry.mjs) a Worker built with dokv
// runs. It imports "./wasm_exec.js" (Go's own, from the toolchain that built
// the wasm) and "./app.wasm".
//
//go:embed entry.mjs
var EntryModule []byte

// EntryTypes are the TypeScript declarations of the entry module
// (entry.d.mts), for a TypeScript Worker that binds DokvObject: written
// beside entry.mjs under that name because TypeScript finds the types of
// an import of "./entry.mjs" in "./entry.d.mts".
//
//go:embed entry.d.mts
var EntryTypes []byte

// ClassName is the Durable Object class the entry module exports.
const ClassName = "DokvObject"
