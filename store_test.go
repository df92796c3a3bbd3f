package dokv_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/internal/protocol"
)

// stubFunc is a Namespace whose every object answers with call.
type stubFunc func(ctx context.Context, req []byte) ([]byte, error)

func (f stubFunc) IDFromName(name string) dokv.ObjectID {
	return dokv.NewMemoryNamespace().IDFromName(name)
}
func (f stubFunc) Get(dokv.ObjectID) driver.Stub { return f }
func (f stubFunc) Call(ctx context.Context, req []byte) ([]byte, error) {
	return f(ctx, req)
}

func TestStore_ImplementsKvStore(t *testing.T) {
	ctx := context.Background()
	s, err := dokv.New[string](dokv.NewMemoryNamespace())
	require.NoError(t, err)
	var kv dokv.KvStore[string] = s
	require.NoError(t, kv.Set(ctx, "k", "v"))
	got, err := kv.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "v", got)
	require.NoError(t, kv.Delete(ctx, "k"))
	_, err = kv.Get(ctx, "k")
	require.ErrorIs(t, err, dokv.ErrNotFound)
}

func TestError_NamesOperationKeyAndObject(t *testing.T) {
	s, err := dokv.New[string](dokv.NewMemoryNamespace(), dokv.WithPartitioning(dokv.SingleObject("jobs")))
	require.NoError(t, err)
	_, err = s.Get(context.Background(), "job-1")
	var e *dokv.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "get", e.Op)
	assert.Equal(t, "job-1", e.Key)
	assert.Contains(t, e.Object, "jobs")
	assert.Equal(t, `dokv: get "job-1" (object `+e.Object+`): not found`, err.Error())
	assert.Same(t, dokv.ErrNotFound, errors.Unwrap(err), "the sentinel is wrapped once")
}

// A request refused before sending returns the context's error as it is; a
// read cut off after sending does too; a write cut off after sending may
// have run, so its error says so and still matches the context's error.
func TestStore_ContextErrors(t *testing.T) {
	// Reads are answered by a memory namespace; writes wait for the
	// caller's context to end, as a call whose reply never comes.
	mem := dokv.NewMemoryNamespace()
	var calls atomic.Int64
	ns := stubFunc(func(ctx context.Context, req []byte) ([]byte, error) {
		calls.Add(1)
		if req[1] != 2 { // not a write: answered whatever the caller's deadline
			return mem.Get(mem.IDFromName("only")).Call(context.Background(), req)
		}
		<-ctx.Done()
		return nil, ctx.Err()
	})
	s, err := dokv.New[string](ns)
	require.NoError(t, err)

	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.Get(canceled, "k")
	assert.Same(t, context.Canceled, err)
	assert.Same(t, context.Canceled, s.Set(canceled, "k", "v"))
	_, err = s.CompareAndSwap(canceled, "k", 0, "v")
	assert.Same(t, context.Canceled, err)
	assert.Zero(t, calls.Load(), "nothing is sent for a context that has ended")

	// Long enough for Update's read and the send, even on a loaded machine
	// under -race; the write then waits it out.
	cut := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	reads, err := dokv.New[string](stubFunc(func(ctx context.Context, _ []byte) ([]byte, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}))
	require.NoError(t, err)
	_, err = reads.Get(cut(), "k")
	assert.Equal(t, context.DeadlineExceeded, err, "a read's outcome does not matter")

	for name, write := range map[string]func(ctx context.Context) error{
		"set": func(ctx context.Context) error { return s.Set(ctx, "k", "v") },
		"cas": func(ctx context.Context) error { _, err := s.CompareAndSwap(ctx, "k", 3, "v"); return err },
		"cad": func(ctx context.Context) error { return s.CompareAndDelete(ctx, "k", 3) },
		"txn": func(ctx context.Context) error { _, err := s.Txn().SetIf("k", 3, "v").Commit(ctx); return err },
		"update": func(ctx context.Context) error {
			_, err := s.Update(ctx, "k", func(string, bool) (string, error) { return "v", nil })
			return err
		},
	} {
		err := write(cut())
		var e *dokv.Error
		require.ErrorAs(t, err, &e, name)
		assert.ErrorIs(t, err, dokv.ErrUnknownOutcome, name)
		assert.ErrorIs(t, err, context.DeadlineExceeded, name)
	}
}

