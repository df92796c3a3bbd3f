// Command loadtest drives workerd on loopback and compares, in one run, two
// Go Workers built with dokv with a pure-JS Worker and JS Durable Object
// that do the same storage work (./internal/loadtest/jsbaseline):
//
//   - dokv: the example Worker's app (examples/worker/app: byte routes on
//     dokv's lean handler form, the rest on net/http through worker/workerhttp),
//     served by ./internal/loadtest/worker;
//   - lean: a Worker built only from the README's recipe on worker.Handler,
//     linking no net/http (./internal/loadtest/leanworker).
//
// From the repository root:
//
//	go run ./internal/loadtest              # the full run (a few minutes)
//	go run ./internal/loadtest -quick       # a quick check of the mechanics
//	go run ./internal/loadtest -diagnose    # also split dokv's cost (see below)
//	go run ./internal/loadtest -store /tmp  # storage on disk only
//
// It needs workerd from `npm ci` (node_modules/.bin/workerd) and sends
// requests to 127.0.0.1 only. The variants run one at a time, each on fresh
// storage, in alternating rounds; it reports, per variant, the median over
// the rounds of
//
//  1. sequential PUT and GET latency (p50, p99) on /single/{key};
//  2. PUT and GET throughput with concurrent clients on /single/{key} (one
//     object) and /perkey/{key} (an object per key), and workerd's CPU time
//     (utime + stime of the process) per request of those phases: the
//     figure Cloudflare bills, and stable on a shared machine;
//  3. cold start: from starting workerd to the first success of a PUT
//     through the Worker and a new Durable Object, on fresh storage; and,
//     for the Go variants and a reference with no dokv (plain net/http
//     behind a minimal glue: ./internal/loadtest/nethttpworker and
//     jsbaseline/nethttp.mjs), to a first 404 that reaches no object;
//
// and, for the Go variants only,
//
//  4. the wasm size (./examples/worker and the lean Worker), raw and
//     gzipped, and what dokv adds to a net/http Worker: the size of
//     ./internal/loadtest/nothingworker (workerhttp serving an empty
//     ServeMux) less that of nethttpworker (the same without dokv);
//  5. for dokv, the Go instance's wasm linear memory (GET /__stats) during
//     and after a mixed workload of PUT, GET and DELETE over /single,
//     /perkey and /sharded;
//
// then a table per Go variant and storage with the ratios to the baseline
// and whether each target is met. Every response is checked (PUT 204, GET
// exactly the bytes PUT, DELETE 204); failed requests are counted and
// reported, and make the exit status non-zero. Missing a target does not,
// unless -fail-on-miss is set.
//
// The rounds run once with the Durable Objects' SQLite files under
// /dev/shm (a tmpfs: fsync costs nothing, so the numbers compare the code)
// and once under the temporary directory (on disk: every write's fsync is
// in the numbers); -store chooses other directories.
//
// -diagnose adds a third variant, the hybrid (jsbaseline/hybrid.mjs: a JS
// fetch handler in front of dokv's Go Durable Object), and requests that
// only the Worker serves (a 404), so that dokv's extra cost splits into its
// Worker side (dokv − hybrid) and its object side (hybrid − baseline).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dokv/dokv/internal/workerdtest"
)

// options are the load test's knobs; defaults gives the full run and quick
// a short one.
type options struct {
	Rounds       int // rounds per variant, alternating
	Warmup       int // sequential PUTs before measuring, per round (at least one per key)
	Seq          int // requests per sequential phase (PUT, then GET)
	Conc         int // requests per concurrent phase (PUT, then GET)
	Clients      int // concurrent clients
	Keys         int // distinct keys on /single
	ValueSize    int // bytes per value on /single
	ColdRuns     int // cold starts per variant
	MixedOps     int // operations of the memory workload (dokv only)
	MixedEvery   int // sample the memory every so many operations
	MixedClients int // concurrent clients of the memory workload
	Workerd      string
	FailOnMiss   bool
	Diagnose     bool     // add the hybrid variant and the Worker-only measurements
	Stores       []string // where the Durable Objects' storage directories go, one set of rounds each ("": beside each variant, under $TMPDIR)
	Verbose      bool     // run workerd with --verbose (its log is shown when a request fails)
}

