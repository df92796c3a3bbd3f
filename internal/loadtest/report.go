package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dokv/dokv/internal/workerdtest"
	"github.com/dokv/dokv/internal/workerfiles"
)

// round is one variant's latency and throughput phases on fresh storage.
type round struct {
	Store            string // the directory the objects' storage was under
	SeqPut, SeqGet   latency
	ConcPut, ConcGet float64 // requests per second
	// CPUPut and CPUGet are workerd's CPU time (user + system) per request
	// of the concurrent phases.
	CPUPut, CPUGet time.Duration
	// The same on /perkey (an object per key).
	ConcPutPerKey, ConcGetPerKey float64
	CPUPutPerKey, CPUGetPerKey   time.Duration
	RSS                          int64   // workerd's RSS after the phases
	Failed                       int     // failed requests (status or bytes wrong, or no answer)
	WorkerOnly                   latency // -diagnose: sequential requests that reach no object
}

// cold is one cold start.
type cold struct {
	Listen  time.Duration // workerd started → port accepts connections
	FirstOK time.Duration // workerd started → first PUT answered 204

	FirstWorker time.Duration // -diagnose: workerd started → first 404 (no object) answered

	// AfterEvaluation is the first PUT's latency on another fresh start,
	// sent once the module has been evaluated (settleAfterListen after
	// workerd listens): what a request pays where the platform evaluates
	// the module before the request arrives, as Cloudflare does during the
	// TLS handshake. workerd evaluates it just after it listens, so FirstOK
	// holds the evaluation.
	AfterEvaluation time.Duration
}

// memSample is dokv's memory after Ops operations of the mixed workload.
type memSample struct {
	Ops       int
	WasmBytes int64   // the Go instance's linear memory
	RSS       int64   // workerd's resident set
	Rate      float64 // operations per second of the batch before the sample
	Failed    int     // failed operations in the batch before the sample
}

// wasmSize is the size of a Worker's wasm.
type wasmSize struct {
	Package   string
	Raw, Gzip int
}

type results struct {
	Opts    options
	Machine []string
	Load    []float64           // 1-minute load averages sampled during the run
	Wasm    map[string]wasmSize // by Go variant
	Rounds  map[string][]round
	Cold    map[string][]cold
	// ColdWorker are -diagnose's cold starts whose first request is a 404.
	ColdWorker map[string][]cold
	// Cold404 are cold starts to a first 404 (no object), of the Go
	// variants and the net/http reference.
	Cold404 map[string][]time.Duration
	Memory  []memSample
	Wall    time.Duration

	fails failures // failed requests of the whole run
}

func newResults(o options) *results {
	return &results{Opts: o, Wasm: map[string]wasmSize{}, Rounds: map[string][]round{}, Cold: map[string][]cold{}, ColdWorker: map[string][]cold{}, Cold404: map[string][]time.Duration{}}
}

// Targets.
const (
	maxLatencyRatio = 1.3       // sequential PUT and GET p50, dokv/baseline
	minThroughput   = 0.75      // PUT and GET throughput, dokv/baseline
	maxCPURatio     = 1.3       // workerd CPU per request, dokv/baseline
	maxWasmGzip     = 2_000_000 // bytes: 2 MB
	maxWasmMemory   = 32 << 20  // bytes after the mixed workload: 32 MiB
	maxColdRatio    = 2.5       // cold start, spawn to first answer, dokv/baseline
	// the first request after module evaluation, dokv/baseline
	maxAfterEvaluationRatio = 1.5
	// cold start to a first 404, examples/worker / plain net/http
	maxColdNetHTTPRatio = 1.1
	maxDokvAddedBytes   = 500_000 // what dokv adds to a net/http Worker's wasm
	targetMixedOps      = 50000   // the memory target is stated for this many operations
	noRatio             = -1.0    // marks a row without a ratio
)

// row is one line of the results table.
type row struct {
	metric         string
	dokv, baseline string
	ratio          float64 // noRatio if none
	target         string
	met            *bool
}

