// Package scenarios holds the quick start's scenarios, the ones of
// @uploadista/kv-store-cloudflare-do's README, written against
// dokv.Namespace so that they run on any host:
//
//  1. tracking long-running flow jobs through their statuses while workers
//     update their tasks concurrently;
//  2. coordinating a multi-step upload whose chunks arrive concurrently (some
//     twice), where exactly one arrival triggers assembly;
//  3. the three partitioning patterns, and what each costs in objects.
//
// The command examples/quickstart runs them on in-memory namespaces, and
// the local module's examples/quickstart on SQLite files in a directory
// that keeps their data between runs. Each run therefore uses IDs of its
// own and says what earlier runs left, so that the invariants hold however
// much data is already there; on a fresh namespace nothing is found and
// nothing about earlier runs is printed.
package scenarios

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/google/uuid"

	"github.com/dokv/dokv"
)

// Names of the namespaces Run opens, one per scenario and one per
// partitioning pattern: each pattern gets a namespace of its own so that
// the objects it uses can be counted apart.
const (
	FlowJobs                 = "flow-jobs"
	UploadCoordination       = "upload-coordination"
	PartitioningSingleObject = "partitioning-single-object"
	PartitioningPerKey       = "partitioning-per-key"
	PartitioningHashShards   = "partitioning-hash-shards"
)

// Names lists the namespaces Run opens, in the order it opens them.
var Names = []string{FlowJobs, UploadCoordination, PartitioningSingleObject, PartitioningPerKey, PartitioningHashShards}

// Run runs the scenarios one after another, writing what happens to out.
// It gets each namespace from open, which it calls once per name of Names,
// one call at a time, before any scenario runs: a namespace that cannot be
// opened (a directory another process holds) fails the run before anything
// is written. open may return the same namespace for a name on every run,
// to keep the data between runs; closing the namespaces is the caller's
// business, after Run returns.
//
// A scenario whose invariant breaks prints FAIL and the others still run;
// Run then returns their errors, each wrapped with the scenario's name.
func Run(ctx context.Context, out io.Writer, open func(name string) (dokv.Namespace, error)) error {
	namespaces := make(map[string]dokv.Namespace, len(Names))
	for _, name := range Names {
		ns, err := open(name)
		if err != nil {
			return fmt.Errorf("opening the namespace %s: %w", name, err)
		}
		namespaces[name] = ns
	}
	// A version 7 UUID starts with the time, so the keys under which runs
	// record themselves list in the order the runs happened.
	id, err := uuid.NewV7()
	if err != nil {
		return err
	}
	r := &run{id: id.String(), out: out, ns: namespaces}
	var failed []error
	for _, scenario := range []struct {
		name string
		run  func(context.Context, *run) error
	}{
		{"flow jobs", trackFlowJob},
		{"upload coordination", coordinateUpload},
		{"partitioning", comparePartitionings},
	} {
		fmt.Fprintf(out, "== %s\n", scenario.name)
		if err := scenario.run(ctx, r); err != nil {
			fmt.Fprintf(out, "FAIL %s: %v\n\n", scenario.name, err)
			failed = append(failed, fmt.Errorf("%s: %w", scenario.name, err))
			continue
		}
		fmt.Fprintf(out, "ok   %s\n\n", scenario.name)
	}
	return errors.Join(failed...)
}

// run is what the scenarios of one Run share.
type run struct {
	id  string // this run's ID, a version 7 UUID
	out io.Writer
	ns  map[string]dokv.Namespace
}

// printf writes to the run's output.
func (r *run) printf(format string, args ...any) { fmt.Fprintf(r.out, format, args...) }

// history returns the store in which a scenario records, under the run's
// ID, what each run made. The scenarios' own stores are PerKey, as
// uploadista lays them out, and cannot list their keys; the history is a
// small index in one object that can, so that a later run finds what the
// earlier ones made and reads it back from the stores.
func history[T any](ns dokv.Namespace, scenario string) (*dokv.Store[T], error) {
	return dokv.New[T](ns, dokv.WithPartitioning(dokv.SingleObject("quickstart-history")),
		dokv.WithPrefix("quickstart:"+scenario+":"))
}

// count writes n with the noun's singular or plural.
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
