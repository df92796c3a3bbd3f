// Command worker is an example Cloudflare Worker written in Go: an HTTP API
// over flow jobs, and the three scaling patterns of
// @uploadista/kv-store-cloudflare-do as byte stores, all on one Durable
// Object namespace bound as DOKV. See the package app for the routes.
//
// Built with GOOS=js GOARCH=wasm it runs in workerd or on Cloudflare:
//
//	go run ./cmd/dokv dev ./examples/worker     # build and serve it on workerd locally
//
// Built for any other platform, it serves the same routes with net/http on
// the in-memory namespace, for a quick look without workerd. To keep the
// data across restarts, serve it on local files instead (module
// github.com/dokv/dokv/local):
//
//	(cd local && go run ./examples/worker -dir ../data)
package main

import (
	"log"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/examples/worker/app"
	"github.com/dokv/dokv/worker"
)

// binding is the Durable Object namespace binding in wrangler.toml and in
// the workerd config.
const binding = "DOKV"

func main() {
	ns, err := dokv.WorkersNamespace(binding)
	if err != nil {
		runLocally(err)
		return
	}
	h, err := app.New(ns, app.WithGreeting(greeting), app.WithAdminSecret(adminSecret), app.WithWatchTokenSecret(watchTokenSecret))
	if err != nil {
		log.Fatal(err)
	}
	worker.Serve(h)
}
