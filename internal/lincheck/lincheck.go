// Package lincheck checks that dokv's per-key operations are linearizable:
// concurrent clients run random Get, Set, Delete and CompareAndSwap calls on
// a few hot keys of a dokv.Store over some Namespace, every call is recorded
// as a porcupine.Operation, and porcupine checks the history against a model
// of a versioned register (see Model).
//
// Run does it all for a test: Record runs the clients and returns the
// history, Check checks one, and a history that is not proven linearizable
// leaves porcupine's HTML visualization and the history as JSON (see
// ReadHistory) in $DOKV_ARTIFACTS (or the test's temporary directory).
//
// What the model holds a key to: a Get returns the latest value and its
// version; every write gives the key a version larger than any it had, also
// across a delete; a CAS writes exactly when the key's version is the
// expected one and otherwise reports the version it found. Every write
// writes a value of its own, so a value read names the write that made it.
//
// A call whose outcome is unknown (ErrUnknownOutcome, which ErrUnavailable
// matches once retries are spent) may or may not have taken effect, at any
// time after it was called: it is recorded with Return math.MaxInt64, as
// porcupine treats a call that never returned, and the nondeterministic
// model steps it to two states, not applied and applied. Applied, its
// version is unknown but larger than the key's highest; a later Get of its
// value, or a conflict that reports its version, resolves it. A Get with an
// unknown outcome changes nothing and tells nothing, and a call refused with
// ErrOverloaded did not run: both are left out of the history.
//
// Before the search, Check prepares the history with facts that every
// linearization obeys (see prepare): a pending write whose value a Get
// returned took effect, with the version returned; one that nothing could
// have observed is left out; writes are ordered by their versions. These
// only keep porcupine's search from trying orders that are bound to fail,
// which with 16 clients on 4 keys and stalled calls can otherwise take
// minutes; the verdict is the same.
package lincheck

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/dokv/dokv"
)

// ArtifactsEnv names the environment variable with the directory where Run
// writes the visualization of a history that fails the check.
const ArtifactsEnv = "DOKV_ARTIFACTS"

// Config describes a run.
type Config struct {
	// Clients is the number of concurrent clients; 16 if 0.
	Clients int
	// Ops is the number of calls all clients make together; 10,000 if 0.
	Ops int
	// Keys is the number of hot keys the clients share; 4 if 0.
	Keys int
	// Seed makes the clients' choices reproducible (their interleaving is
	// up to the scheduler).
	Seed uint64
	// Options configure each client's store, e.g. dokv.WithPartitioning or
	// dokv.WithRetry.
	Options []dokv.Option
	// ArtifactDir is where a failing history's visualization is written; if
	// empty, the directory in $DOKV_ARTIFACTS, else t.TempDir().
	ArtifactDir string
	// CheckTimeout bounds porcupine's search; 20s if 0. A check that times
	// out fails the run: it proves nothing either way.
	CheckTimeout time.Duration
	// OpTimeout bounds each call; 30s if 0. A call that exceeds it fails
	// the run.
	OpTimeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.Clients <= 0 {
		c.Clients = 16
	}
	if c.Ops <= 0 {
		c.Ops = 10_000
	}
	if c.Keys <= 0 {
		c.Keys = 4
	}
	if c.CheckTimeout <= 0 {
		c.CheckTimeout = 20 * time.Second
	}
	if c.OpTimeout <= 0 {
		c.OpTimeout = 30 * time.Second
	}
	return c
}

// Stats counts the calls of a run by what they did.
type Stats struct {
	Calls int // calls made, including those not in the history
	// Recorded is the number of operations in the history.
	Recorded int

	Gets, GetsFound, GetsNotFound int
	Sets, Deletes                 int
	CASOK, CASConflict            int

	// UnknownWrites are writes (set, delete, CAS) with an unknown outcome,
	// in the history as pending operations.
	UnknownWrites int
	// UnknownWritesSeen are unknown-outcome Sets and CASes whose value a
	// later Get returned: proof they happened, which resolved their
	// version.
	UnknownWritesSeen int
	// UnknownGets are Gets with an unknown outcome: they change nothing
	// and tell nothing, so they are left out of the history.
	UnknownGets int
	// Overloaded are calls refused with ErrOverloaded: they did not run,
	// so they are left out of the history (an operation that changes
	// nothing and returns nothing fits any linearization; leaving it out
	// keeps the search small).
	Overloaded int
}

