package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
)

// durabilitySeedEnv overrides the seed of TestDurability_KillUnderLoad, to
// replay the kill timings of a logged run.
const durabilitySeedEnv = "DOKV_DURABILITY_SEED"

// durWrite is one PUT or DELETE that TestDurability_KillUnderLoad sent.
// Its send and end are ticks of the test's logical clock: send is taken
// before the request goes out, end after its response (or error) comes back,
// so the request's real effect, if any, lies strictly between them.
type durWrite struct {
	key    int
	value  string // the PUT's body; "" for a DELETE
	del    bool
	send   int64
	end    int64 // the acknowledgement tick, or the error tick when not acknowledged
	acked  bool
	status int // the HTTP status, 0 for a transport error
}

// durHistory is everything the clients of TestDurability_KillUnderLoad
// sent, and the ticks at which workerd was killed.
type durHistory struct {
	clock atomic.Int64

	mu      sync.Mutex
	writes  []*durWrite
	byValue map[string]*durWrite
	kills   []int64 // ticks taken after each killed workerd had exited
}

// begin records a write about to be sent.
func (h *durHistory) begin(w *durWrite) {
	h.mu.Lock()
	defer h.mu.Unlock()
	w.send = h.clock.Add(1)
	h.writes = append(h.writes, w)
	if !w.del {
		h.byValue[w.value] = w
	}
}

// finish records a write's outcome.
func (h *durHistory) finish(w *durWrite, status int, acked bool) {
	end := h.clock.Add(1)
	h.mu.Lock()
	defer h.mu.Unlock()
	w.end, w.status, w.acked = end, status, acked
}

// waitForAck waits until a write sent after the last kill is
// acknowledged, and reports whether one was before timeout.
func (h *durHistory) waitForAck(timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		h.mu.Lock()
		since := int64(0)
		if len(h.kills) > 0 {
			since = h.kills[len(h.kills)-1]
		}
		acked := false
		for i := len(h.writes) - 1; i >= 0 && h.writes[i].send > since; i-- {
			if h.writes[i].acked {
				acked = true
				break
			}
		}
		h.mu.Unlock()
		if acked {
			return true
		}
	}
	return false
}

// killed records that workerd has been killed and has exited.
func (h *durHistory) killed() {
	tick := h.clock.Add(1)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.kills = append(h.kills, tick)
}

// deadline is the latest tick at which w can have taken effect: its
// acknowledgement, or for a write without one, the kill of the workerd
// that may still have been running it (a write cannot outlive its
// process); with no kill after it, never. Call with h.mu held or after the
// clients have stopped.
func (h *durHistory) deadline(w *durWrite) int64 {
	if w.acked {
		return w.end
	}
	i := sort.Search(len(h.kills), func(i int) bool { return h.kills[i] > w.end })
	if i == len(h.kills) {
		return math.MaxInt64
	}
	return h.kills[i]
}

// durPath is the path of key k of TestDurability_KillUnderLoad: the keys are
// spread over the three byte stores.
func durPath(k int) string {
	return fmt.Sprintf("/%s/durability/k%02d", examplePatterns[k%len(examplePatterns)], k/len(examplePatterns))
}

