// Command quickstart runs the scenarios of @uploadista/kv-store-cloudflare-do's
// README on dokv's in-memory namespace, which runs the same object code as
// the Durable Object:
//
//  1. tracking long-running flow jobs through their statuses while workers
//     update their tasks concurrently;
//  2. coordinating a multi-step upload whose chunks arrive concurrently (some
//     twice), where exactly one arrival triggers assembly;
//  3. the three partitioning patterns, and what each costs in objects.
//
// It prints what happens and exits non-zero if an invariant breaks. The
// scenarios are in the package scenarios; the local module's
// examples/quickstart runs them on SQLite files in a directory, which keeps
// their data from one run to the next.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/examples/quickstart/scenarios"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	err := scenarios.Run(ctx, os.Stdout, memory)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "quickstart: %v\n", err)
		os.Exit(1)
	}
}

// memory gives each scenario a new in-memory namespace: nothing outlives
// the process, so every run starts from nothing.
func memory(string) (dokv.Namespace, error) { return dokv.NewMemoryNamespace(), nil }