func TestStore_MemoryNamespaceHonoursCanceledContext(t *testing.T) {
	s, err := dokv.New[string](dokv.NewMemoryNamespace())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.Same(t, context.Canceled, s.Set(ctx, "k", "v"))
	_, err = s.Update(ctx, "k", func(string, bool) (string, error) { return "v", nil })
	assert.Same(t, context.Canceled, err)
}

// The Stub contract says a failed call may have run: a Stub implemented
// elsewhere that fails with a plain error gives an unknown outcome that
// wraps it, and Update recovers from it as from dokv's own.
func TestStore_PlainStubErrorIsAnUnknownOutcome(t *testing.T) {
	boom := errors.New("connection reset")
	s, err := dokv.New[string](stubFunc(func(context.Context, []byte) ([]byte, error) { return nil, boom }))
	require.NoError(t, err)
	err = s.Set(context.Background(), "k", "v")
	require.ErrorIs(t, err, boom)
	require.ErrorIs(t, err, dokv.ErrUnknownOutcome)
	var e *dokv.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "set", e.Op)
	assert.Equal(t, "k", e.Key)

	// A Stub that drops the reply of every other write after running it.
	mem := dokv.NewMemoryNamespace()
	var writes atomic.Int64
	flaky := stubFunc(func(ctx context.Context, req []byte) ([]byte, error) {
		reply, err := mem.Get(mem.IDFromName("only")).Call(ctx, req)
		if err == nil && req[1] == 2 && writes.Add(1)%2 == 0 {
			return nil, boom
		}
		return reply, err
	})
	counter, err := dokv.New[int](flaky)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, counter.Set(ctx, "n", 1)) // the first write: its reply arrives
	_, err = counter.Update(ctx, "n", func(n int, _ bool) (int, error) { return n + 1, nil })
	require.ErrorIs(t, err, dokv.ErrUnknownOutcome, "the write ran but its reply was lost: Update cannot tell and says so")
	got, err := counter.Get(ctx, "n")
	require.NoError(t, err)
	assert.Equal(t, 2, got, "the increment happened once")
}

func TestStore_MalformedReplyIsProtocolError(t *testing.T) {
	replies := map[string][]byte{
		"empty":            {},
		"future version":   {99, 0, 0},
		"truncated":        {1, 0, 1, 5},
		"unknown status":   {1, 200},
		"trailing garbage": {1, 0, 0, 0xff},
	}
	for name, reply := range replies {
		t.Run(name, func(t *testing.T) {
			s, err := dokv.New[string](stubFunc(func(context.Context, []byte) ([]byte, error) { return reply, nil }))
			require.NoError(t, err)
			_, err = s.Get(context.Background(), "k")
			require.ErrorIs(t, err, dokv.ErrProtocol)
		})
	}
}

func TestStore_InvalidKeyIsNeverSent(t *testing.T) {
	sent := 0
	s, err := dokv.New[string](stubFunc(func(context.Context, []byte) ([]byte, error) {
		sent++
		return nil, errors.New("unreachable")
	}))
	require.NoError(t, err)
	ctx := context.Background()
	require.ErrorIs(t, s.Set(ctx, "", "v"), dokv.ErrInvalidKey)
	require.ErrorIs(t, s.Set(ctx, "\xff", "v"), dokv.ErrInvalidKey)
	_, err = s.Txn().Set("a", "1").Set("b", "2").Commit(ctx)
	require.ErrorIs(t, err, dokv.ErrCrossObject)
	assert.Zero(t, sent, "invalid requests must fail before a call")
}

func TestCodec_RawRejectsOtherTypes(t *testing.T) {
	s, err := dokv.New[string](dokv.NewMemoryNamespace(), dokv.WithCodec(dokv.Raw()))
	require.NoError(t, err)
	err = s.Set(context.Background(), "k", "a string, not bytes")
	require.ErrorIs(t, err, dokv.ErrDecode)
	_, err = s.Get(context.Background(), "k")
	require.ErrorIs(t, err, dokv.ErrNotFound, "nothing was stored")
}

