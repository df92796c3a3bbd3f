package local_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/backup"
	"github.com/dokv/dokv/local"
)

// Note is the value type of the examples' store, stored with the default
// JSON codec. The Worker must make its store of the same type and codec:
// the admin route decodes every imported value as its T.
type Note struct {
	Text string `json:"text"`
}

// Moving a store from a local directory to Workers, first step: with the
// server stopped (Open fails with local.ErrLocked while it has the
// directory), export the store, made as the program makes it, to a file
// that `dokv import` sends to the Worker. docs/moving-to-workers.md has the
// other steps; TestWorkerd_MoveLocalToWorkersAndBack runs them all.
func ExampleOpen_moveToWorkers() {
	work, dir := exampleDataDir() // dir: the server's data directory
	defer os.RemoveAll(work)
	file := filepath.Join(work, "notes.jsonl")

	ctx := context.Background()
	ns, err := local.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer ns.Close()
	notes, err := dokv.New[Note](ns, dokv.WithPartitioning(dokv.HashShards(8)))
	if err != nil {
		log.Fatal(err)
	}
	f, err := os.Create(file)
	if err != nil {
		log.Fatal(err)
	}
	p, err := backup.Export(ctx, notes, f, backup.ExportOptions{})
	if err == nil {
		err = f.Close() // a file that did not close whole is no backup
	}
	if err != nil {
		log.Fatal(err)
	}
	// Then: go tool dokv import -url https://app.example.workers.dev -store notes -i notes.jsonl
	fmt.Printf("exported %d entries\n", p.Entries)
	// Output: exported 3 entries
}

// The way back: `dokv export` wrote the Worker's store to a file, and the
// server, stopped, imports it into its directory before it starts again.
func ExampleOpen_moveFromWorkers() {
	work, _ := exampleDataDir()
	defer os.RemoveAll(work)
	file := filepath.Join(work, "from-workers.jsonl") // what dokv export wrote
	line := `{"key":"note-1","version":1752000000000000,"value":{"text":"from the Worker"}}` + "\n"
	if err := os.WriteFile(file, []byte(line), 0o644); err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	ns, err := local.Open(filepath.Join(work, "new-data"))
	if err != nil {
		log.Fatal(err)
	}
	defer ns.Close()
	notes, err := dokv.New[Note](ns, dokv.WithPartitioning(dokv.HashShards(8)))
	if err != nil {
		log.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	p, err := backup.Import(ctx, notes, f) // idempotent: run it again after an interruption
	if err != nil {
		log.Fatal(err)
	}
	n, err := notes.GetEntry(ctx, "note-1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("imported %d entries; %q, version from the file kept: %v\n", p.Entries, n.Value.Text, n.Version == 1752000000000000)
	// Output: imported 1 entries; "from the Worker", version from the file kept: false
}

// Verifying a move: backup.Verify compares two stores in one process, so
// the Worker's copy (`dokv export` after the import) is imported into a
// scratch store, in memory here (a scratch directory for a store larger
// than memory), and compared with the source, key by key and byte by byte.
func ExampleOpen_verifyAMove() {
	work, dir := exampleDataDir()
	defer os.RemoveAll(work)
	fromWorkers := filepath.Join(work, "from-workers.jsonl")
	exampleExport(dir, fromWorkers) // stands in for: go tool dokv export ... -o from-workers.jsonl

	ctx := context.Background()
	ns, err := local.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer ns.Close()
	notes, err := dokv.New[Note](ns, dokv.WithPartitioning(dokv.HashShards(8)))
	if err != nil {
		log.Fatal(err)
	}
	copyOf, err := dokv.New[Note](dokv.NewMemoryNamespace(), dokv.WithPartitioning(dokv.SingleObject("copy")))
	if err != nil {
		log.Fatal(err)
	}
	f, err := os.Open(fromWorkers)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if _, err := backup.Import(ctx, copyOf, f); err != nil {
		log.Fatal(err)
	}
	rep, err := backup.Verify(ctx, copyOf, notes) // dst, src
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("same: %v, %d keys compared\n", rep.OK(), rep.Compared)
	// Output: same: true, 3 keys compared
}

// exampleDataDir makes a temporary work directory and, in it, a data
// directory holding three notes, as a local server left it.
func exampleDataDir() (work, dir string) {
	work, err := os.MkdirTemp("", "dokv-move-")
	if err != nil {
		log.Fatal(err)
	}
	dir = filepath.Join(work, "data")
	ns, notes := openNotes(dir)
	defer ns.Close()
	for i, text := range []string{"first", "second", "third"} {
		if err := notes.Set(context.Background(), fmt.Sprint("note-", i), Note{Text: text}); err != nil {
			log.Fatal(err)
		}
	}
	return work, dir
}

// exampleExport exports the notes in dir to file, as `dokv export` would
// write them from a Worker that holds the same notes.
func exampleExport(dir, file string) {
	ns, notes := openNotes(dir)
	defer ns.Close()
	f, err := os.Create(file)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if _, err := backup.Export(context.Background(), notes, f, backup.ExportOptions{}); err != nil {
		log.Fatal(err)
	}
}

// openNotes opens the examples' notes store in dir.
func openNotes(dir string) (*local.Namespace, *dokv.Store[Note]) {
	ns, err := local.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	notes, err := dokv.New[Note](ns, dokv.WithPartitioning(dokv.HashShards(8)))
	if err != nil {
		log.Fatal(err)
	}
	return ns, notes
}
