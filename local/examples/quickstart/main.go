// Command quickstart runs the quick start's scenarios (flow jobs, upload
// coordination, partitioning: github.com/dokv/dokv/examples/quickstart/scenarios)
// on the local namespace, with their data in SQLite files in a directory,
// kept from one run to the next. From the repository's root:
//
//	(cd local && go run ./examples/quickstart -dir ../quickstart-data)
//
// Each scenario's namespace is a directory of its own under -dir (required:
// data that outlives the process is put where it is asked for, and it is
// created if need be). Run it again over the same directory and the
// scenarios say what earlier runs left there, check that it is still as
// those runs left it, and still hold their own invariants.
//
// One process owns a directory: a second quickstart on it fails at once,
// before any scenario writes. It exits 1 if an invariant breaks or the data
// cannot be opened, 2 on a mistake in the command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/examples/quickstart/scenarios"
	"github.com/dokv/dokv/local"
)

// timeout bounds a run. Every write on this namespace waits for the disk,
// so a run takes longer than on the memory namespace; a run still going
// after this is stuck.
const timeout = 5 * time.Minute

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	err := run(ctx, os.Stdout, os.Args[1:])
	cancel()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, new(usageError)):
		os.Exit(2) // the flag package has printed what was wrong, and the usage
	case errors.Is(err, local.ErrLocked):
		fmt.Fprintf(os.Stderr, "quickstart: %v (is another quickstart running on it?)\n", err)
		os.Exit(1)
	default:
		fmt.Fprintf(os.Stderr, "quickstart: %v\n", err)
		os.Exit(1)
	}
}

// usageError is a mistake in the command line.
type usageError struct{ error }

// run runs the scenarios over the directory that args name, writing what
// happens to out, and closes the namespaces it opened.
func run(ctx context.Context, out io.Writer, args []string) (err error) {
	flags := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	dir := flags.String("dir", "", "the data's `directory`, created if need be (required)")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "usage: quickstart -dir directory")
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

	var opened []*local.Namespace
	defer func() {
		// Closed last opened first, each whatever the others do, so that
		// every directory is released.
		for _, ns := range slices.Backward(opened) {
			if cerr := ns.Close(); cerr != nil {
				err = errors.Join(err, fmt.Errorf("closing a namespace: %w", cerr))
			}
		}
	}()
	open := func(name string) (dokv.Namespace, error) {
		ns, err := local.Open(filepath.Join(abs, name))
		if err != nil {
			return nil, err
		}
		opened = append(opened, ns)
		return ns, nil
	}
	fmt.Fprintf(out, "data in %s\n\n", abs)
	if err := scenarios.Run(ctx, out, open); err != nil {
		return err
	}
	fmt.Fprintf(out, "the data stays in %s: run again over it, and the scenarios find it\n", abs)
	return nil
}
