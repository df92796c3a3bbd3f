package lincheck

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/anishathalye/porcupine"
)

// Recorder collects the history of concurrent clients as porcupine
// operations, with timestamps in nanoseconds since the recorder started on
// the monotonic clock. Each client records into a log of its own, so
// recording adds no synchronization between clients.
type Recorder struct {
	start   time.Time
	clients []*ClientLog
}

// NewRecorder starts a recorder for the given number of clients.
func NewRecorder(clients int) *Recorder {
	r := &Recorder{start: time.Now(), clients: make([]*ClientLog, clients)}
	for i := range r.clients {
		r.clients[i] = &ClientLog{id: i, start: r.start}
	}
	return r
}

// Client returns the log of client i. A ClientLog is used by one goroutine
// at a time.
func (r *Recorder) Client(i int) *ClientLog { return r.clients[i] }

// Operations returns every recorded operation, ordered by call time. Call it
// once the clients have stopped.
func (r *Recorder) Operations() []porcupine.Operation {
	var n int
	for _, c := range r.clients {
		n += len(c.ops)
	}
	ops := make([]porcupine.Operation, 0, n)
	for _, c := range r.clients {
		ops = append(ops, c.ops...)
	}
	sortByCall(ops)
	return ops
}

// ClientLog is one client's part of a history.
type ClientLog struct {
	id    int
	start time.Time
	ops   []porcupine.Operation
}

// Now is the current timestamp. Take it right before invoking an operation
// (its Call) and pass it to Returned or Pending afterwards.
func (c *ClientLog) Now() int64 { return time.Since(c.start).Nanoseconds() }

// Returned records an operation called at call that has just returned out.
func (c *ClientLog) Returned(call int64, in Input, out Output, metadata any) {
	ret := c.Now()
	c.ops = append(c.ops, porcupine.Operation{
		ClientId: c.id, Input: in, Call: call, Output: out, Return: ret, Metadata: metadata,
	})
}

// Pending records an operation called at call whose outcome is unknown: it
// may take effect at any time after its call, so, following porcupine's
// convention for operations that never returned, its Return is
// math.MaxInt64. Its output is Output{Unknown: true}.
func (c *ClientLog) Pending(call int64, in Input, metadata any) {
	c.ops = append(c.ops, porcupine.Operation{
		ClientId: c.id, Input: in, Call: call, Output: Output{Unknown: true}, Return: math.MaxInt64, Metadata: metadata,
	})
}

// jsonOperation is an operation as WriteHistory stores it.
type jsonOperation struct {
	Client       int
	Input        Input
	Output       Output
	Call, Return int64
	Metadata     string `json:",omitempty"`
}

// WriteHistory writes history to path as JSON, for ReadHistory.
func WriteHistory(path string, history []porcupine.Operation) error {
	ops := make([]jsonOperation, len(history))
	for i, op := range history {
		ops[i] = jsonOperation{Client: op.ClientId, Input: op.Input.(Input), Output: op.Output.(Output), Call: op.Call, Return: op.Return}
		if op.Metadata != nil {
			ops[i].Metadata = fmt.Sprint(op.Metadata)
		}
	}
	data, err := json.Marshal(ops)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// ReadHistory reads a history that WriteHistory wrote, so that a failing
// run's history can be checked again, e.g. with Check.
func ReadHistory(path string) ([]porcupine.Operation, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ops []jsonOperation
	if err := json.Unmarshal(data, &ops); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	history := make([]porcupine.Operation, len(ops))
	for i, op := range ops {
		history[i] = porcupine.Operation{ClientId: op.Client, Input: op.Input, Output: op.Output, Call: op.Call, Return: op.Return}
		if op.Metadata != "" {
			history[i].Metadata = op.Metadata
		}
	}
	return history, nil
}