func (s Stats) String() string {
	return fmt.Sprintf("%d calls, %d in the history: get %d (found %d, not found %d), set %d, delete %d, "+
		"cas ok %d, cas conflict %d; unknown outcome: %d writes (%d later seen by a get), %d gets (left out); "+
		"overloaded %d (left out)",
		s.Calls, s.Recorded, s.Gets, s.GetsFound, s.GetsNotFound, s.Sets, s.Deletes, s.CASOK, s.CASConflict,
		s.UnknownWrites, s.UnknownWritesSeen, s.UnknownGets, s.Overloaded)
}

func (s *Stats) add(o Stats) {
	s.Calls += o.Calls
	s.Gets += o.Gets
	s.GetsFound += o.GetsFound
	s.GetsNotFound += o.GetsNotFound
	s.Sets += o.Sets
	s.Deletes += o.Deletes
	s.CASOK += o.CASOK
	s.CASConflict += o.CASConflict
	s.UnknownWrites += o.UnknownWrites
	s.UnknownGets += o.UnknownGets
	s.Overloaded += o.Overloaded
}

// History is a recorded run.
type History struct {
	Operations []porcupine.Operation
	Stats      Stats
	Elapsed    time.Duration
}

// Result is the outcome of Run.
type Result struct {
	History
	// Verdict is the check's; its Result is empty if the run failed
	// before the check.
	Verdict Verdict
	// Artifact is the path of the HTML visualization written for a
	// history that is not proven linearizable; the history is next to
	// it, with the extension .json (see ReadHistory).
	Artifact string
}

// Run records a history of cfg.Clients clients making cfg.Ops calls on
// cfg.Keys keys of stores over ns, and checks it with porcupine. It fails t
// (with Errorf) if a call fails with an error the model does not allow, or
// if the history is not linearizable (Illegal) or the check times out
// (Unknown); in the last two cases it writes porcupine's visualization and
// the history (see ReadHistory) to artifact files and logs their paths.
func Run(t testing.TB, ns dokv.Namespace, cfg Config) Result {
	t.Helper()
	cfg = cfg.withDefaults()
	var res Result
	h, err := Record(context.Background(), ns, cfg)
	res.History = h
	if err != nil {
		t.Errorf("lincheck: %v", err)
		return res
	}
	v := Check(h.Operations, cfg.CheckTimeout)
	res.Verdict = v
	t.Logf("lincheck: %d clients, %d keys, %v to run, %v to check %d operations "+
		"(unknown-outcome writes: %d resolved as taken effect, %d left out as unobservable): %s; %s",
		cfg.Clients, cfg.Keys, h.Elapsed.Round(time.Millisecond), v.Elapsed.Round(time.Millisecond), v.Checked,
		v.Resolved, v.LeftOut, v.Result, h.Stats)
	if v.Result == porcupine.Ok {
		return res
	}
	path, err := writeArtifacts(t, cfg.ArtifactDir, h.Operations, v.Info)
	res.Artifact = path
	if err != nil {
		t.Errorf("lincheck: writing the artifacts: %v", err)
	} else {
		t.Logf("lincheck: porcupine's visualization of the history: %s (the history, for ReadHistory: %s)",
			path, strings.TrimSuffix(path, ".html")+".json")
	}
	switch v.Result {
	case porcupine.Illegal:
		t.Errorf("lincheck: the history of %d operations is NOT linearizable (porcupine: Illegal); visualization: %s",
			v.Checked, path)
	default:
		t.Errorf("lincheck: porcupine could not decide within %v whether the history of %d operations is linearizable (%s): "+
			"the check proves nothing; use fewer operations per key or fewer clients, or a longer CheckTimeout; visualization: %s",
			cfg.CheckTimeout, v.Checked, v.Result, path)
	}
	return res
}