func defaults() options {
	return options{
		Rounds: 3, Warmup: 200, Seq: 2000, Conc: 4000, Clients: 16, Keys: 1000, ValueSize: 100,
		ColdRuns: 5, MixedOps: 50000, MixedEvery: 10000, MixedClients: 8,
		Stores: strings.Split(defaultStores(), ","),
	}
}

func quick() options {
	o := defaults()
	o.Rounds, o.Warmup, o.Seq, o.Conc, o.Keys = 1, 20, 100, 200, 100
	o.ColdRuns, o.MixedOps, o.MixedEvery = 1, 1000, 500
	return o
}

func main() {
	def := defaults()
	var o options
	isQuick := flag.Bool("quick", false, "a short run that checks the mechanics (its numbers are noisy)")
	flag.IntVar(&o.Rounds, "rounds", def.Rounds, "rounds per variant (alternating between variants)")
	flag.IntVar(&o.Warmup, "warmup", def.Warmup, "sequential PUTs before measuring, per round (at least one per key is made anyway)")
	flag.IntVar(&o.Seq, "seq", def.Seq, "requests per sequential phase")
	flag.IntVar(&o.Conc, "conc", def.Conc, "requests per concurrent phase")
	flag.IntVar(&o.Clients, "clients", def.Clients, "concurrent clients for the throughput phases")
	flag.IntVar(&o.Keys, "keys", def.Keys, "distinct keys")
	flag.IntVar(&o.ValueSize, "value-size", def.ValueSize, "bytes per value in the latency and throughput phases")
	flag.IntVar(&o.ColdRuns, "cold", def.ColdRuns, "cold starts per variant")
	flag.IntVar(&o.MixedOps, "mixed", def.MixedOps, "operations of dokv's memory workload")
	flag.IntVar(&o.MixedEvery, "mixed-every", def.MixedEvery, "sample dokv's memory every so many operations")
	flag.IntVar(&o.MixedClients, "mixed-clients", def.MixedClients, "concurrent clients of the memory workload")
	flag.StringVar(&o.Workerd, "workerd", "", "workerd binary (default: node_modules/.bin/workerd of the repository)")
	stores := flag.String("store", defaultStores(), "comma-separated directories under which each run's Durable Object storage is made, "+
		"with a set of rounds for each: a tmpfs (/dev/shm) takes the disk's fsyncs out of the numbers, a directory on disk (/tmp) puts them in")
	flag.BoolVar(&o.Verbose, "verbose-workerd", false, "run workerd with --verbose; its log is shown when a request fails")
	flag.BoolVar(&o.FailOnMiss, "fail-on-miss", false, "exit with status 1 when a target is missed")
	flag.BoolVar(&o.Diagnose, "diagnose", false, "also run the hybrid (JS fetch handler + dokv's Go Durable Object) and "+
		"Worker-only requests (a 404 that reaches no object), to split dokv's cost between its Worker and its object")
	flag.Parse()
	if *isQuick {
		// -quick sets the counts; flags given explicitly still win.
		q := quick()
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		apply := func(name string, dst *int, v int) {
			if !set[name] {
				*dst = v
			}
		}
		apply("rounds", &o.Rounds, q.Rounds)
		apply("warmup", &o.Warmup, q.Warmup)
		apply("seq", &o.Seq, q.Seq)
		apply("conc", &o.Conc, q.Conc)
		apply("keys", &o.Keys, q.Keys)
		apply("cold", &o.ColdRuns, q.ColdRuns)
		apply("mixed", &o.MixedOps, q.MixedOps)
		apply("mixed-every", &o.MixedEvery, q.MixedEvery)
	}
	o.Stores = strings.Split(*stores, ",")
	if err := o.validate(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	res, err := run(ctx, o, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
	res.Wall = time.Since(start)
	res.write(os.Stdout)
	if n := res.fails.count(); n > 0 {
		fmt.Fprintf(os.Stderr, "loadtest: %d requests failed; the first:\n%s\n", n, strings.Join(res.fails.first, "\n"))
		os.Exit(1)
	}
	if o.FailOnMiss && res.missed() > 0 {
		os.Exit(1)
	}
}

// defaultStores is "/dev/shm,/tmp" where /dev/shm is a directory (a tmpfs on
// Linux): storage in memory and on disk. Elsewhere it is "" (the variants'
// temporary directories).
func defaultStores() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		return "/dev/shm," + os.TempDir()
	}
	return ""
}

