// Command worker serves the example Worker's app
// (github.com/dokv/dokv/examples/worker/app) as a plain Go server on the
// local namespace: the same routes and dashboard as on Cloudflare, with
// the data in SQLite files in a directory, kept across restarts. From the
// repository's root:
//
//	(cd local && go run ./examples/worker -dir ../data)
//
// Flags:
//
//	-dir   the data's directory, created if need be (required: data that
//	       outlives the process is put where it is asked for)
//	-addr  the address to listen on, 127.0.0.1:8787 by default; with port
//	       0 the system picks a free port, and the log says which
//
// The environment configures the app as the Worker's vars and secrets do:
// GREETING, DOKV_ADMIN_SECRET (the admin routes of dokv export and dokv
// import, so the data can move to Workers) and WATCH_TOKEN_SECRET.
//
// One process owns a directory: a second server on it fails at once. On
// SIGINT or SIGTERM the server stops taking connections, lets the requests
// in flight finish (for up to ten seconds), and closes the namespace, which
// closes the browsers' watches with 1001 (they reconnect, to the next
// server) and releases the directory; a second signal meanwhile ends it at
// once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/dokv/dokv/examples/worker/app"
	"github.com/dokv/dokv/local"
	"github.com/dokv/dokv/worker/workerhttp"
)

// shutdownTimeout bounds the wait for requests in flight at a signal: the
// app's requests are short, so one still running after it is stuck.
const shutdownTimeout = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// Once the first signal has started the shutdown, the default handling
	// comes back, so a second signal ends a shutdown that hangs.
	context.AfterFunc(ctx, stop)
	err := run(ctx, os.Args[1:])
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, new(usageError)):
		os.Exit(2) // the flag package has printed what was wrong, and the usage
	case errors.Is(err, local.ErrLocked):
		log.Fatalf("%v (is another server running on it?)", err)
	default:
		log.Fatal(err)
	}
}

// usageError is a mistake in the command line.
type usageError struct{ error }

// run serves the app until ctx ends, then shuts down.
func run(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("worker", flag.ContinueOnError)
	dir := flags.String("dir", "", "the data's `directory`, created if need be (required)")
	addr := flags.String("addr", "127.0.0.1:8787", "the `address` to listen on (port 0: a free port)")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "usage: worker -dir directory [-addr address]")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if *dir == "" || flags.NArg() > 0 {
		fmt.Fprintln(flags.Output(), "-dir is required, and takes no arguments")
		flags.Usage()
		return usageError{errors.New("usage")}
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}

	// The namespace opens first: a directory that another server holds
	// fails here, before anything listens.
	ns, err := local.Open(abs)
	if err != nil {
		return err
	}
	h, err := app.New(ns, app.WithGreeting(env("GREETING")), app.WithAdminSecret(env("DOKV_ADMIN_SECRET")),
		app.WithWatchTokenSecret(env("WATCH_TOKEN_SECRET")))
	if err != nil {
		return errors.Join(err, ns.Close())
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return errors.Join(err, ns.Close())
	}
	log.Printf("data in %s (this process holds it until it stops)", abs)
	log.Printf("listening on http://%s", ln.Addr())

	srv := &http.Server{Handler: workerhttp.FromHandler(h), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return errors.Join(err, ns.Close())
	case <-ctx.Done():
	}

	log.Printf("stopping: finishing the requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if err != nil {
		// Requests still running would fail on a closed namespace anyway;
		// their connections close first, so none is answered half-written.
		err = errors.Join(fmt.Errorf("shutdown: %w", err), srv.Close())
	}
	<-served // http.ErrServerClosed
	// Only now, with no request left to use it, is the namespace closed.
	if cerr := ns.Close(); cerr != nil {
		return errors.Join(err, fmt.Errorf("closing the namespace: %w", cerr))
	}
	log.Printf("stopped; the data stays in %s", abs)
	return err
}

// env returns a function that reads the environment variable name on
// each call, as the Worker reads its vars on each request.
func env(name string) func() string {
	return func() string { return os.Getenv(name) }
}
