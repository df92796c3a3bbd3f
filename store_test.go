package dokv_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/internal/protocol"
)

// stubFunc is a Namespace whose every object answers with call.
type stubFunc func(ctx context.Context, req []byte) ([]byte, error)

func (f stubFunc) IDFromName(name string) dokv.ObjectID {
	return dokv.NewMemoryNamespace().IDFromName(name)
}
func (f stubFunc) Get(dokv.ObjectID) dokv.Stub { return f }
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

func TestStore_ContextErrorsPassThroughUnwrapped(t *testing.T) {
	ns := stubFunc(func(ctx context.Context, _ []byte) ([]byte, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	s, err := dokv.New[string](ns)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.Get(ctx, "k")
	assert.Same(t, context.Canceled, err)

	ctx, cancel = context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	err = s.Set(ctx, "k", "v")
	assert.Equal(t, context.DeadlineExceeded, err)
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

func TestStore_StubFailureIsWrapped(t *testing.T) {
	boom := errors.New("connection reset")
	s, err := dokv.New[string](stubFunc(func(context.Context, []byte) ([]byte, error) { return nil, boom }))
	require.NoError(t, err)
	err = s.Set(context.Background(), "k", "v")
	require.ErrorIs(t, err, boom)
	var e *dokv.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "set", e.Op)
	assert.Equal(t, "k", e.Key)
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

func TestParseObjectID_RejectsBadInput(t *testing.T) {
	for _, s := range []string{"", "abc", "zz" + string(make([]byte, 62))} {
		_, err := dokv.ParseObjectID(s)
		require.ErrorIs(t, err, dokv.ErrInvalidArgument, "%q", s)
	}
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
