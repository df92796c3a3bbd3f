package local

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/backup"
	"github.com/dokv/dokv/internal/exactjson"
	"github.com/dokv/dokv/internal/workerdtest"
	"github.com/dokv/dokv/internal/workerfiles"
)

// moveAdminSecret enables the example Worker's admin routes in this test:
// backup.AdminSecretMinBytes or more, as the Worker refuses shorter ones.
const moveAdminSecret = "local-move-admin-secret-long-enough-to-guard"

// moveEntry is what the source store held for a key when it was written.
type moveEntry struct {
	value   []byte
	version uint64
	expires time.Time // zero: no TTL
}

// A store moves local → workerd → local byte for byte with the tools a user
// has: backup.Export from a local directory to a file, `dokv import` into
// the example Worker on workerd through its admin route, `dokv export` back,
// and backup.Import into a fresh directory. Every key, value byte and expiry
// survives; versions do not (each store numbers its own writes). The
// partitioning changes on the way (HashShards(3) with prefix "app:" here,
// HashShards(8) with the example's prefix on workerd), which the format
// does not care about. More than backup.AdminExportLimit entries, so that
// `dokv export` follows the admin route's pages.
func TestWorkerd_MoveLocalToWorkersAndBack(t *testing.T) {
	// The example Worker, workerd and cmd/dokv live in the root module; the
	// helpers look for them from the working directory.
	root := workerdtest.EnterRootModule(t)
	bin := workerdtest.Require(t) // skips without workerd, fails under CI=true
	ctx := context.Background()

	w, err := workerdtest.Build(bin, "./examples/worker", workerfiles.Config{
		Name:      "dokv-example",
		Bindings:  []string{"DOKV"},
		UniqueKey: "dokv-example",
		Vars:      map[string]string{"DOKV_ADMIN_SECRET": moveAdminSecret},
	})
	require.NoError(t, err)
	t.Cleanup(w.Remove)
	t.Cleanup(func() { // runs before Remove
		if t.Failed() {
			t.Logf("workerd log of the example Worker:\n%s", w.Log())
		}
	})
	require.NoError(t, w.Start(), "under CI=true workerd must start")
	dokvBin := buildDokvCommand(t, root)

	opts := []dokv.Option{dokv.WithCodec(dokv.Raw()), dokv.WithPrefix("app:"), dokv.WithPartitioning(dokv.HashShards(3))}
	newStore := func(ns dokv.Namespace) *dokv.Store[[]byte] {
		s, err := dokv.New[[]byte](ns, opts...)
		require.NoError(t, err)
		return s
	}

	// The TTLs are compared within the time the move took, counted from
	// before the first write.
	started := time.Now()
	src := newStore(open(t, t.TempDir()))
	want := writeMoveCorpus(t, ctx, src)
	require.Greater(t, len(want), backup.AdminExportLimit)

	// local → file, with the Go API: there is no CLI for a local directory.
	dir := t.TempDir()
	fromLocal := filepath.Join(dir, "from-local.jsonl")
	f, err := os.Create(fromLocal)
	require.NoError(t, err)
	p, err := backup.Export(ctx, src, f, backup.ExportOptions{})
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.Equal(t, int64(len(want)), p.Entries)

	// file → workerd → file, with the CLI through the admin route.
	stderr, err := runDokvCommand(dokvBin, "import", "-url", w.URL, "-store", "sharded", "-i", fromLocal)
	require.NoError(t, err, stderr)
	assert.Contains(t, stderr, fmt.Sprintf("imported %d entries", len(want)))
	fromWorkers := filepath.Join(dir, "from-workers.jsonl")
	stderr, err = runDokvCommand(dokvBin, "export", "-url", w.URL, "-store", "sharded", "-o", fromWorkers)
	require.NoError(t, err, stderr)
	assert.Contains(t, stderr, fmt.Sprintf("exported %d entries", len(want)))

	// Both files list the same keys in the same order with the same value
	// bytes: if the end-to-end check below fails, this says which leg broke.
	out, back := readMoveLines(t, fromLocal), readMoveLines(t, fromWorkers)
	require.Len(t, back, len(out))
	for i := range out {
		require.Equal(t, out[i].Key, back[i].Key, "line %d", i+1)
		assert.Equal(t, lineValue(out[i]), lineValue(back[i]), "%q: the value on workerd", out[i].Key)
	}

	// file → a fresh local directory, with the Go API.
	in, err := os.Open(fromWorkers)
	require.NoError(t, err)
	defer in.Close()
	dst := newStore(open(t, t.TempDir()))
	p, err = backup.Import(ctx, dst, in)
	require.NoError(t, err)
	require.Equal(t, int64(len(want)), p.Entries)
	took := time.Since(started)
	t.Logf("moved %d entries (%d bytes of JSON Lines from workerd) in %v", p.Entries, p.Bytes, took.Round(time.Millisecond))

	for key, e := range want {
		got, err := dst.GetEntry(ctx, key)
		require.NoError(t, err, "%q", key)
		assert.True(t, bytes.Equal(e.value, got.Value), "%q: %q, want %q", key, got.Value, e.value)
		if e.expires.IsZero() {
			assert.True(t, got.ExpiresAt.IsZero(), "%q: no TTL, yet expires at %v", key, got.ExpiresAt)
		} else {
			// Each import sets what remained of the expiry by its host's
			// clock, so the expiry drifts by at most the time the move took.
			assert.WithinDuration(t, e.expires, got.ExpiresAt, took, "%q", key)
		}
		// Import writes with the destination's own versions, which are at
		// least its time in microseconds: a version read before the move
		// is older than any after it, so a CompareAndSwap with it fails
		// instead of overwriting.
		assert.Greater(t, got.Version, e.version, "%q", key)
	}
	report, err := backup.Verify(ctx, dst, src)
	require.NoError(t, err)
	assert.True(t, report.OK(), "%+v", report)
	assert.Equal(t, int64(len(want)), report.Compared)
}