// Verdict is the outcome of Check.
type Verdict struct {
	Result porcupine.CheckResult
	// Info is for Visualize; it describes the history as checked, without
	// the operations left out.
	Info    porcupine.LinearizationInfo
	Elapsed time.Duration
	// Checked is the number of operations checked. Of the writes with an
	// unknown outcome, LeftOut were left out because no operation could
	// have observed them, and Resolved certainly took effect (a Get
	// returned their value, or they alone could have made a version that
	// was observed); see prepare.
	Checked, LeftOut, Resolved int
}

// Check checks a history against Model, within timeout (0: none).
func Check(history []porcupine.Operation, timeout time.Duration) Verdict {
	start := time.Now()
	prepared, leftOut, resolved := prepare(history)
	result, info := porcupine.CheckOperationsVerbose(Model(), prepared, timeout)
	return Verdict{Result: result, Info: info, Elapsed: time.Since(start), Checked: len(prepared), LeftOut: leftOut, Resolved: resolved}
}

// Visualize writes porcupine's HTML visualization of a checked history to
// path.
func Visualize(info porcupine.LinearizationInfo, path string) error {
	return porcupine.VisualizePath(Model(), info, path)
}

// writeArtifacts writes the visualization of a history that failed the
// check, and the history itself as JSON next to it, and returns the
// visualization's path.
func writeArtifacts(t testing.TB, dir string, history []porcupine.Operation, info porcupine.LinearizationInfo) (string, error) {
	if dir == "" {
		dir = os.Getenv(ArtifactsEnv)
	}
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			return r
		}
		return '_'
	}, t.Name())
	base, err := filepath.Abs(filepath.Join(dir, "lincheck-"+name))
	if err != nil {
		return "", err
	}
	if err := WriteHistory(base+".json", history); err != nil {
		return "", err
	}
	return base + ".html", Visualize(info, base+".html")
}