func (o *options) validate() error {
	for _, c := range []struct {
		name string
		v    int
	}{
		{"rounds", o.Rounds}, {"seq", o.Seq}, {"conc", o.Conc}, {"clients", o.Clients}, {"keys", o.Keys},
		{"value-size", o.ValueSize}, {"cold", o.ColdRuns}, {"mixed-every", o.MixedEvery}, {"mixed-clients", o.MixedClients},
	} {
		if c.v < 1 {
			return fmt.Errorf("-%s must be at least 1", c.name)
		}
	}
	if o.Warmup < 0 || o.MixedOps < 0 {
		return fmt.Errorf("-warmup and -mixed must not be negative")
	}
	if o.ValueSize > 1<<20 {
		return fmt.Errorf("-value-size must be at most 1 MiB")
	}
	return nil
}

// run builds both variants and measures them, logging progress to logw.
func run(ctx context.Context, o options, logw io.Writer) (*results, error) {
	logf := func(format string, args ...any) {
		fmt.Fprintf(logw, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
	}
	bin := o.Workerd
	if bin == "" {
		var err error
		if bin, err = workerdtest.Binary(); err != nil {
			return nil, err
		}
	}
	res := newResults(o)
	res.Machine = describeMachine(bin)
	res.sampleLoad()

	logf("building the dokv Worker (./internal/loadtest/worker) and the JS baseline")
	dokvV, err := buildDokv(bin)
	if err != nil {
		return nil, err
	}
	defer dokvV.remove()
	baseV, err := buildBaseline()
	if err != nil {
		return nil, err
	}
	defer baseV.remove()
	leanV, err := buildGo(bin, "lean", "./internal/loadtest/leanworker")
	if err != nil {
		return nil, err
	}
	defer leanV.remove()
	variants := []*variant{dokvV, leanV, baseV}
	if o.Diagnose {
		hybridV, err := buildHybrid(dokvV)
		if err != nil {
			return nil, err
		}
		variants = append(variants, hybridV)
	}

	for name, pkg := range map[string]string{"dokv": "./examples/worker", "lean": "./internal/loadtest/leanworker",
		"nethttp": "./internal/loadtest/nethttpworker", "nothing": "./internal/loadtest/nothingworker"} {
		logf("building %s for js/wasm to measure its size", pkg)
		if res.Wasm[name], err = measureWasm(pkg); err != nil {
			return nil, err
		}
	}

	for _, store := range o.Stores {
		for r := range o.Rounds {
			for j := range variants {
				v := variants[(r+j)%len(variants)] // alternate which variant goes first
				logf("round %d/%d, storage under %q: %s", r+1, o.Rounds, store, v.name)
				rr, err := runRound(ctx, bin, v, store, o, &res.fails)
				if err != nil {
					return nil, fmt.Errorf("round %d, %s: %w", r+1, v.name, err)
				}
				res.Rounds[v.name] = append(res.Rounds[v.name], rr)
				res.sampleLoad()
			}
		}
	}

	for r := range o.ColdRuns {
		for j := range variants {
			v := variants[(r+j)%len(variants)]
			c, err := coldStart(ctx, bin, v, o, false)
			if err != nil {
				return nil, fmt.Errorf("cold start %d, %s: %w", r+1, v.name, err)
			}
			if c.AfterEvaluation, err = firstAfterEvaluation(ctx, bin, v, o); err != nil {
				return nil, fmt.Errorf("cold start %d (after evaluation), %s: %w", r+1, v.name, err)
			}
			logf("cold start %d/%d: %s: listening after %v, first PUT done after %v; after evaluation, a first PUT takes %v",
				r+1, o.ColdRuns, v.name, ms(c.Listen), ms(c.FirstOK), ms(c.AfterEvaluation))
			res.Cold[v.name] = append(res.Cold[v.name], c)
			if o.Diagnose {
				c, err := coldStart(ctx, bin, v, o, true)
				if err != nil {
					return nil, fmt.Errorf("cold start %d (Worker only first), %s: %w", r+1, v.name, err)
				}
				logf("cold start %d/%d: %s: first 404 after %v, then first PUT done after %v",
					r+1, o.ColdRuns, v.name, ms(c.FirstWorker), ms(c.FirstOK))
				res.ColdWorker[v.name] = append(res.ColdWorker[v.name], c)
			}
		}
	}
	// Cold start to a first answer that reaches no object, against plain
	// net/http behind a minimal glue: what dokv's Worker side adds.
	netV, err := buildNetHTTP()
	if err != nil {
		return nil, err
	}
	defer netV.remove()
	for r := range o.ColdRuns {
		for _, v := range []*variant{dokvV, leanV, netV} {
			d, err := coldFirstAnswer(ctx, bin, v, o)
			if err != nil {
				return nil, fmt.Errorf("cold start to a 404 %d, %s: %w", r+1, v.name, err)
			}
			logf("cold start %d/%d: %s: first 404 after %v", r+1, o.ColdRuns, v.name, ms(d))
			res.Cold404[v.name] = append(res.Cold404[v.name], d)
		}
	}
	res.sampleLoad()

	if o.MixedOps > 0 {
		logf("memory: %d mixed operations on dokv with %d clients", o.MixedOps, o.MixedClients)
		if res.Memory, err = runMixed(ctx, bin, dokvV, o, &res.fails, logf); err != nil {
			return nil, fmt.Errorf("memory workload: %w", err)
		}
	}
	res.sampleLoad()
	return res, nil
}

// runRound starts v on fresh storage under store and runs the latency and
// throughput phases on /single, and the throughput phases on /perkey. Failed requests are counted in fails.
func runRound(ctx context.Context, bin string, v *variant, store string, o options, fails *failures) (round, error) {
	rr := round{Store: store}
	s, err := startServer(bin, v, store, o.Verbose)
	if err != nil {
		return rr, err
	}
	defer s.stop()
	if _, err := s.waitListening(30 * time.Second); err != nil {
		return rr, err
	}
	c, err := newClient(s.url)
	if err != nil {
		return rr, err
	}
	defer c.close()
	before := fails.count()
	onErr := func(phase string) func(error) {
		return func(err error) { fails.add(v.name+", "+phase, err, s.logTail) }
	}
	// putOn and getOn make request i a PUT or a GET of key i % o.Keys at
	// the path path gives it.
	putOn := func(path func(int) string) func(context.Context, int) error {
		return func(ctx context.Context, i int) error {
			k := i % o.Keys
			return c.put(ctx, path(k), value(k, o.ValueSize))
		}
	}
	getOn := func(path func(int) string) func(context.Context, int) error {
		return func(ctx context.Context, i int) error {
			k := i % o.Keys
			return c.get(ctx, path(k), value(k, o.ValueSize), false)
		}
	}
	put, get := putOn(singlePath), getOn(singlePath)
	// Warm up (this starts the Go instance and the object), then write
	// every key once so that every GET below hits.
	warm := max(o.Warmup, o.Keys)
	if _, err := sequential(ctx, warm, put, onErr("warm-up")); err != nil {
		return rr, err
	}
	if rr.SeqPut, err = sequential(ctx, o.Seq, put, onErr("sequential PUT")); err != nil {
		return rr, err
	}
	if rr.SeqGet, err = sequential(ctx, o.Seq, get, onErr("sequential GET")); err != nil {
		return rr, err
	}
	if o.Diagnose {
		// A request that only the Worker serves: a route that does not
		// exist, answered 404 without reaching an object.
		if rr.WorkerOnly, err = sequential(ctx, o.Seq, func(ctx context.Context, i int) error {
			return c.notFound(ctx, "/no-such-route/"+strconv.Itoa(i))
		}, onErr("Worker-only 404")); err != nil {
			return rr, err
		}
	}
	// The concurrent phases also measure workerd's CPU per request.
	conc := func(phase string, fn func(context.Context, int) error) (throughput float64, cpu time.Duration, err error) {
		before, err := s.cpuTime()
		if err != nil {
			return 0, 0, err
		}
		if throughput, err = concurrent(ctx, o.Conc, o.Clients, fn, onErr(phase)); err != nil {
			return 0, 0, err
		}
		after, err := s.cpuTime()
		return throughput, (after - before) / time.Duration(o.Conc), err
	}
	if rr.ConcPut, rr.CPUPut, err = conc("concurrent PUT", put); err != nil {
		return rr, err
	}
	if rr.ConcGet, rr.CPUGet, err = conc("concurrent GET", get); err != nil {
		return rr, err
	}
	// The same on /perkey: every key its own Durable Object. The PUTs
	// create the objects (one per key), the GETs read them back.
	if rr.ConcPutPerKey, rr.CPUPutPerKey, err = conc("concurrent PUT /perkey", putOn(perKeyPath)); err != nil {
		return rr, err
	}
	if rr.ConcGetPerKey, rr.CPUGetPerKey, err = conc("concurrent GET /perkey", getOn(perKeyPath)); err != nil {
		return rr, err
	}
	rr.RSS = s.rssBytes()
	rr.Failed = fails.count() - before
	return rr, nil
}

// coldStart starts v on fresh storage and measures the time from starting
// workerd until it listens, and until the first PUT through the Worker and
// a new Durable Object has succeeded. With workerFirst, the first request is
// one that only the Worker serves (a 404), so that starting the Worker (for
// dokv, the Go instance) is timed apart from the first Durable Object call.
func coldStart(ctx context.Context, bin string, v *variant, o options, workerFirst bool) (cold, error) {
	var c cold
	s, err := startServer(bin, v, o.Stores[0], o.Verbose)
	if err != nil {
		return c, err
	}
	defer s.stop()
	if c.Listen, err = s.waitListening(30 * time.Second); err != nil {
		return c, err
	}
	cl, err := newClient(s.url)
	if err != nil {
		return c, err
	}
	defer cl.close()
	if workerFirst {
		if err := cl.notFound(ctx, "/no-such-route"); err != nil {
			return c, fmt.Errorf("%w\nworkerd output:\n%s", err, s.logTail())
		}
		c.FirstWorker = time.Since(s.started)
	}
	if err := cl.put(ctx, singlePath(0), value(0, o.ValueSize)); err != nil {
		return c, fmt.Errorf("%w\nworkerd output:\n%s", err, s.logTail())
	}
	c.FirstOK = time.Since(s.started)
	// The value must be there: the first request did reach the object.
	if err := cl.get(ctx, singlePath(0), value(0, o.ValueSize), false); err != nil {
		return c, err
	}
	return c, nil
}

// settleAfterListen is how long firstAfterEvaluation leaves workerd to
// evaluate the Worker's module after it listens (it takes well under
// 100 ms here).
const settleAfterListen = time.Second

// withFreshServer starts v on fresh storage, waits until workerd listens,
// and runs fn with it and a client; workerd's output is added to fn's
// error.
func withFreshServer(bin string, v *variant, o options, fn func(*server, *client) error) error {
	s, err := startServer(bin, v, o.Stores[0], o.Verbose)
	if err != nil {
		return err
	}
	defer s.stop()
	if _, err := s.waitListening(30 * time.Second); err != nil {
		return err
	}
	cl, err := newClient(s.url)
	if err != nil {
		return err
	}
	defer cl.close()
	if err := fn(s, cl); err != nil {
		return fmt.Errorf("%w\nworkerd output:\n%s", err, s.logTail())
	}
	return nil
}

// firstAfterEvaluation starts v on fresh storage, waits settleAfterListen
// after workerd listens, and returns the latency of a first PUT through
// the Worker to a new Durable Object.
func firstAfterEvaluation(ctx context.Context, bin string, v *variant, o options) (d time.Duration, err error) {
	err = withFreshServer(bin, v, o, func(_ *server, cl *client) error {
		select {
		case <-time.After(settleAfterListen):
		case <-ctx.Done():
			return ctx.Err()
		}
		start := time.Now()
		err := cl.put(ctx, singlePath(0), value(0, o.ValueSize))
		d = time.Since(start)
		return err
	})
	return d, err
}

// coldFirstAnswer starts v on fresh storage and returns the time from
// starting workerd until a request that reaches no object is answered 404.
func coldFirstAnswer(ctx context.Context, bin string, v *variant, o options) (d time.Duration, err error) {
	err = withFreshServer(bin, v, o, func(s *server, cl *client) error {
		err := cl.notFound(ctx, "/no-such-route")
		d = time.Since(s.started)
		return err
	})
	return d, err
}

// runMixed runs the mixed workload on dokv, on fresh storage, sampling the
// Go instance's linear memory (and workerd's RSS) before it and every
// o.MixedEvery operations.
func runMixed(ctx context.Context, bin string, v *variant, o options, fails *failures, logf func(string, ...any)) ([]memSample, error) {
	s, err := startServer(bin, v, o.Stores[0], o.Verbose)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	if _, err := s.waitListening(30 * time.Second); err != nil {
		return nil, err
	}
	c, err := newClient(s.url)
	if err != nil {
		return nil, err
	}
	defer c.close()
	sample := func(ops int) (memSample, error) {
		m, err := c.memoryBytes(ctx)
		if err != nil {
			return memSample{}, fmt.Errorf("%w\nworkerd output:\n%s", err, s.logTail())
		}
		if m <= 0 {
			return memSample{}, fmt.Errorf("GET /__stats reported %d bytes of wasm memory", m)
		}
		return memSample{Ops: ops, WasmBytes: m, RSS: s.rssBytes()}, nil
	}
	first, err := sample(0) // starts the Go instance
	if err != nil {
		return nil, err
	}
	samples := []memSample{first}
	for done := 0; done < o.MixedOps; {
		n := min(o.MixedEvery, o.MixedOps-done)
		base := done
		start := time.Now()
		before := fails.count()
		_, err := concurrent(ctx, n, o.MixedClients, func(ctx context.Context, i int) error {
			return mixedOp(ctx, c, base+i, o.Keys)
		}, func(err error) { fails.add(v.name+", mixed workload", err, s.logTail) })
		if err != nil {
			return nil, err
		}
		done += n
		m, err := sample(done)
		if err != nil {
			return nil, err
		}
		m.Rate = float64(n) / time.Since(start).Seconds()
		m.Failed = fails.count() - before
		samples = append(samples, m)
		logf("memory: %d operations: wasm linear memory %s, workerd RSS %s (%.0f ops/s)",
			done, mib(m.WasmBytes), mib(m.RSS), m.Rate)
	}
	return samples, nil
}
