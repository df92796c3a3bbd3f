//go:build js && wasm

package main

import (
	"log"

	"github.com/syumai/workers/cloudflare"
)

// greeting reads the GREETING variable through syumai/workers' cloudflare
// package, which works in handlers that dokv serves: dokv's entry module
// hands Go the runtime context that package expects.
func greeting() string {
	v := cloudflare.Getenv("GREETING")
	if v == "<undefined>" { // how the package reports a missing variable
		return ""
	}
	return v
}

func runLocally(err error) {
	// Unreachable: in a Worker, WorkersNamespace fails only for an empty
	// binding name.
	log.Fatal(err)
}