// Record runs the workload of cfg against stores over ns and returns its
// history. It fails if a store cannot be made or if a call fails with an
// error that is none of ErrNotFound (Get), ErrConflict (CAS),
// ErrOverloaded and ErrUnknownOutcome; then the history is incomplete.
func Record(ctx context.Context, ns dokv.Namespace, cfg Config) (History, error) {
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	keys := make([]string, cfg.Keys)
	for i := range keys {
		keys[i] = fmt.Sprintf("lin/k%d", i)
	}
	rec := NewRecorder(cfg.Clients)
	clients := make([]*client, cfg.Clients)
	for i := range clients {
		store, err := dokv.New[uint64](ns, cfg.Options...)
		if err != nil {
			return History{}, fmt.Errorf("making the store of client %d: %w", i, err)
		}
		clients[i] = &client{
			id:    i,
			store: store,
			log:   rec.Client(i),
			rng:   rand.New(rand.NewPCG(cfg.Seed, uint64(i)+1)),
			keys:  keys,
			last:  make(map[string]uint64),
			cfg:   &cfg,
		}
	}

	var (
		remaining atomic.Int64
		wg        sync.WaitGroup
		errMu     sync.Mutex
		errs      []error
		failures  int
	)
	remaining.Store(int64(cfg.Ops))
	start := time.Now()
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for remaining.Add(-1) >= 0 && ctx.Err() == nil {
				if err := c.step(ctx); err != nil {
					if ctx.Err() != nil {
						return // another client failed first
					}
					errMu.Lock()
					failures++
					if len(errs) < 5 {
						errs = append(errs, err)
					}
					errMu.Unlock()
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()

	h := History{Operations: rec.Operations(), Elapsed: time.Since(start)}
	for _, c := range clients {
		h.Stats.add(c.stats)
	}
	h.Stats.Recorded = len(h.Operations)
	h.Stats.UnknownWritesSeen = unknownWritesSeen(h.Operations)
	if failures > 0 {
		return h, fmt.Errorf("%d calls failed with errors the model does not allow, among them: %w", failures, errors.Join(errs...))
	}
	return h, nil
}

// client is one goroutine's view of the store.
type client struct {
	id    int
	store *dokv.Store[uint64]
	log   *ClientLog
	rng   *rand.Rand
	keys  []string
	// last is the version this client last saw at each key: by a get, its
	// own write, or a conflict.
	last    map[string]uint64
	written uint64 // writes so far, for unique values
	stats   Stats
	cfg     *Config
}

// value returns a value no other write of the run writes.
func (c *client) value() uint64 {
	c.written++
	return uint64(c.id+1)<<32 | c.written
}

// expected picks the version a CAS expects: mostly the one this client last
// saw at the key, sometimes a stale or made-up one.
func (c *client) expected(key string) uint64 {
	last := c.last[key]
	switch r := c.rng.Float64(); {
	case r < 0.8:
		return last
	case r < 0.85:
		return 0
	case r < 0.9 && last > 0:
		return last - 1
	case r < 0.95:
		return last + 1
	default:
		return c.rng.Uint64N(last + 3)
	}
}

// step makes one random call and records it. It returns an error only for a
// failure the model does not allow.
func (c *client) step(ctx context.Context) error {
	key := c.keys[c.rng.IntN(len(c.keys))]
	var in Input
	switch r := c.rng.Float64(); {
	case r < 0.35:
		in = Input{Kind: Get, Key: key}
	case r < 0.55:
		in = Input{Kind: Set, Key: key, Value: c.value()}
	case r < 0.65:
		in = Input{Kind: Delete, Key: key}
	default:
		in = Input{Kind: CAS, Key: key, Expected: c.expected(key), Value: c.value()}
	}

	opCtx, cancel := context.WithTimeout(ctx, c.cfg.OpTimeout)
	defer cancel()
	var (
		out Output
		err error
	)
	c.stats.Calls++
	call := c.log.Now()
	switch in.Kind {
	case Get:
		var e dokv.Entry[uint64]
		e, err = c.store.GetEntry(opCtx, key)
		switch {
		case err == nil:
			out = Output{Found: true, Value: e.Value, Version: e.Version}
		case errors.Is(err, dokv.ErrNotFound):
			out, err = Output{}, nil
		}
	case Set:
		out.Version, err = c.store.SetEntry(opCtx, key, in.Value)
	case Delete:
		err = c.store.Delete(opCtx, key)
	case CAS:
		out.Version, err = c.store.CompareAndSwap(opCtx, key, in.Expected, in.Value)
		var de *dokv.Error
		if errors.Is(err, dokv.ErrConflict) && errors.As(err, &de) {
			out, err = Output{Conflict: true, Current: de.Current}, nil
		}
	}

	switch {
	case err == nil:
		c.log.Returned(call, in, out, nil)
		c.count(in, out)
	case errors.Is(err, dokv.ErrOverloaded):
		// Refused: it did not run. Left out of the history.
		c.stats.Overloaded++
	case errors.Is(err, dokv.ErrUnknownOutcome):
		if in.Kind == Get {
			c.stats.UnknownGets++
			break
		}
		c.log.Pending(call, in, err.Error())
		c.stats.UnknownWrites++
	default:
		return fmt.Errorf("client %d: %s: %w", c.id, describeCall(in), err)
	}
	return nil
}

// count updates the statistics and the client's last seen version after a
// call that returned.
func (c *client) count(in Input, out Output) {
	switch in.Kind {
	case Get:
		c.stats.Gets++
		if out.Found {
			c.stats.GetsFound++
		} else {
			c.stats.GetsNotFound++
		}
		c.last[in.Key] = out.Version
	case Set:
		c.stats.Sets++
		c.last[in.Key] = out.Version
	case Delete:
		c.stats.Deletes++
		c.last[in.Key] = 0
	case CAS:
		if out.Conflict {
			c.stats.CASConflict++
			c.last[in.Key] = out.Current
		} else {
			c.stats.CASOK++
			c.last[in.Key] = out.Version
		}
	}
}

// unknownWritesSeen counts the writes with an unknown outcome whose value a
// Get returned.
func unknownWritesSeen(history []porcupine.Operation) int {
	pending := make(map[uint64]bool)
	for _, op := range history {
		in := op.Input.(Input)
		if op.Output.(Output).Unknown && (in.Kind == Set || in.Kind == CAS) {
			pending[in.Value] = false
		}
	}
	n := 0
	for _, op := range history {
		out := op.Output.(Output)
		if op.Input.(Input).Kind != Get || !out.Found {
			continue
		}
		if seen, ok := pending[out.Value]; ok && !seen {
			pending[out.Value] = true
			n++
		}
	}
	return n
}
