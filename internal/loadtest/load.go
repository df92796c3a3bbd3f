package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// client sends requests to one workerd on loopback.
type client struct {
	hc   *http.Client
	base string // http://127.0.0.1:port
}

// newClient returns a client for base, which must be a loopback URL: the
// load test never sends a request anywhere else.
func newClient(base string) (*client, error) {
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		return nil, fmt.Errorf("refusing a non-loopback URL %q", base)
	}
	return &client{
		base: base,
		hc: &http.Client{
			Timeout: 30 * time.Second,
			Transport: &http.Transport{
				MaxIdleConns:        128,
				MaxIdleConnsPerHost: 128,
				DisableCompression:  true,
			},
		},
	}, nil
}

func (c *client) close() { c.hc.CloseIdleConnections() }

// do sends one request and reads the whole response.
func (c *client) do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return 0, nil, err
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%w (after %v)", err, time.Since(start).Round(time.Millisecond))
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		// Say how long a failure took: a quick 500 and a timeout differ.
		data = append(data, fmt.Sprintf(" (answered after %v at %s)", time.Since(start).Round(time.Millisecond),
			time.Now().Format("15:04:05.000"))...)
	}
	return resp.StatusCode, data, err
}

// put stores value at path and expects 204.
func (c *client) put(ctx context.Context, path string, value []byte) error {
	status, body, err := c.do(ctx, http.MethodPut, path, value)
	if err != nil {
		return fmt.Errorf("PUT %s: %w", path, err)
	}
	if status != http.StatusNoContent {
		return fmt.Errorf("PUT %s: status %d, want 204: %.200s", path, status, body)
	}
	return nil
}

// get reads path and expects exactly want, or (if mayMiss) a 404.
func (c *client) get(ctx context.Context, path string, want []byte, mayMiss bool) error {
	status, body, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	switch {
	case status == http.StatusOK && bytes.Equal(body, want):
		return nil
	case status == http.StatusNotFound && mayMiss:
		return nil
	case status == http.StatusOK:
		return fmt.Errorf("GET %s: got %d bytes that differ from the %d bytes PUT", path, len(body), len(want))
	}
	return fmt.Errorf("GET %s: status %d: %.200s", path, status, body)
}

// del deletes path and expects 204.
func (c *client) del(ctx context.Context, path string) error {
	status, body, err := c.do(ctx, http.MethodDelete, path, nil)
	if err != nil {
		return fmt.Errorf("DELETE %s: %w", path, err)
	}
	if status != http.StatusNoContent {
		return fmt.Errorf("DELETE %s: status %d, want 204: %.200s", path, status, body)
	}
	return nil
}

// notFound requests path, which no variant serves, and expects 404.
func (c *client) notFound(ctx context.Context, path string) error {
	status, body, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	if status != http.StatusNotFound {
		return fmt.Errorf("GET %s: status %d, want 404: %.200s", path, status, body)
	}
	return nil
}

// memoryBytes asks the dokv Worker's GET /__stats for the Go instance's
// wasm linear memory.
func (c *client) memoryBytes(ctx context.Context) (int64, error) {
	status, body, err := c.do(ctx, http.MethodGet, "/__stats", nil)
	if err != nil {
		return 0, fmt.Errorf("GET /__stats: %w", err)
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("GET /__stats: status %d: %.200s", status, body)
	}
	var s struct {
		WasmMemoryBytes *int64 `json:"wasmMemoryBytes"`
	}
	if err := json.Unmarshal(body, &s); err != nil || s.WasmMemoryBytes == nil {
		return 0, fmt.Errorf("GET /__stats: not {\"wasmMemoryBytes\": n}: %.200s", body)
	}
	return *s.WasmMemoryBytes, nil
}

// value is the deterministic value of key k: size bytes that start with
// the key's number, so that a GET can be checked against what was PUT.
func value(k, size int) []byte {
	b := bytes.Repeat([]byte{byte('a' + k%26)}, size)
	copy(b, "v"+strconv.Itoa(k)+";")
	return b
}

func singlePath(k int) string { return "/single/k-" + strconv.Itoa(k) }

// perKeyPath is the path of key k on /perkey, where each key has a Durable
// Object of its own.
func perKeyPath(k int) string { return "/perkey/k-" + strconv.Itoa(k) }

// latency summarises the latencies of a sequential phase.
type latency struct {
	P50, P99, Mean time.Duration
}

func summarize(d []time.Duration) latency {
	s := slices.Clone(d)
	slices.Sort(s)
	var sum time.Duration
	for _, x := range s {
		sum += x
	}
	return latency{P50: percentile(s, 0.50), P99: percentile(s, 0.99), Mean: sum / time.Duration(len(s))}
}

// percentile of sorted s, nearest rank.
func percentile(s []time.Duration, p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	i := int(p*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// failures counts failed requests and keeps the first few messages, the
// first with workerd's log. A failed request does not stop a phase: the run
// goes on and reports how many failed.
type failures struct {
	mu    sync.Mutex
	n     int
	first []string
}

func (f *failures) add(where string, err error, log func() string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	if len(f.first) < 3 {
		msg := where + ": " + err.Error()
		if len(f.first) == 0 && log != nil {
			msg += "\nworkerd output:\n" + log()
		}
		f.first = append(f.first, msg)
	}
}

func (f *failures) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// sequential runs n requests one after another (request i with fn(i)) and
// returns their latencies, failed requests included. A failure goes to
// onErr; only the end of ctx stops it.
func sequential(ctx context.Context, n int, fn func(ctx context.Context, i int) error, onErr func(error)) (latency, error) {
	lat := make([]time.Duration, 0, n)
	for i := range n {
		if err := ctx.Err(); err != nil {
			return latency{}, err
		}
		start := time.Now()
		if err := fn(ctx, i); err != nil {
			if ctx.Err() != nil {
				return latency{}, ctx.Err()
			}
			onErr(err)
		}
		lat = append(lat, time.Since(start))
	}
	return summarize(lat), nil
}

// concurrent runs requests 0..n-1 with fn on clients goroutines that take
// the next index until none is left, and returns the throughput in requests
// per second, failed requests included. A failure goes to onErr; only the
// end of ctx stops it.
func concurrent(ctx context.Context, n, clients int, fn func(ctx context.Context, i int) error, onErr func(error)) (float64, error) {
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil && ctx.Err() == nil {
					onErr(err)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return float64(n) / elapsed.Seconds(), nil
}

// mixedOp is operation i of the mixed workload: PUT, GET or DELETE over
// /single, /perkey and /sharded, chosen by a hash of i. Every key has one
// value, of a size between 16 and 4,111 bytes derived from the key, so a GET
// returns exactly that value or, when the key was never written or was
// deleted, 404, whatever the interleaving of concurrent clients.
func mixedOp(ctx context.Context, c *client, i, keys int) error {
	h := splitmix64(uint64(i))
	var pattern string
	var space int
	switch h % 3 {
	case 0:
		pattern, space = "/single/", keys
	case 1:
		pattern, space = "/perkey/", 2*keys // a new Durable Object per key
	default:
		pattern, space = "/sharded/", keys
	}
	k := int((h >> 8) % uint64(space))
	path := pattern + "m-" + strconv.Itoa(k)
	switch r := (h >> 40) % 100; {
	case r < 50:
		return c.put(ctx, path, value(k, mixedSize(k)))
	case r < 85:
		return c.get(ctx, path, value(k, mixedSize(k)), true)
	default:
		return c.del(ctx, path)
	}
}

func mixedSize(k int) int { return 16 + int(splitmix64(uint64(k)+1<<32)%4096) }

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