// TestDurability_KillUnderLoad writes to a small set of keys over /single/,
// /perkey/ and /sharded/ from 8 concurrent clients, each PUT with a body no
// other write has, some DELETEs among them, while workerd is killed with
// SIGKILL at random moments and restarted on the same storage (on a new
// port, which the clients pick up). A write is acknowledged when it got a
// 2xx; any other outcome (a connection error in the kill window, a 5xx)
// leaves it unknown. After the last restart every key is read, and its
// value must be explained by the history: it was sent by some client to
// that key (nothing is invented), and the write that produced it, or the
// DELETE that removed it, cannot have ended before any acknowledged write
// of the key was sent (no acknowledged write is lost or undone by an older
// one). A key is absent only if it never had an acknowledged write or a
// DELETE explains it.
func TestDurability_KillUnderLoad(t *testing.T) {
	const (
		clients  = 8
		keys     = 36 // 12 per byte store
		kills    = 15
		minDelay = 200 * time.Millisecond
		maxDelay = 800 * time.Millisecond
	)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(durabilitySeedEnv); s != "" {
		var err error
		seed, err = strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "%s", durabilitySeedEnv)
	}
	t.Logf("seed %d (rerun with %s=%d)", seed, durabilitySeedEnv, seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	w := buildExample(t)
	require.NoError(t, w.Start())
	var base atomic.Pointer[string]
	setBase := func() { u := w.URL; base.Store(&u) }
	setBase()

	// A client of its own: no connections shared with other tests, and a
	// timeout well under the test's budget. Connections to a killed workerd
	// just fail.
	transport := &http.Transport{MaxIdleConnsPerHost: clients, DisableCompression: true}
	client := &http.Client{Timeout: 10 * time.Second, Transport: transport}
	t.Cleanup(transport.CloseIdleConnections)

	h := &durHistory{byValue: map[string]*durWrite{}}
	var (
		stop      atomic.Bool
		wg        sync.WaitGroup
		refused   atomic.Int64 // transport errors that were connection refusals
		otherErrs atomic.Int64 // other transport errors: mostly requests in flight at a kill
		statusMu  sync.Mutex
		statuses  = map[int]int{} // non-2xx statuses by code
	)
	// If the test ends early, the clients stop before workerd is removed.
	t.Cleanup(func() { stop.Store(true); wg.Wait() })
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		crng := rand.New(rand.NewPCG(seed, uint64(c)+2))
		go func() {
			defer wg.Done()
			for n := 0; !stop.Load(); n++ {
				wr := &durWrite{key: crng.IntN(keys), del: crng.IntN(10) == 0}
				method, body := http.MethodDelete, []byte(nil)
				if !wr.del {
					wr.value = fmt.Sprintf("c%d-n%d", c, n)
					method, body = http.MethodPut, []byte(wr.value)
				}
				h.begin(wr)
				resp, err := sendRequest(client, method, *base.Load(), durPath(wr.key), body)
				switch {
				case err != nil:
					h.finish(wr, 0, false)
					if errors.Is(err, syscall.ECONNREFUSED) {
						refused.Add(1)
					} else {
						otherErrs.Add(1)
					}
					// workerd is down or restarting; do not spin.
					time.Sleep(time.Duration(5+crng.IntN(10)) * time.Millisecond)
				case resp.Status >= 200 && resp.Status < 300:
					h.finish(wr, resp.Status, true)
				default:
					h.finish(wr, resp.Status, false)
					statusMu.Lock()
					statuses[resp.Status]++
					statusMu.Unlock()
					if resp.Status < 500 {
						// Never expected: a request of this test is wrong.
						t.Errorf("%s %s: %s", method, durPath(wr.key), resp)
					}
				}
			}
		}()
	}

	// acksSince counts the writes acknowledged since the last call, for the
	// log of each epoch.
	counted := 0
	acksSince := func() (acked, sent int) {
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, wr := range h.writes[counted:] {
			sent++
			if wr.acked {
				acked++
			}
		}
		counted = len(h.writes)
		return acked, sent
	}
	for i := range kills {
		// The random delay counts from the epoch's first acknowledged
		// write: a slow machine takes longer to serve after a restart, and
		// a kill before anything was acknowledged tests nothing.
		require.True(t, h.waitForAck(30*time.Second), "kill %d: no write acknowledged within 30s of the start", i+1)
		delay := minDelay + time.Duration(rng.Int64N(int64(maxDelay-minDelay)+1))
		time.Sleep(delay)
		w.Kill()
		h.killed()
		last := i == kills-1
		if last {
			// The last kill also hits the load; the clients stop before
			// workerd comes back, so the final reads see what the crash left.
			stop.Store(true)
			wg.Wait()
		}
		restartAt := time.Now()
		require.NoError(t, w.Start(), "restart %d on the same storage", i+1)
		setBase()
		acked, sent := acksSince()
		t.Logf("kill %2d after %v: %4d writes sent, %4d acknowledged in the epoch; restarted on port %d in %v",
			i+1, delay.Round(time.Millisecond), sent, acked, w.Port, time.Since(restartAt).Round(time.Millisecond))
	}
	loadTime := time.Since(start)

	// Read every key from the restarted workerd.
	finals := make([]*exampleResponse, keys)
	for k := range keys {
		var err error
		for attempt := 0; attempt < 50; attempt++ {
			var resp exampleResponse
			resp, err = sendRequest(client, http.MethodGet, w.URL, durPath(k), nil)
			if err == nil {
				finals[k] = &resp
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		require.NoError(t, err, "GET %s after the last restart", durPath(k))
	}

	// Check each key against the history. The clients have stopped.
	perKey := make([][]*durWrite, keys)
	sent, acked, unacked, deletes := 0, 0, 0, 0
	for _, wr := range h.writes {
		perKey[wr.key] = append(perKey[wr.key], wr)
		sent++
		if wr.acked {
			acked++
		} else {
			unacked++
		}
		if wr.del {
			deletes++
		}
	}
	var (
		violations                                         []string
		keysAcked, finalLastAcked, finalLater, finalAbsent int
	)
	for k := range keys {
		path := durPath(k)
		// lastAcked is the acknowledged write acknowledged last; latestSend
		// is the latest send of any acknowledged write. A write whose effect
		// ended before latestSend is ordered before that acknowledged write,
		// so it cannot be the key's final state.
		var lastAcked *durWrite
		latestSend := int64(-1)
		for _, wr := range perKey[k] {
			if !wr.acked {
				continue
			}
			if lastAcked == nil || wr.end > lastAcked.end {
				lastAcked = wr
			}
			latestSend = max(latestSend, wr.send)
		}
		if lastAcked != nil {
			keysAcked++
		}
		describe := func() string {
			if lastAcked == nil {
				return "no acknowledged write"
			}
			if lastAcked.del {
				return fmt.Sprintf("last acknowledged: DELETE (sent at tick %d, acknowledged at %d)", lastAcked.send, lastAcked.end)
			}
			return fmt.Sprintf("last acknowledged: %q (sent at tick %d, acknowledged at %d)", lastAcked.value, lastAcked.send, lastAcked.end)
		}
		resp := finals[k]
		switch resp.Status {
		case http.StatusNotFound:
			finalAbsent++
			if lastAcked == nil {
				continue
			}
			explained := false
			for _, wr := range perKey[k] {
				if wr.del && h.deadline(wr) > latestSend {
					explained = true
					break
				}
			}
			if !explained {
				violations = append(violations, fmt.Sprintf("%s: missing, and no DELETE sent late enough explains it; %s", path, describe()))
			}
		case http.StatusOK:
			value := string(resp.Body)
			wr := h.byValue[value]
			switch {
			case wr == nil:
				violations = append(violations, fmt.Sprintf("%s: %q was never sent by any client; %s", path, value, describe()))
			case wr.key != k:
				violations = append(violations, fmt.Sprintf("%s: %q was sent to %s, not to this key; %s", path, value, durPath(wr.key), describe()))
			case lastAcked != nil && h.deadline(wr) <= latestSend:
				violations = append(violations, fmt.Sprintf("%s: %q (sent at tick %d, ended by %d, acknowledged %v) is older than an acknowledged write sent at tick %d; %s",
					path, value, wr.send, h.deadline(wr), wr.acked, latestSend, describe()))
			case wr == lastAcked:
				finalLastAcked++
			default:
				finalLater++
			}
		default:
			violations = append(violations, fmt.Sprintf("%s: GET after the last restart: %s", path, resp))
		}
	}
	for _, v := range violations {
		t.Errorf("violation: %s", v)
	}

	statusMu.Lock()
	t.Logf("%d kills in %v; %d writes sent (%d DELETEs): %d acknowledged, %d unacknowledged (%d connection refused, %d other transport errors such as in flight at a kill, non-2xx statuses %v)",
		len(h.kills), loadTime.Round(time.Millisecond), sent, deletes, acked, unacked, refused.Load(), otherErrs.Load(), statuses)
	statusMu.Unlock()
	t.Logf("%d keys checked, %d with an acknowledged write: %d hold their last acknowledged value, %d a value sent later, %d absent; %d violations",
		keys, keysAcked, finalLastAcked, finalLater, finalAbsent, len(violations))
	assert.Len(t, h.kills, kills)
	// The property is about acknowledged writes; a run that acknowledged
	// few would prove little.
	assert.GreaterOrEqual(t, acked, 200, "too few writes were acknowledged to test anything")
	assert.Equal(t, keys, keysAcked, "every key should have had an acknowledged write")
	assert.Empty(t, violations)
}

// soakClient is one client of TestSoak_MemoryStaysFlat, with the state of
// its own keys and its current flow job.
type soakClient struct {
	id    int
	rng   *rand.Rand
	model map[string][]byte // path -> value of the keys it wrote; absent: missing
	paths []string
	seq   int
	body  []byte

	job  string                     // Location of its current job, "" for none
	step int                        // the next step of the job's lifecycle
	lat  map[string][]time.Duration // latencies by kind of operation
}

// soakJobNodes are the tasks of each job of the soak test.
var soakJobNodes = []string{"a", "b"}

// soakJobSteps names the steps of soakClient.jobStep, for the log.
var soakJobSteps = []string{"JOB-CREATE", "JOB-GET", "JOB-PATCH", "JOB-PATCH", "JOB-PATCH", "JOB-GET", "JOB-LIST"}

func newSoakClient(id int, seed uint64) *soakClient {
	c := &soakClient{
		id:    id,
		rng:   rand.New(rand.NewPCG(seed, uint64(id))),
		model: map[string][]byte{},
		lat:   map[string][]time.Duration{},
	}
	for _, p := range examplePatterns {
		for k := range 16 {
			c.paths = append(c.paths, fmt.Sprintf("/%s/soak/c%02d/k%02d", p, id, k))
		}
	}
	return c
}

// value returns a body no other write of the test has: 16 bytes to 4 KiB,
// mostly small, with NUL and 0xFF bytes.
func (c *soakClient) value() []byte {
	c.seq++
	n := 16 + c.rng.IntN(240)
	if c.rng.IntN(8) == 0 {
		n = 256 + c.rng.IntN(4096-256)
	}
	b := fmt.Appendf(c.body[:0], "c%d-n%d:", c.id, c.seq)
	for len(b) < n {
		b = append(b, byte(c.rng.Uint32()))
	}
	c.body = b
	return bytes.Clone(b)
}

// op runs one random operation and checks its response; it returns an
// error describing any deviation from the documented contract.
func (c *soakClient) op(w *exampleWorker) error {
	start, kind := time.Now(), ""
	defer func() { c.lat[kind] = append(c.lat[kind], time.Since(start)) }()
	r := c.rng.IntN(100)
	switch {
	case r < 36: // PUT
		path := c.paths[c.rng.IntN(len(c.paths))]
		v := c.value()
		kind = "PUT"
		resp, err := w.request(http.MethodPut, path, v)
		if err != nil {
			return fmt.Errorf("PUT %s: %w", path, err)
		}
		if resp.Status != http.StatusNoContent || len(resp.Body) != 0 {
			return fmt.Errorf("PUT %s: %s, want 204", path, resp)
		}
		c.model[path] = v
	case r < 72: // GET
		path := c.paths[c.rng.IntN(len(c.paths))]
		kind = "GET"
		resp, err := w.request(http.MethodGet, path, nil)
		if err != nil {
			return fmt.Errorf("GET %s: %w", path, err)
		}
		want, ok := c.model[path]
		switch {
		case ok && resp.Status != http.StatusOK:
			return fmt.Errorf("GET %s: %s, want 200 with the %d bytes this client PUT", path, resp, len(want))
		case ok && !bytes.Equal(want, resp.Body):
			return fmt.Errorf("GET %s: got %d bytes %q..., want the %d bytes this client PUT", path, len(resp.Body), resp.Body[:min(len(resp.Body), 32)], len(want))
		case !ok && resp.Status != http.StatusNotFound:
			return fmt.Errorf("GET %s: %s, want 404", path, resp)
		}
	case r < 86: // DELETE
		path := c.paths[c.rng.IntN(len(c.paths))]
		kind = "DELETE"
		resp, err := w.request(http.MethodDelete, path, nil)
		if err != nil {
			return fmt.Errorf("DELETE %s: %w", path, err)
		}
		if resp.Status != http.StatusNoContent {
			return fmt.Errorf("DELETE %s: %s, want 204", path, resp)
		}
		delete(c.model, path)
	case r < 88: // list its own keys in /single/ or /sharded/
		p := []string{"single", "sharded"}[c.rng.IntN(2)]
		prefix := fmt.Sprintf("soak/c%02d/", c.id)
		kind = "LIST"
		resp, err := w.request(http.MethodGet, "/"+p+"/?limit=1000&prefix="+prefix, nil)
		if err != nil {
			return fmt.Errorf("GET /%s/?prefix=%s: %w", p, prefix, err)
		}
		if resp.Status != http.StatusOK {
			return fmt.Errorf("GET /%s/?prefix=%s: %s, want 200", p, prefix, resp)
		}
		var list struct {
			Keys []string `json:"keys"`
			Next string   `json:"next"`
		}
		if err := json.Unmarshal(resp.Body, &list); err != nil {
			return fmt.Errorf("GET /%s/?prefix=%s: %v: %s", p, prefix, err, resp)
		}
		want := []string{}
		for path := range c.model {
			if key, ok := strings.CutPrefix(path, "/"+p+"/"); ok {
				want = append(want, key)
			}
		}
		slices.Sort(want)
		if !slices.Equal(want, list.Keys) || list.Next != "" {
			return fmt.Errorf("GET /%s/?prefix=%s: keys %v next %q, want %v", p, prefix, list.Keys, list.Next, want)
		}
	default: // the next step of a flow job's lifecycle
		kind = soakJobSteps[c.step]
		return c.jobStep(w)
	}
	return nil
}

// jobStep moves the client's current job one step through its lifecycle:
// create, read, task a running, task a completed, task b completed (the
// job completes), read, and a listing of completed jobs.
func (c *soakClient) jobStep(w *exampleWorker) error {
	type job = dokv.FlowJob
	decode := func(what string, resp exampleResponse, err error, status int) (job, error) {
		var j job
		if err != nil {
			return j, fmt.Errorf("%s: %w", what, err)
		}
		if resp.Status != status {
			return j, fmt.Errorf("%s: %s, want %d", what, resp, status)
		}
		if err := json.Unmarshal(resp.Body, &j); err != nil {
			return j, fmt.Errorf("%s: %v: %s", what, err, resp)
		}
		return j, nil
	}
	patch := func(node, status string) (job, error) {
		body, _ := json.Marshal(map[string]any{"status": status, "result": map[string]any{"client": c.id, "seq": c.seq}})
		what := "PATCH " + c.job + "/tasks/" + node
		resp, err := w.request(http.MethodPatch, c.job+"/tasks/"+node, body)
		return decode(what, resp, err, http.StatusOK)
	}
	if c.job == "" {
		body, _ := json.Marshal(map[string]any{"flowId": fmt.Sprintf("soak-flow-%d", c.id), "storageId": "soak", "nodes": soakJobNodes})
		resp, err := w.request(http.MethodPost, "/jobs", body)
		j, err := decode("POST /jobs", resp, err, http.StatusCreated)
		if err != nil {
			return err
		}
		if j.Status != dokv.FlowJobPending || len(j.Tasks) != len(soakJobNodes) || resp.Header.Get("Location") != "/jobs/"+j.ID {
			return fmt.Errorf("POST /jobs: unexpected job %s", resp)
		}
		c.job, c.step = resp.Header.Get("Location"), 1
		return nil
	}
	if c.step == 6 {
		// A listing, and the next operation starts a new job.
		c.job, c.step = "", 0
		resp, err := w.request(http.MethodGet, "/jobs?status=completed&limit=10", nil)
		if err != nil {
			return fmt.Errorf("GET /jobs: %w", err)
		}
		var list struct {
			Jobs []dokv.FlowJob `json:"jobs"`
		}
		if resp.Status != http.StatusOK || json.Unmarshal(resp.Body, &list) != nil {
			return fmt.Errorf("GET /jobs?status=completed&limit=10: %s, want 200 with jobs", resp)
		}
		for _, j := range list.Jobs {
			if j.Status != dokv.FlowJobCompleted {
				return fmt.Errorf("GET /jobs?status=completed: job %s is %s", j.ID, j.Status)
			}
		}
		return nil
	}
	var (
		j          job
		err        error
		wantStatus dokv.FlowJobStatus
	)
	switch c.step {
	case 1, 5:
		resp, rerr := w.request(http.MethodGet, c.job, nil)
		j, err = decode("GET "+c.job, resp, rerr, http.StatusOK)
		wantStatus = map[int]dokv.FlowJobStatus{1: dokv.FlowJobPending, 5: dokv.FlowJobCompleted}[c.step]
	case 2:
		j, err = patch("a", "running")
		wantStatus = dokv.FlowJobRunning
	case 3:
		j, err = patch("a", "completed")
		wantStatus = dokv.FlowJobRunning
	case 4:
		j, err = patch("b", "completed")
		wantStatus = dokv.FlowJobCompleted
	}
	if err != nil {
		return err
	}
	if "/jobs/"+j.ID != c.job || j.Status != wantStatus {
		return fmt.Errorf("job %s at step %d: got ID %q status %q, want status %q", c.job, c.step, j.ID, j.Status, wantStatus)
	}
	if wantStatus == dokv.FlowJobCompleted && j.EndedAt == nil {
		return fmt.Errorf("job %s at step %d: completed without endedAt", c.job, c.step)
	}
	c.step++
	return nil
}

// workerdCPU returns the CPU time (user and system) that the workerd
// process serving storeDir has used so far, read from Linux's /proc; ok is
// false where that is not possible. It is for logs only: unlike wall time,
// it does not depend on what else the machine runs.
func workerdCPU(storeDir string) (cpu time.Duration, ok bool) {
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		if _, err := strconv.Atoi(p.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + p.Name() + "/cmdline")
		if err != nil || !bytes.Contains(cmdline, []byte("store="+storeDir+"\x00")) {
			continue
		}
		stat, err := os.ReadFile("/proc/" + p.Name() + "/stat")
		if err != nil {
			return 0, false
		}
		// The fields after the command name, which is in parentheses:
		// state is field 3, utime and stime are fields 14 and 15, in clock
		// ticks (USER_HZ, 100 on Linux).
		i := bytes.LastIndexByte(stat, ')')
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) < 13 {
			return 0, false
		}
		utime, err1 := strconv.ParseInt(fields[11], 10, 64)
		stime, err2 := strconv.ParseInt(fields[12], 10, 64)
		if err1 != nil || err2 != nil {
			return 0, false
		}
		return time.Duration(utime+stime) * 10 * time.Millisecond, true
	}
	return 0, false
}

