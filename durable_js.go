//go:build js && wasm

package dokv

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/internal/workers"
)

// WorkersNamespace returns the Durable Object namespace bound to the Worker
// under binding (a durable_objects binding in wrangler.toml whose class is
// DokvObject). Calls reach the objects over Workers RPC with the request's
// bytes. It checks the binding at once (the Worker's bindings are known
// before main runs), and fails with ErrInvalidArgument naming it if it is
// missing or is not a Durable Object namespace.
func WorkersNamespace(binding string) (Namespace, error) {
	if binding == "" {
		return nil, &Error{Op: "workers", Err: ErrInvalidArgument, Detail: "empty binding name"}
	}
	if _, err := workers.IDFromName(binding, "dokv-binding-check"); err != nil {
		return nil, &Error{Op: "workers", Err: ErrInvalidArgument, Detail: err.Error()}
	}
	return &workersNamespace{binding: binding}, nil
}

// The records DokvObject serves to @uploadista/kv-store-cloudflare-do's
// RPC methods, numbered as the entry module names them. A record set from
// TypeScript must decode as its Go type, or it is refused.
func init() {
	workers.RegisterRecordKind(workers.RecordUploadFile, workers.RecordKind{Prefix: UploadFilePrefix, Validate: decodesAs[UploadFile]})
	workers.RegisterRecordKind(workers.RecordFlowJob, workers.RecordKind{Prefix: FlowJobPrefix, Validate: validFlowJob})
}

// validFlowJob reports whether data is a flow job with valid statuses.
func validFlowJob(data []byte) error {
	var job FlowJob
	if err := json.Unmarshal(data, &job); err != nil {
		return err
	}
	if !job.Status.Valid() {
		return fmt.Errorf("status %q is not a flow job status", job.Status)
	}
	for _, task := range job.Tasks {
		if !task.Status.Valid() {
			return fmt.Errorf("task %q: status %q is not a task status", task.NodeID, task.Status)
		}
	}
	return nil
}

// decodesAs reports whether data decodes as JSON into a T.
func decodesAs[T any](data []byte) error {
	var v T
	return json.Unmarshal(data, &v)
}

type workersNamespace struct{ binding string }

func (n *workersNamespace) IDFromName(name string) ObjectID {
	hex, err := workers.IDFromName(n.binding, name)
	if err != nil {
		return ObjectID{}
	}
	id, err := driver.ParseObjectID(hex)
	if err != nil {
		return ObjectID{}
	}
	return id
}

func (n *workersNamespace) Get(id ObjectID) driver.Stub {
	return workersStub{binding: n.binding, id: id}
}

type workersStub struct {
	binding string
	id      ObjectID
}

func (s workersStub) Call(ctx context.Context, request []byte) ([]byte, error) {
	if s.id == (ObjectID{}) {
		// IDFromName failed: the binding is missing or not a namespace.
		return nil, s.badBinding()
	}
	reply, err := workers.Call(ctx, s.binding, s.id.String(), request)
	return reply, workersError(err)
}
