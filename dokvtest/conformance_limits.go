package dokvtest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/driver"
)

func limitBehaviours() []behaviour {
	return []behaviour{
		{"Limits/InvalidKeysStoreNothing", testInvalidKeys},
		{"Limits/LongestKey", testLongestKey},
		{"Limits/ValueTooLargeStoresNothing", testValueTooLarge},
		{"Limits/LargestEntry", testLargestEntry},
		{"Limits/InvalidOptionsFailInNew", testInvalidOptions},
	}
}

func invalidKeys() map[string]string {
	return map[string]string{
		"empty":               "",
		"too long":            strings.Repeat("k", dokv.MaxKeyBytes+1),
		"invalid utf8":        "bad\xff\xfekey",
		"lone surrogate half": "\xed\xa0\x80",
	}
}

func testInvalidKeys(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[string](t, ns, dokv.WithPartitioning(dokv.SingleObject("limits")))
	for name, key := range invalidKeys() {
		t.Run(name, func(t *testing.T) {
			requireErrorIs(t, s.Set(ctx, key, "v"), dokv.ErrInvalidKey, key)
			_, err := s.Get(ctx, key)
			requireErrorIs(t, err, dokv.ErrInvalidKey, key)
			requireErrorIs(t, s.Delete(ctx, key), dokv.ErrInvalidKey, key)
			_, err = s.CompareAndSwap(ctx, key, 0, "v")
			requireErrorIs(t, err, dokv.ErrInvalidKey, key)
			_, err = s.Update(ctx, key, func(string, bool) (string, error) { return "v", nil })
			requireErrorIs(t, err, dokv.ErrInvalidKey, key)
			_, err = s.Txn().Set("fine", "v").Set(key, "v").Commit(ctx)
			requireErrorIs(t, err, dokv.ErrInvalidKey, key)
			requireAbsent(t, ctx, s, "fine")
		})
	}
	assert.Empty(t, collect(t, ctx, s, dokv.ListOptions{}), "nothing was stored")
}

func testLongestKey(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[string](t, ns, dokv.WithPrefix("p/"), dokv.WithPartitioning(dokv.SingleObject("limits")))
	key := strings.Repeat("€", dokv.MaxKeyBytes/3) + "kk" // 2048 bytes, multi-byte runes
	require.Len(t, key, dokv.MaxKeyBytes)
	require.NoError(t, s.Set(ctx, key, "v"))
	got, err := s.Get(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, "v", got)
	assert.Equal(t, []string{key}, keysOf(collect(t, ctx, s, dokv.ListOptions{})))
}

func testValueTooLarge(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[[]byte](t, ns, dokv.WithCodec(dokv.Raw()))
	require.NoError(t, s.Set(ctx, "k", []byte("small")))
	huge := bytes.Repeat([]byte{'x'}, dokv.MaxEntryBytes)
	requireErrorIs(t, s.Set(ctx, "k", huge), dokv.ErrValueTooLarge, "k")
	_, err := s.CompareAndSwap(ctx, "new", 0, huge)
	requireErrorIs(t, err, dokv.ErrValueTooLarge, "new")
	_, err = s.Txn().Set("{t}a", []byte("a")).Set("{t}b", huge).Commit(ctx)
	requireErrorIs(t, err, dokv.ErrValueTooLarge, "{t}b")

	got, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, []byte("small"), got, "the old value survives")
	requireAbsent(t, ctx, s, "new")
	requireAbsent(t, ctx, s, "{t}a")
}

// testLargestEntry stores an entry whose stored key and value add up to
// exactly MaxEntryBytes. The stored key is the key plus the store's encoded
// prefix ("0:" for no prefix).
func testLargestEntry(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[[]byte](t, ns, dokv.WithCodec(dokv.Raw()))
	key := "largest"
	value := bytes.Repeat([]byte{'y'}, dokv.MaxEntryBytes-len(key)-len("0:"))
	require.NoError(t, s.Set(ctx, key, value))
	got, err := s.Get(ctx, key)
	require.NoError(t, err)
	require.True(t, bytes.Equal(value, got))
	requireErrorIs(t, s.Set(ctx, key, append(value, 'z')), dokv.ErrValueTooLarge, key)
}

func testInvalidOptions(t *testing.T, ns driver.Namespace) {
	cases := map[string][]dokv.Option{
		"zero shards":        {dokv.WithPartitioning(dokv.HashShards(0))},
		"too many shards":    {dokv.WithPartitioning(dokv.HashShards(dokv.MaxShards + 1))},
		"empty object name":  {dokv.WithPartitioning(dokv.SingleObject(""))},
		"invalid utf8 name":  {dokv.WithPartitioning(dokv.SingleObject("\xff"))},
		"prefix too long":    {dokv.WithPrefix(strings.Repeat("p", dokv.MaxPrefixBytes+1))},
		"nil codec":          {dokv.WithCodec(nil)},
		"page size zero":     {dokv.WithPageSize(0)},
		"page size too high": {dokv.WithPageSize(100000)},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := dokv.New[int](ns, opts...)
			requireErrorIs(t, err, dokv.ErrInvalidArgument, "")
		})
	}
	_, err := dokv.New[int](nil)
	requireErrorIs(t, err, dokv.ErrInvalidArgument, "")
}
