//go:build !(js && wasm)

package main

import (
	"log"
	"net/http"
	"os"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/examples/worker/app"
	"github.com/dokv/dokv/worker/workerhttp"
)

func greeting() string { return os.Getenv("GREETING") }

// adminSecret is the DOKV_ADMIN_SECRET environment variable, which enables
// the admin routes.
func adminSecret() string { return os.Getenv("DOKV_ADMIN_SECRET") }

// watchTokenSecret is the WATCH_TOKEN_SECRET environment variable, which
// signs the tokens that let browsers watch jobs.
func watchTokenSecret() string { return os.Getenv("WATCH_TOKEN_SECRET") }

// runLocally serves the app on the in-memory namespace, outside a Worker.
func runLocally(reason error) {
	log.Printf("not in a Worker (%v); serving on the in-memory namespace", reason)
	log.Printf("to keep the data across restarts: (cd local && go run ./examples/worker -dir ../data)")
	h, err := app.New(dokv.NewMemoryNamespace(), app.WithGreeting(greeting), app.WithAdminSecret(adminSecret),
		app.WithWatchTokenSecret(watchTokenSecret))
	if err != nil {
		log.Fatal(err)
	}
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:8787"
	}
	log.Printf("listening on http://%s", addr)
	log.Fatal(http.ListenAndServe(addr, workerhttp.FromHandler(h)))
}