// writeMoveCorpus writes awkward values (JSON with whitespace, HTML
// characters, invalid UTF-8, empty) and random bytes under keys with
// unicode, every third with a TTL of an hour or more, and returns what the
// store then held.
func writeMoveCorpus(t *testing.T, ctx context.Context, s *dokv.Store[[]byte]) map[string]moveEntry {
	t.Helper()
	values := exactjson.Corpus(7, 1020, 300)
	keys := []string{"plain", "ключ", "鍵/中文", "😀 emoji", "e\u0301 combining", "a b/c?d=e&f#g", "\u2028line sep", `"quoted\"`}
	want := make(map[string]moveEntry, len(values))
	var mu sync.Mutex
	// SQLite syncs every acknowledged write; writing from several
	// goroutines shares those syncs across the three shards.
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i, v := range values {
		key := fmt.Sprintf("%s-%04d", keys[i%len(keys)], i)
		var ttl time.Duration
		if i%3 == 0 {
			ttl = time.Hour + time.Duration(i)*time.Second
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			var err error
			if ttl > 0 {
				_, err = s.SetWithTTL(ctx, key, v, ttl)
			} else {
				err = s.Set(ctx, key, v)
			}
			if !assert.NoError(t, err, "%q", key) {
				return
			}
			e, err := s.GetEntry(ctx, key)
			if !assert.NoError(t, err, "%q", key) || !assert.Equal(t, ttl > 0, !e.ExpiresAt.IsZero(), "%q: an expiry iff a TTL", key) {
				return
			}
			mu.Lock()
			want[key] = moveEntry{value: v, version: e.Version, expires: e.ExpiresAt}
			mu.Unlock()
		}()
	}
	wg.Wait()
	require.False(t, t.Failed())
	return want
}

// readMoveLines decodes an export file.
func readMoveLines(t *testing.T, path string) []backup.Line {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var lines []backup.Line
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4*dokv.MaxEntryBytes)
	for sc.Scan() {
		var l backup.Line
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l), "%s line %d", path, len(lines)+1)
		lines = append(lines, l)
	}
	require.NoError(t, sc.Err())
	return lines
}

// lineValue is the stored bytes a line carries, inline or base64.
func lineValue(l backup.Line) []byte {
	if l.Value != nil {
		return l.Value
	}
	return l.Value64
}

// buildDokvCommand builds cmd/dokv of the root module, as a user gets it
// with `go tool dokv`.
func buildDokvCommand(t *testing.T, root string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "dokv")
	build := exec.Command("go", "build", "-o", bin, "./cmd/dokv")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// runDokvCommand runs the dokv command with args and the admin secret in
// its environment (never a flag), and returns its standard error.
func runDokvCommand(bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "DOKV_ADMIN_SECRET="+moveAdminSecret)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	return stderr.String(), err
}