// goVariants are the Go Workers of a run, each compared with the baseline:
// dokv (the example Worker's app) and lean (the README's recipe on dokv's
// lean handler form, no net/http).
var goVariants = []string{"dokv", "lean"}

// roundsOn are the rounds of variant name with storage under store.
func (r *results) roundsOn(name, store string) []round {
	var rs []round
	for _, x := range r.Rounds[name] {
		if x.Store == store {
			rs = append(rs, x)
		}
	}
	return rs
}

// rows compares the Go variant name with the baseline, on the rounds with
// storage under store; the first store's table also has the cold starts,
// the wasm size and the memory.
func (r *results) rows(name, store string) []row {
	var rows []row
	dk, bl := r.roundsOn(name, store), r.roundsOn("baseline", store)
	first := store == r.Opts.Stores[0]
	lat := func(name string, pick func(round) time.Duration, target bool) {
		d, b := medianDur(dk, pick), medianDur(bl, pick)
		rw := row{metric: name, dokv: ms(d), baseline: ms(b), ratio: ratio(d.Seconds(), b.Seconds())}
		if target {
			ok := rw.ratio <= maxLatencyRatio
			rw.target, rw.met = fmt.Sprintf("≤ %.1f× baseline", maxLatencyRatio), &ok
		}
		rows = append(rows, rw)
	}
	lat("sequential PUT p50", func(x round) time.Duration { return x.SeqPut.P50 }, true)
	lat("sequential PUT p99", func(x round) time.Duration { return x.SeqPut.P99 }, false)
	lat("sequential GET p50", func(x round) time.Duration { return x.SeqGet.P50 }, true)
	lat("sequential GET p99", func(x round) time.Duration { return x.SeqGet.P99 }, false)
	tput := func(name string, pick func(round) float64) {
		d, b := medianF(dk, pick), medianF(bl, pick)
		rw := row{metric: name, dokv: fmt.Sprintf("%.0f req/s", d), baseline: fmt.Sprintf("%.0f req/s", b), ratio: ratio(d, b)}
		ok := rw.ratio >= minThroughput
		rw.target, rw.met = fmt.Sprintf("≥ %.2f× baseline", minThroughput), &ok
		rows = append(rows, rw)
	}
	tput(fmt.Sprintf("PUT throughput, %d clients", r.Opts.Clients), func(x round) float64 { return x.ConcPut })
	tput(fmt.Sprintf("GET throughput, %d clients", r.Opts.Clients), func(x round) float64 { return x.ConcGet })
	tput(fmt.Sprintf("PUT throughput /perkey, %d clients", r.Opts.Clients), func(x round) float64 { return x.ConcPutPerKey })
	tput(fmt.Sprintf("GET throughput /perkey, %d clients", r.Opts.Clients), func(x round) float64 { return x.ConcGetPerKey })
	cpu := func(name string, pick func(round) time.Duration) {
		d, b := medianDur(dk, pick), medianDur(bl, pick)
		rw := row{metric: name, dokv: us(d), baseline: us(b), ratio: ratio(d.Seconds(), b.Seconds())}
		ok := rw.ratio <= maxCPURatio
		rw.target, rw.met = fmt.Sprintf("≤ %.1f× baseline", maxCPURatio), &ok
		rows = append(rows, rw)
	}
	cpu(fmt.Sprintf("workerd CPU per PUT, %d clients", r.Opts.Clients), func(x round) time.Duration { return x.CPUPut })
	cpu(fmt.Sprintf("workerd CPU per GET, %d clients", r.Opts.Clients), func(x round) time.Duration { return x.CPUGet })
	cpu(fmt.Sprintf("workerd CPU per PUT /perkey, %d clients", r.Opts.Clients), func(x round) time.Duration { return x.CPUPutPerKey })
	cpu(fmt.Sprintf("workerd CPU per GET /perkey, %d clients", r.Opts.Clients), func(x round) time.Duration { return x.CPUGetPerKey })
	if first {
		pick := func(c cold) time.Duration { return c.FirstOK }
		d, b := medianCold(r.Cold[name], pick), medianCold(r.Cold["baseline"], pick)
		rw := row{metric: fmt.Sprintf("cold start to first PUT (median of %d)", r.Opts.ColdRuns),
			dokv: ms(d), baseline: ms(b), ratio: ratio(d.Seconds(), b.Seconds())}
		ok := rw.ratio <= maxColdRatio
		rw.target, rw.met = fmt.Sprintf("≤ %.1f× baseline", maxColdRatio), &ok
		rows = append(rows, rw)
		pick = func(c cold) time.Duration { return c.Listen }
		d, b = medianCold(r.Cold[name], pick), medianCold(r.Cold["baseline"], pick)
		rows = append(rows, row{metric: "…of which until workerd listens", dokv: ms(d), baseline: ms(b),
			ratio: ratio(d.Seconds(), b.Seconds())})
		pick = func(c cold) time.Duration { return c.AfterEvaluation }
		d, b = medianCold(r.Cold[name], pick), medianCold(r.Cold["baseline"], pick)
		rw = row{metric: "first PUT after module evaluation (new object)", dokv: ms(d), baseline: ms(b), ratio: ratio(d.Seconds(), b.Seconds())}
		okAfter := rw.ratio <= maxAfterEvaluationRatio
		rw.target, rw.met = fmt.Sprintf("≤ %.1f× baseline", maxAfterEvaluationRatio), &okAfter
		rows = append(rows, rw)
	}
	if ds, refs := r.Cold404[name], r.Cold404["nethttp"]; len(ds) > 0 && len(refs) > 0 && first {
		d, ref := medianDurs(ds), medianDurs(refs)
		rw := row{metric: fmt.Sprintf("cold start to a first 404, no object (median of %d)", len(ds)), dokv: ms(d),
			baseline: ms(ref) + " (plain net/http)", ratio: ratio(d.Seconds(), ref.Seconds())}
		if name == "dokv" {
			ok := rw.ratio <= maxColdNetHTTPRatio
			rw.target, rw.met = fmt.Sprintf("≤ %.1f× plain net/http", maxColdNetHTTPRatio), &ok
		}
		rows = append(rows, rw)
	}
	if ws := r.Wasm[name]; ws.Raw > 0 && first {
		rows = append(rows, row{metric: "wasm of " + ws.Package + ", raw", dokv: bytesStr(int64(ws.Raw)),
			baseline: "—", ratio: noRatio})
		ok := ws.Gzip <= maxWasmGzip
		rows = append(rows, row{metric: "wasm of " + ws.Package + ", gzip -9", dokv: bytesStr(int64(ws.Gzip)),
			baseline: "—", ratio: noRatio, target: "≤ 2 MB (2,000,000 bytes)", met: &ok})
	}
	if dokvOnly, ref := r.Wasm["nothing"], r.Wasm["nethttp"]; name == "dokv" && first && dokvOnly.Raw > 0 && ref.Raw > 0 {
		added := int64(dokvOnly.Raw - ref.Raw)
		ok := added <= maxDokvAddedBytes
		rows = append(rows, row{metric: "what dokv adds beyond net/http and the handler (nothingworker − nethttpworker, raw)",
			dokv: bytesStr(added), baseline: "—", ratio: noRatio, target: "≤ 0.5 MB (500,000 bytes)", met: &ok})
	}
	if n := len(r.Memory); n > 0 && name == "dokv" && first {
		last := r.Memory[n-1]
		var trail []string
		for _, m := range r.Memory {
			trail = append(trail, fmt.Sprintf("%s: %s", opsStr(m.Ops), mib(m.WasmBytes)))
		}
		rw := row{metric: fmt.Sprintf("Go wasm linear memory after %s mixed ops", opsStr(last.Ops)),
			dokv: mib(last.WasmBytes), baseline: "—", ratio: noRatio}
		if last.Ops >= targetMixedOps {
			ok := last.WasmBytes <= maxWasmMemory
			rw.target, rw.met = "≤ 32 MiB after 50k ops", &ok
		} else {
			rw.target = "≤ 32 MiB after 50k ops (not run to 50k)"
		}
		rows = append(rows, rw)
		rows = append(rows, row{metric: "…sampled", dokv: strings.Join(trail, ", "), baseline: "—", ratio: noRatio})
	}
	{
		pick := func(x round) float64 { return float64(x.RSS) }
		d, b := medianF(dk, pick), medianF(bl, pick)
		rows = append(rows, row{metric: "workerd RSS after a round", dokv: mib(int64(d)), baseline: mib(int64(b)),
			ratio: ratio(d, b)})
	}
	return rows
}

