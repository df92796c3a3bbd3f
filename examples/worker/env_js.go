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

// runLocally is where main goes when WorkersNamespace fails; in a Worker
// that means the DOKV binding is missing or is not a Durable Object
// namespace: a configuration error to report, not to work around.
func runLocally(err error) {
	log.Fatal(err)
}

// adminSecret reads the DOKV_ADMIN_SECRET secret (`wrangler secret put
// DOKV_ADMIN_SECRET`), which enables the admin routes; "" when unset.
func adminSecret() string {
	v := cloudflare.Getenv("DOKV_ADMIN_SECRET")
	if v == "<undefined>" {
		return ""
	}
	return v
}

// watchTokenSecret reads the WATCH_TOKEN_SECRET secret (`wrangler secret put
// WATCH_TOKEN_SECRET`; .dev.vars under `dokv dev`), which signs the tokens
// that let browsers watch jobs; "" when unset.
func watchTokenSecret() string {
	v := cloudflare.Getenv("WATCH_TOKEN_SECRET")
	if v == "<undefined>" {
		return ""
	}
	return v
}