func TestMemoryNamespace_ResetKeepsStorage(t *testing.T) {
	ctx := context.Background()
	ns := dokv.NewMemoryNamespace()
	s, err := dokv.New[string](ns, dokv.WithPartitioning(dokv.SingleObject("o")))
	require.NoError(t, err)
	v1, err := s.SetEntry(ctx, "k", "before")
	require.NoError(t, err)
	require.Equal(t, 1, ns.Objects())

	ns.Reset(ns.IDFromName(s.ObjectName("k")))

	got, err := s.GetEntry(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "before", got.Value)
	v2, err := s.SetEntry(ctx, "k", "after")
	require.NoError(t, err)
	assert.Greater(t, v2, v1, "a reset actor continues versions from storage")
}

// TestObject_RefusesOversizedRequests sends requests that break the limits
// straight to an object, past the Store's own checks, as a buggy or hostile
// peer would: each is refused with a typed status, nothing is stored, and
// the object keeps working.
func TestObject_RefusesOversizedRequests(t *testing.T) {
	ctx := context.Background()
	ns := dokv.NewMemoryNamespace()
	s, err := dokv.New[string](ns, dokv.WithPartitioning(dokv.SingleObject("target")))
	require.NoError(t, err)
	stub := ns.Get(ns.IDFromName(s.ObjectName("any"))) // the store's one object
	manyKeys := protocol.Request{Op: protocol.OpWrite}
	for i := range protocol.MaxMutations + 1 {
		manyKeys.Mutations = append(manyKeys.Mutations, protocol.Mutation{Key: fmt.Sprintf("0:k%d", i), Kind: protocol.KindPut})
	}
	bigValue := protocol.Request{Op: protocol.OpWrite, Mutations: []protocol.Mutation{
		{Key: "0:big", Kind: protocol.KindPut, Value: make([]byte, protocol.MaxEntryBytes)},
	}}
	cases := map[string]struct {
		request []byte
		op      protocol.Op
		want    protocol.Status
	}{
		"too many keys":   {protocol.AppendRequest(nil, &manyKeys), protocol.OpWrite, protocol.StatusTooMany},
		"value too large": {protocol.AppendRequest(nil, &bigValue), protocol.OpWrite, protocol.StatusTooLarge},
		"list limit too large": {protocol.AppendRequest(nil, &protocol.Request{Op: protocol.OpList,
			List: protocol.ListRequest{Prefix: "0:", Limit: protocol.MaxListLimit + 1}}), protocol.OpList, protocol.StatusBadRequest},
		"request too large": {make([]byte, protocol.MaxRequestBytes+1), protocol.OpGet, protocol.StatusTooLarge},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			raw, err := stub.Call(ctx, c.request)
			require.NoError(t, err)
			reply, err := protocol.DecodeReply(c.op, raw)
			require.NoError(t, err)
			assert.Equal(t, c.want, reply.Status, reply.Message)
		})
	}
	for e, err := range s.List(ctx, dokv.ListOptions{}) {
		t.Fatalf("an oversized request stored %q (%v)", e.Key, err)
	}
	require.NoError(t, s.Set(ctx, "after", "ok"), "the object still works")
}

// A stored value that does not decode gives ErrDecode with the codec's own
// error reachable, so a caller can tell a syntax error from a type mismatch.
func TestStore_DecodeErrorKeepsTheCodecError(t *testing.T) {
	ctx := context.Background()
	ns := dokv.NewMemoryNamespace()
	raw, err := dokv.New[[]byte](ns, dokv.WithCodec(dokv.Raw()), dokv.WithPartitioning(dokv.SingleObject("o")))
	require.NoError(t, err)
	typed, err := dokv.New[struct{ N int }](ns, dokv.WithPartitioning(dokv.SingleObject("o")))
	require.NoError(t, err)
	require.NoError(t, raw.Set(ctx, "syntax", []byte("{not json")))
	require.NoError(t, raw.Set(ctx, "type", []byte(`{"N":"a string"}`)))

	_, err = typed.Get(ctx, "syntax")
	require.ErrorIs(t, err, dokv.ErrDecode)
	var syntax *json.SyntaxError
	assert.ErrorAs(t, err, &syntax)

	_, err = typed.Get(ctx, "type")
	require.ErrorIs(t, err, dokv.ErrDecode)
	var mismatch *json.UnmarshalTypeError
	assert.ErrorAs(t, err, &mismatch)

	for _, err := range typed.List(ctx, dokv.ListOptions{}) {
		require.ErrorIs(t, err, dokv.ErrDecode)
		assert.ErrorAs(t, err, &syntax)
		break
	}
}