// missed counts the targets not met.
func (r *results) missed() int {
	n := 0
	for _, store := range r.Opts.Stores {
		for _, name := range r.goVariantNames() {
			for _, rw := range r.rows(name, store) {
				if rw.met != nil && !*rw.met {
					n++
				}
			}
		}
	}
	return n
}

// write prints the machine, the parameters and the table (Markdown).
func (r *results) write(w io.Writer) {
	o := r.Opts
	fmt.Fprintln(w, "## Machine")
	for _, m := range r.Machine {
		fmt.Fprintln(w, "- "+m)
	}
	fmt.Fprintf(w, "- 1-minute load average sampled during the run: %s\n", loadStr(r.Load))
	fmt.Fprintf(w, "- wall time: %v\n\n", r.Wall.Round(time.Second))
	fmt.Fprintln(w, "## Parameters")
	fmt.Fprintf(w, "- %d rounds per variant, alternating, each on fresh storage; medians over rounds\n", o.Rounds)
	fmt.Fprintf(w, "- per round: %d warm-up PUTs (every one of %d keys), then %d sequential PUTs, %d sequential GETs, "+
		"%d PUTs and %d GETs with %d clients; %d-byte values on /single/{key}\n",
		max(o.Warmup, o.Keys), o.Keys, o.Seq, o.Seq, o.Conc, o.Conc, o.Clients, o.ValueSize)
	fmt.Fprintf(w, "- cold start: %d per variant, alternating, fresh storage\n", o.ColdRuns)
	for _, store := range o.Stores {
		if store == "" {
			store = os.TempDir()
		}
		fmt.Fprintf(w, "- a set of rounds with the Durable Object storage (localDisk) under %s (%s)\n", store, fsType(store))
	}
	fmt.Fprintln(w, "- cold starts and the memory workload: storage under the first of those")
	if o.MixedOps > 0 {
		fmt.Fprintf(w, "- memory: %d mixed operations (50%% PUT, 35%% GET, 15%% DELETE; /single, /perkey, /sharded; "+
			"%d, %d and %d keys; values of 16 to 4,111 bytes) with %d clients, dokv only\n",
			o.MixedOps, o.Keys, 2*o.Keys, o.Keys, o.MixedClients)
	}
	fmt.Fprintln(w)
	for _, store := range o.Stores {
		for _, name := range r.goVariantNames() {
			r.writeTable(w, name, store)
		}
	}
	fmt.Fprintln(w, "## Per round")
	fmt.Fprintln(w, "| variant | storage | round | PUT p50 | PUT p99 | GET p50 | GET p99 | PUT req/s | GET req/s | CPU/PUT | CPU/GET | "+
		"/perkey PUT req/s | /perkey GET req/s | CPU/PUT /perkey | CPU/GET /perkey | RSS | failed |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, name := range r.variantNames() {
		for i, x := range r.Rounds[name] {
			fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %s | %s | %.0f | %.0f | %s | %s | %.0f | %.0f | %s | %s | %s | %d |\n", name, x.Store, i+1,
				ms(x.SeqPut.P50), ms(x.SeqPut.P99), ms(x.SeqGet.P50), ms(x.SeqGet.P99), x.ConcPut, x.ConcGet,
				us(x.CPUPut), us(x.CPUGet), x.ConcPutPerKey, x.ConcGetPerKey, us(x.CPUPutPerKey), us(x.CPUGetPerKey),
				mib(x.RSS), x.Failed)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "## Cold starts (listening / first PUT done / first PUT's latency after module evaluation)")
	for _, name := range r.variantNames() {
		var parts []string
		for _, c := range r.Cold[name] {
			parts = append(parts, ms(c.Listen)+" / "+ms(c.FirstOK)+" / "+ms(c.AfterEvaluation))
		}
		fmt.Fprintf(w, "- %s: %s\n", name, strings.Join(parts, "; "))
	}
	if len(r.Memory) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "## dokv memory during the mixed workload")
		fmt.Fprintln(w, "| operations | Go wasm linear memory | workerd RSS | ops/s of the batch | failed |")
		fmt.Fprintln(w, "|---:|---:|---:|---:|---:|")
		for _, m := range r.Memory {
			rate := "—"
			if m.Rate > 0 {
				rate = fmt.Sprintf("%.0f", m.Rate)
			}
			fmt.Fprintf(w, "| %s | %s (%d bytes) | %s | %s | %d |\n", opsStr(m.Ops), mib(m.WasmBytes), m.WasmBytes, mib(m.RSS), rate, m.Failed)
		}
	}
	if r.Opts.Diagnose {
		r.writeDiagnostics(w)
	}
	fmt.Fprintf(w, "\n%d of the targets missed.\n", r.missed())
	if n := r.fails.count(); n > 0 {
		fmt.Fprintf(w, "\n**%d requests failed** (the numbers above include them). The first:\n\n", n)
		for _, f := range r.fails.first {
			fmt.Fprintf(w, "```\n%s\n```\n", f)
		}
	} else {
		fmt.Fprintln(w, "No request failed.")
	}
}

