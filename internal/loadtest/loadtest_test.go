package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dokv/dokv/internal/workerdtest"
)

// TestQuickRun runs the load test's quick mode end to end on workerd and
// checks its mechanics, not its speed: both variants answer, no request
// failed (every PUT and DELETE got 204 and every GET the bytes PUT), cold
// starts complete, and dokv's stats route reports a positive memory size.
func TestQuickRun(t *testing.T) {
	bin := workerdtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	o := quick()
	o.Workerd = bin
	var log bytes.Buffer
	res, err := run(ctx, o, &log)
	if err != nil {
		t.Fatalf("run: %v\nprogress:\n%s", err, log.String())
	}
	if n := res.fails.count(); n > 0 {
		t.Errorf("%d requests failed; the first:\n%s", n, strings.Join(res.fails.first, "\n"))
	}
	for _, name := range []string{"dokv", "lean", "baseline"} {
		rounds := res.Rounds[name]
		if len(rounds) != o.Rounds*len(o.Stores) {
			t.Fatalf("%s: %d rounds, want %d", name, len(rounds), o.Rounds*len(o.Stores))
		}
		for _, r := range rounds {
			if r.SeqPut.P50 <= 0 || r.SeqGet.P50 <= 0 || r.ConcPut <= 0 || r.ConcGet <= 0 ||
				r.ConcPutPerKey <= 0 || r.ConcGetPerKey <= 0 {
				t.Errorf("%s: a phase measured nothing: %+v", name, r)
			}
			// CPU is read in clock ticks (10 ms), so one short phase may
			// round down to zero, but the four phases of a round (800
			// requests here) cannot: workerd does work for every request.
			if cpu := r.CPUPut + r.CPUGet + r.CPUPutPerKey + r.CPUGetPerKey; cpu <= 0 {
				t.Errorf("%s: the concurrent phases measured no CPU: %+v", name, r)
			}
		}
		if len(res.Cold[name]) != o.ColdRuns {
			t.Errorf("%s: %d cold starts, want %d", name, len(res.Cold[name]), o.ColdRuns)
		}
		for _, c := range res.Cold[name] {
			if c.Listen <= 0 || c.FirstOK < c.Listen || c.AfterEvaluation <= 0 {
				t.Errorf("%s: cold start %+v: want 0 < listen <= first PUT, and a first PUT after evaluation", name, c)
			}
		}
	}
	if want := o.MixedOps/o.MixedEvery + 1; len(res.Memory) != want {
		t.Fatalf("%d memory samples, want %d", len(res.Memory), want)
	}
	for _, m := range res.Memory {
		if m.WasmBytes <= 0 {
			t.Errorf("memory sample %+v: want a positive wasm memory size", m)
		}
	}
	for _, name := range []string{"dokv", "lean"} {
		if ws := res.Wasm[name]; ws.Raw <= 0 || ws.Gzip <= 0 || ws.Gzip >= ws.Raw {
			t.Errorf("%s: wasm size %+v: want 0 < gzip < raw", name, ws)
		}
	}

	var out strings.Builder
	res.write(&out)
	for _, want := range []string{"sequential PUT p50", "GET throughput", "workerd CPU per PUT", "/perkey", "cold start", "wasm linear memory"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(out.String(), "| PASS |") && !strings.Contains(out.String(), "| MISS |") {
		t.Errorf("report marks no target PASS or MISS:\n%s", out.String())
	}
}

// TestBinaryValues checks that both variants store and return arbitrary
// bytes exactly, not only the ASCII values of the load phases, and answer a
// missing key and a DELETE alike.
func TestBinaryValues(t *testing.T) {
	bin := workerdtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	dokvV, err := buildDokv(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer dokvV.remove()
	baseV, err := buildBaseline()
	if err != nil {
		t.Fatal(err)
	}
	defer baseV.remove()

	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	for _, v := range []*variant{dokvV, baseV} {
		t.Run(v.name, func(t *testing.T) {
			s, err := startServer(bin, v, "", false)
			if err != nil {
				t.Fatal(err)
			}
			defer s.stop()
			if _, err := s.waitListening(30 * time.Second); err != nil {
				t.Fatal(err)
			}
			c, err := newClient(s.url)
			if err != nil {
				t.Fatal(err)
			}
			defer c.close()
			fail := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatalf("%v\nworkerd output:\n%s", err, s.logTail())
				}
			}
			path := "/single/a%20key/" + "%C3%A9"
			fail(c.put(ctx, path, all))
			fail(c.get(ctx, path, all, false))
			fail(c.put(ctx, path, nil)) // an empty value is a value
			fail(c.get(ctx, path, []byte{}, false))
			fail(c.del(ctx, path))
			status, _, err := c.do(ctx, "GET", path, nil)
			fail(err)
			if status != 404 {
				t.Errorf("GET after DELETE: status %d, want 404", status)
			}
			fail(c.del(ctx, path)) // deleting a missing key is fine
		})
	}
}

func TestNewClientRefusesNonLoopback(t *testing.T) {
	for _, u := range []string{"http://example.com", "http://127.0.0.2:80", "https://127.0.0.1:1", "http://localhost:80"} {
		if _, err := newClient(u); err == nil {
			t.Errorf("newClient(%q) succeeded", u)
		}
	}
}

func TestPercentileAndMedian(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	l := summarize(d)
	if l.P50 != 50 || l.P99 != 99 {
		t.Errorf("p50 %d p99 %d, want 50 and 99", l.P50, l.P99)
	}
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median of 3 = %v", m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Errorf("median of 4 = %v", m)
	}
}
