package dokvtest

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/driver"
)

func valueBehaviours() []behaviour {
	return []behaviour{
		{"Value/RoundTrip", testValueRoundTrip},
		{"Value/RawBytes", testRawBytes},
		{"Value/StatsCountStoredBytes", testStatsCountStoredBytes},
		{"Value/OneMiB", testOneMiB},
		{"Value/MissingKeyIsNotFound", testMissingKey},
		{"Value/DeleteRemoves", testDeleteRemoves},
		{"Value/DeleteMissingIsNoError", testDeleteMissing},
		{"Value/UndecodableValueNamesKey", testUndecodable},
		{"Value/ConcurrentClientsManyKeys", testConcurrentManyKeys},
	}
}

func testValueRoundTrip(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	for _, part := range partitionings() {
		t.Run(part.name, func(t *testing.T) {
			docs := newStore[doc](t, ns, dokv.WithPartitioning(part.p), dokv.WithPrefix("docs/"))
			strs := newStore[string](t, ns, dokv.WithPartitioning(part.p), dokv.WithPrefix("strings/"))
			cases := map[string]doc{
				"plain":            {Name: "plain", Count: 1},
				"unicode/日本語/🚀":    {Name: "名前 — ünïcödé 🚀", Tags: []string{"ä", "中"}},
				"with space and /": {Name: "", Count: -7, Attrs: map[string]string{"k": "v\x00w"}},
				"{tag}/member":     {Name: "tagged"},
				"zero":             {},
			}
			for key, want := range cases {
				require.NoError(t, docs.Set(ctx, key, want))
			}
			for key, want := range cases {
				got, err := docs.Get(ctx, key)
				require.NoError(t, err, key)
				assert.Equal(t, want, got, key)
			}
			for _, v := range []string{"", "x", "🚀 and \"quotes\" and \\ and \n newline", strings.Repeat("ü", 1000)} {
				require.NoError(t, strs.Set(ctx, "s", v))
				got, err := strs.Get(ctx, "s")
				require.NoError(t, err)
				assert.Equal(t, v, got)
			}
		})
	}
}

func testRawBytes(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[[]byte](t, ns, dokv.WithCodec(dokv.Raw()), dokv.WithPartitioning(dokv.SingleObject("raw")))
	values := [][]byte{{}, {0}, {0xff, 0xfe, 0x00, 0x80}, bytes.Repeat([]byte{0xc3}, 4097)}
	for i, v := range values {
		key := fmt.Sprintf("raw-%d", i)
		require.NoError(t, s.Set(ctx, key, v))
		got, err := s.Get(ctx, key)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(v, got), "value %d: got %x, want %x", i, got, v)
	}
}

func testOneMiB(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[string](t, ns)
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	require.NoError(t, s.Set(ctx, "big", big))
	got, err := s.Get(ctx, "big")
	require.NoError(t, err)
	require.Equal(t, len(big), len(got))
	require.True(t, big == got, "1 MiB value changed in a round trip")
}

func testMissingKey(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	for _, part := range partitionings() {
		t.Run(part.name, func(t *testing.T) {
			s := newStore[doc](t, ns, dokv.WithPartitioning(part.p))
			got, err := s.Get(ctx, "never-written")
			requireErrorIs(t, err, dokv.ErrNotFound, "never-written")
			assert.Equal(t, doc{}, got, "a miss returns the zero value")
			_, err = s.GetEntry(ctx, "never-written")
			requireErrorIs(t, err, dokv.ErrNotFound, "never-written")
		})
	}
}

func testDeleteRemoves(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	for _, part := range partitionings() {
		t.Run(part.name, func(t *testing.T) {
			s := newStore[doc](t, ns, dokv.WithPartitioning(part.p))
			require.NoError(t, s.Set(ctx, "k", doc{Name: "v"}))
			require.NoError(t, s.Set(ctx, "other", doc{Name: "stays"}))
			require.NoError(t, s.Delete(ctx, "k"))
			requireAbsent(t, ctx, s, "k")
			got, err := s.Get(ctx, "other")
			require.NoError(t, err)
			assert.Equal(t, "stays", got.Name)
		})
	}
}

func testDeleteMissing(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[doc](t, ns)
	require.NoError(t, s.Delete(ctx, "never-written"))
	require.NoError(t, s.Set(ctx, "k", doc{}))
	require.NoError(t, s.Delete(ctx, "k"))
	require.NoError(t, s.Delete(ctx, "k"), "a second delete is not an error")
}

func testUndecodable(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	opts := []dokv.Option{dokv.WithPrefix("mixed/"), dokv.WithPartitioning(dokv.SingleObject("mixed"))}
	raw := newStore[[]byte](t, ns, append(opts, dokv.WithCodec(dokv.Raw()))...)
	typed := newStore[doc](t, ns, opts...)
	require.NoError(t, raw.Set(ctx, "broken", []byte("{not json")))
	_, err := typed.Get(ctx, "broken")
	requireErrorIs(t, err, dokv.ErrDecode, "broken")
	assert.Contains(t, err.Error(), `"broken"`)

	var listErr error
	for _, err := range typed.List(ctx, dokv.ListOptions{}) {
		if err != nil {
			listErr = err
		}
	}
	requireErrorIs(t, listErr, dokv.ErrDecode, "broken")
}

func testConcurrentManyKeys(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[doc](t, ns, dokv.WithPartitioning(dokv.HashShards(8)))
	const clients, keysPerClient = 16, 20
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range keysPerClient {
				key := fmt.Sprintf("client-%d/key-%d", c, i)
				if !assert.NoError(t, s.Set(ctx, key, doc{Name: key, Count: i})) {
					return
				}
				got, err := s.Get(ctx, key)
				if assert.NoError(t, err) {
					assert.Equal(t, key, got.Name, "read your own write")
				}
			}
		}()
	}
	wg.Wait()
	entries := collect(t, ctx, s, dokv.ListOptions{})
	require.Len(t, entries, clients*keysPerClient)
}

// testStatsCountStoredBytes checks that Stats counts a value's stored bytes,
// not characters or UTF-16 units: replacing an empty value with v adds
// exactly len(v) bytes, for text of 1- to 4-byte characters and for bytes
// that are not UTF-8.
func testStatsCountStoredBytes(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[[]byte](t, ns, dokv.WithPartitioning(dokv.SingleObject("stats")), dokv.WithCodec(dokv.Raw()))
	bytesOf := func() int64 {
		st, err := s.Stats(ctx)
		require.NoError(t, err)
		return st.Bytes
	}
	for _, v := range []string{"ascii", "é ü", "中文字", "😀🚀", "\xff\xfe\x00", `{"a": "<&>"}`} {
		require.NoError(t, s.Set(ctx, "k", []byte{}))
		empty := bytesOf()
		require.NoError(t, s.Set(ctx, "k", []byte(v)))
		assert.Equal(t, int64(len(v)), bytesOf()-empty, "value %q", v)
		got, err := s.Get(ctx, "k")
		require.NoError(t, err)
		assert.Equal(t, []byte(v), got, "value %q", v)
	}
}