// writeTable prints the table of Go variant name against the baseline, on
// storage under store.
func (r *results) writeTable(w io.Writer, name, store string) {
	dir := store
	if dir == "" {
		dir = os.TempDir()
	}
	fmt.Fprintf(w, "## Results: %s (%s) against the JS baseline, storage under %s (%s)\n", name, variantDoc[name], dir, fsType(dir))
	fmt.Fprintf(w, "| metric | %s | JS baseline | %s / baseline | target | |\n", name, name)
	fmt.Fprintln(w, "|---|---:|---:|---:|---|---|")
	for _, rw := range r.rows(name, store) {
		rs := "—"
		if rw.ratio != noRatio {
			rs = fmt.Sprintf("%.2f×", rw.ratio)
		}
		verdict := ""
		if rw.met != nil {
			verdict = "MISS"
			if *rw.met {
				verdict = "PASS"
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", rw.metric, rw.dokv, rw.baseline, rs, rw.target, verdict)
	}
	fmt.Fprintln(w)
}

// variantDoc says what each Go variant is.
var variantDoc = map[string]string{
	"dokv": "examples/worker's app: lean byte routes, net/http for the rest",
	"lean": "the README's recipe on worker.Handler, no net/http",
}

// goVariantNames are the Go variants that ran.
func (r *results) goVariantNames() []string {
	var names []string
	for _, name := range goVariants {
		if _, ok := r.Rounds[name]; ok {
			names = append(names, name)
		}
	}
	return names
}

// variantNames are the variants that ran, the Go ones and the baseline first.
func (r *results) variantNames() []string {
	names := append(r.goVariantNames(), "baseline")
	if _, ok := r.Rounds["hybrid"]; ok {
		names = append(names, "hybrid")
	}
	return names
}

// writeDiagnostics prints -diagnose's split of dokv's cost: the hybrid (JS
// fetch handler, dokv's Go object) against dokv (Go both sides) and the
// baseline (JS both sides), and requests that reach no object.
func (r *results) writeDiagnostics(w io.Writer) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "## Diagnostics (medians over rounds)")
	fmt.Fprintln(w, "dokv: Go fetch handler + Go object; hybrid: JS fetch handler + dokv's Go object; baseline: JS + JS.")
	fmt.Fprintln(w, "Worker side = dokv − hybrid; object side = hybrid − baseline.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| metric | dokv | hybrid | baseline | Worker side (dokv − hybrid) | object side (hybrid − baseline) |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
	durRow := func(name string, pick func(round) time.Duration) {
		d, h, b := medianDur(r.roundsOn("dokv", r.Opts.Stores[0]), pick), medianDur(r.roundsOn("hybrid", r.Opts.Stores[0]), pick),
			medianDur(r.roundsOn("baseline", r.Opts.Stores[0]), pick)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", name, ms(d), ms(h), ms(b), ms(d-h), ms(h-b))
	}
	durRow("sequential PUT p50", func(x round) time.Duration { return x.SeqPut.P50 })
	durRow("sequential PUT mean", func(x round) time.Duration { return x.SeqPut.Mean })
	durRow("sequential GET p50", func(x round) time.Duration { return x.SeqGet.P50 })
	durRow("sequential GET mean", func(x round) time.Duration { return x.SeqGet.Mean })
	durRow("Worker-only request (404, no object) p50", func(x round) time.Duration { return x.WorkerOnly.P50 })
	durRow("Worker-only request (404, no object) mean", func(x round) time.Duration { return x.WorkerOnly.Mean })
	// Throughput as time per request, so that the differences add up.
	perReq := func(name string, pick func(round) float64) {
		inv := func(v string) time.Duration {
			x := medianF(r.roundsOn(v, r.Opts.Stores[0]), pick)
			if x == 0 {
				return 0
			}
			return time.Duration(float64(time.Second) / x)
		}
		d, h, b := inv("dokv"), inv("hybrid"), inv("baseline")
		fmt.Fprintf(w, "| %s (1 / throughput) | %s | %s | %s | %s | %s |\n", name, ms(d), ms(h), ms(b), ms(d-h), ms(h-b))
	}
	perReq(fmt.Sprintf("PUT, %d clients", r.Opts.Clients), func(x round) float64 { return x.ConcPut })
	perReq(fmt.Sprintf("GET, %d clients", r.Opts.Clients), func(x round) float64 { return x.ConcGet })
	durRow(fmt.Sprintf("workerd CPU per PUT, %d clients", r.Opts.Clients), func(x round) time.Duration { return x.CPUPut })
	durRow(fmt.Sprintf("workerd CPU per GET, %d clients", r.Opts.Clients), func(x round) time.Duration { return x.CPUGet })
	durRow(fmt.Sprintf("workerd CPU per PUT /perkey, %d clients", r.Opts.Clients), func(x round) time.Duration { return x.CPUPutPerKey })
	durRow(fmt.Sprintf("workerd CPU per GET /perkey, %d clients", r.Opts.Clients), func(x round) time.Duration { return x.CPUGetPerKey })
	coldRow := func(name string, m map[string][]cold, pick func(cold) time.Duration) {
		d, h, b := medianCold(m["dokv"], pick), medianCold(m["hybrid"], pick), medianCold(m["baseline"], pick)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", name, ms(d), ms(h), ms(b), ms(d-h), ms(h-b))
	}
	coldRow("cold: workerd listening", r.Cold, func(c cold) time.Duration { return c.Listen })
	coldRow("cold: first PUT done", r.Cold, func(c cold) time.Duration { return c.FirstOK })
	coldRow("cold, 404 first: first 404 done", r.ColdWorker, func(c cold) time.Duration { return c.FirstWorker })
	coldRow("cold, 404 first: then first PUT done", r.ColdWorker, func(c cold) time.Duration { return c.FirstOK })
}

// measureWasm builds pkg for js/wasm as workerdtest.Build does and returns
// its size, raw and gzipped at best compression.
func measureWasm(pkg string) (wasmSize, error) {
	root, err := workerdtest.RepoRoot()
	if err != nil {
		return wasmSize{}, err
	}
	dir, err := os.MkdirTemp("", "dokv-loadtest-wasm-")
	if err != nil {
		return wasmSize{}, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "app.wasm")
	build := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
	build.Dir = root
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if msg, err := build.CombinedOutput(); err != nil {
		return wasmSize{}, fmt.Errorf("building %s for js/wasm: %v\n%s", pkg, err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return wasmSize{}, err
	}
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return wasmSize{}, err
	}
	zw.Write(data)
	if err := zw.Close(); err != nil {
		return wasmSize{}, err
	}
	return wasmSize{Package: pkg, Raw: len(data), Gzip: gz.Len()}, nil
}

// fsType names the file system that holds dir, from /proc/mounts (the
// longest mount point that is a prefix of dir), or "unknown".
func fsType(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "unknown"
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	data, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return "unknown"
	}
	best, kind := "", "unknown"
	for line := range strings.SplitSeq(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		mp := f[1]
		if (abs == mp || strings.HasPrefix(abs, strings.TrimSuffix(mp, "/")+"/")) && len(mp) > len(best) {
			best, kind = mp, f[2]
		}
	}
	return kind
}