// TestSoak_MemoryStaysFlat runs 200,000 mixed operations, 16 clients at a
// time, against one workerd process: PUT, GET and DELETE over /single/,
// /perkey/ and /sharded/ (each client on keys of its own, so that every
// response is predictable: a GET returns exactly the bytes the client last
// PUT, or 404 after a DELETE), listings of the client's own keys, and flow
// jobs driven through their lifecycle. Every response must have its
// documented status and body. The Go instance's linear memory (which never
// shrinks) is sampled every 20,000 operations through the memory probe of
// TestExampleWorker_MemoryStaysFlat: after the first 20,000 it must stay
// flat, within 8 MiB, and under 32 MiB in all.
func TestSoak_MemoryStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the soak test in short mode")
	}
	const (
		ops         = 200_000
		clients     = 16
		sampleEvery = 20_000
		maxGrowth   = 8 << 20
		maxMemory   = 32 << 20
	)
	w, started := startExampleWithMemoryProbe(t)

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	cs := make([]*soakClient, clients)
	for i := range cs {
		cs[i] = newSoakClient(i, seed)
	}

	var (
		samples []int
		failed  atomic.Int64
	)
	start := time.Now()
	for done := 0; done < ops; done += sampleEvery {
		phase := time.Now()
		var (
			next atomic.Int64
			wg   sync.WaitGroup
		)
		for _, c := range cs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= sampleEvery && failed.Load() == 0 {
					if err := c.op(w); err != nil {
						if failed.Add(1) <= 5 {
							t.Errorf("client %d, after %d operations in all: %v", c.id, done, err)
						}
						return
					}
				}
			}()
		}
		wg.Wait()
		require.Zero(t, failed.Load(), "operations failed")
		samples = append(samples, w.memoryBytes(t))
		elapsed := time.Since(phase)
		t.Logf("%6d operations: linear memory %d bytes (%.1f MiB); %.0f operations/s in the last %d",
			done+sampleEvery, samples[len(samples)-1], float64(samples[len(samples)-1])/(1<<20),
			float64(sampleEvery)/elapsed.Seconds(), sampleEvery)
	}
	total := time.Since(start)
	if cpu, ok := workerdCPU(w.StoreDir); ok {
		t.Logf("workerd used %v of CPU for the %d operations (%v each): at most %.0f operations/s on one core",
			cpu.Round(10*time.Millisecond), ops, (cpu / ops).Round(time.Microsecond), float64(ops)/cpu.Seconds())
	}
	lat := map[string][]time.Duration{}
	for _, c := range cs {
		for k, d := range c.lat {
			lat[k] = append(lat[k], d...)
		}
	}
	counts := map[string]int{}
	for _, k := range slices.Sorted(maps.Keys(lat)) {
		d := lat[k]
		counts[k] = len(d)
		slices.Sort(d)
		t.Logf("%-10s %6d operations, latency p50 %v p90 %v p99 %v max %v", k, len(d),
			d[len(d)/2].Round(10*time.Microsecond), d[len(d)*9/10].Round(10*time.Microsecond), d[len(d)*99/100].Round(10*time.Microsecond), d[len(d)-1].Round(10*time.Microsecond))
	}
	warm, last := samples[0], samples[len(samples)-1]
	t.Logf("%d operations in %v (%.0f/s), by kind %v; linear memory %d bytes after the first request, then every %d operations %v",
		ops, total.Round(time.Millisecond), float64(ops)/total.Seconds(), counts, started, sampleEvery, samples)
	assert.LessOrEqual(t, last-warm, maxGrowth, "linear memory grew by more than %d bytes after the warm-up: %v", maxGrowth, samples)
	assert.LessOrEqual(t, last, maxMemory, "linear memory is over %d bytes: %v", maxMemory, samples)
	assert.NotContains(t, w.Log(), "the Go instance exited")
}