// describeMachine lists what the numbers depend on.
func describeMachine(bin string) []string {
	lines := []string{fmt.Sprintf("CPUs: %d (GOMAXPROCS %d), %s", runtime.NumCPU(), runtime.GOMAXPROCS(0), cpuModel())}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		lines = append(lines, "toolchain: "+strings.TrimSpace(string(out)))
	}
	lines = append(lines, "workerd: "+workerdVersion(bin))
	sum := sha256.Sum256(workerfiles.EntryModule)
	code := fmt.Sprintf("dokv entry module sha256 %x", sum[:6])
	if root, err := workerdtest.RepoRoot(); err == nil {
		if out, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output(); err == nil {
			code = "dokv at git " + strings.TrimSpace(string(out)) + ", " + code
			// Changes to files other than the load test's own change what is measured.
			if out, err := exec.Command("git", "-C", root, "status", "--porcelain", "--", ".", ":(exclude)internal/loadtest").Output(); err == nil {
				if n := len(strings.FieldsFunc(string(out), func(r rune) bool { return r == '\n' })); n > 0 {
					code += fmt.Sprintf(" (working tree: %d paths changed or added outside internal/loadtest)", n)
				} else {
					code += " (working tree clean outside internal/loadtest)"
				}
			}
		}
	}
	return append(lines, code)
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if name, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// sampleLoad records the 1-minute load average.
func (r *results) sampleLoad() {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return
	}
	if v, err := strconv.ParseFloat(f[0], 64); err == nil {
		r.Load = append(r.Load, v)
	}
}

func loadStr(l []float64) string {
	if len(l) == 0 {
		return "unknown"
	}
	s := slices.Clone(l)
	slices.Sort(s)
	return fmt.Sprintf("%.2f to %.2f (median %.2f, %d samples)", s[0], s[len(s)-1], s[len(s)/2], len(s))
}

func medianDur(rs []round, pick func(round) time.Duration) time.Duration {
	return time.Duration(medianF(rs, func(x round) float64 { return float64(pick(x)) }))
}

func medianDurs(ds []time.Duration) time.Duration {
	v := make([]float64, len(ds))
	for i, d := range ds {
		v[i] = float64(d)
	}
	return time.Duration(median(v))
}

func medianCold(cs []cold, pick func(cold) time.Duration) time.Duration {
	v := make([]float64, len(cs))
	for i, c := range cs {
		v[i] = float64(pick(c))
	}
	return time.Duration(median(v))
}

func medianF(rs []round, pick func(round) float64) float64 {
	v := make([]float64, len(rs))
	for i, x := range rs {
		v[i] = pick(x)
	}
	return median(v)
}

// median of v; the mean of the middle two for an even count.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func bytesStr(b int64) string {
	s := strconv.FormatInt(b, 10)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out) + " bytes"
}

func opsStr(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}
