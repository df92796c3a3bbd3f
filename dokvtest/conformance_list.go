package dokvtest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/driver"
)

func listBehaviours() []behaviour {
	return []behaviour{
		{"List/AscendingByteOrder", testListOrder},
		{"List/PrefixStartAfterLimit", testListFilters},
		{"List/PagesAcrossShards", testListPaging},
		{"List/StopsWhenCallerStops", testListEarlyStop},
		{"List/PerKeyIsUnsupported", testListPerKey},
		{"List/NegativeLimitIsInvalid", testListNegativeLimit},
	}
}

// listKeys is a key set whose byte order differs from naive orders: mixed
// case, digits, multi-byte UTF-8, and prefixes of each other.
func listKeys() []string {
	keys := []string{"a", "aa", "a/b", "a0", "B", "b", "é", "z", "zz", "日本", "{t}x", "~", "ab"}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 120 {
		keys = append(keys, fmt.Sprintf("item/%03d/%x", i, r.Uint32()))
	}
	return keys
}

func fill(t *testing.T, s *dokv.Store[int], keys []string) {
	ctx := testContext(t)
	for i, k := range keys {
		require.NoError(t, s.Set(ctx, k, i))
	}
}

func testListOrder(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	for _, part := range listable() {
		t.Run(part.name, func(t *testing.T) {
			s := newStore[int](t, ns, dokv.WithPartitioning(part.p))
			keys := listKeys()
			fill(t, s, keys)
			entries := collect(t, ctx, s, dokv.ListOptions{})
			want := slices.Clone(keys)
			slices.Sort(want) // Go's string order is byte order
			require.Equal(t, want, keysOf(entries))
			index := make(map[string]int, len(keys))
			for i, k := range keys {
				index[k] = i
			}
			for _, e := range entries {
				assert.Equal(t, index[e.Key], e.Value, e.Key)
				assert.NotZero(t, e.Version, e.Key)
			}
		})
	}
}

func testListFilters(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	for _, part := range listable() {
		t.Run(part.name, func(t *testing.T) {
			s := newStore[int](t, ns, dokv.WithPartitioning(part.p))
			keys := listKeys()
			fill(t, s, keys)
			sorted := slices.Clone(keys)
			slices.Sort(sorted)
			expect := func(opts dokv.ListOptions) []string {
				out := []string{}
				for _, k := range sorted {
					if strings.HasPrefix(k, opts.Prefix) && k > opts.StartAfter {
						out = append(out, k)
					}
				}
				if opts.Limit > 0 && len(out) > opts.Limit {
					out = out[:opts.Limit]
				}
				return out
			}
			cases := []dokv.ListOptions{
				{Prefix: "a"},
				{Prefix: "item/"},
				{Prefix: "item/05"},
				{Prefix: "nothing"},
				{StartAfter: "b"},
				{StartAfter: "item/050"},
				{StartAfter: "~"},
				{Prefix: "item/", StartAfter: "item/100", Limit: 7},
				{Prefix: "item/", StartAfter: "a"},
				{Prefix: "a", StartAfter: "zzz"},
				{Limit: 1},
				{Limit: 3},
				{Limit: len(keys) + 10},
			}
			for _, opts := range cases {
				got := keysOf(collect(t, ctx, s, opts))
				assert.Equal(t, expect(opts), got, "%+v", opts)
			}
		})
	}
}

// testListPaging walks a listing page by page, resuming with StartAfter, with
// pages smaller than a shard holds, so every shard is read in several
// requests and merged.
func testListPaging(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	for _, part := range listable() {
		t.Run(part.name, func(t *testing.T) {
			s := newStore[int](t, ns, dokv.WithPartitioning(part.p), dokv.WithPageSize(3))
			keys := listKeys()
			fill(t, s, keys)
			want := slices.Clone(keys)
			slices.Sort(want)
			var got []string
			after := ""
			for {
				page := keysOf(collect(t, ctx, s, dokv.ListOptions{StartAfter: after, Limit: 10}))
				got = append(got, page...)
				if len(page) < 10 {
					break
				}
				after = page[len(page)-1]
			}
			require.Equal(t, want, got)
			require.Equal(t, want, keysOf(collect(t, ctx, s, dokv.ListOptions{})), "one listing in pages of 3")
		})
	}
}

func testListEarlyStop(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[int](t, ns, dokv.WithPartitioning(dokv.HashShards(3)), dokv.WithPageSize(2))
	fill(t, s, listKeys())
	n := 0
	for _, err := range s.List(ctx, dokv.ListOptions{}) {
		require.NoError(t, err)
		n++
		if n == 5 {
			break
		}
	}
	require.Equal(t, 5, n)
}

func testListPerKey(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[int](t, ns)
	require.NoError(t, s.Set(ctx, "k", 1))
	calls := 0
	for e, err := range s.List(ctx, dokv.ListOptions{}) {
		calls++
		requireErrorIs(t, err, dokv.ErrUnsupported, "")
		assert.Equal(t, dokv.Entry[int]{}, e)
	}
	require.Equal(t, 1, calls, "the error is yielded once")
}

func testListNegativeLimit(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[int](t, ns, dokv.WithPartitioning(dokv.SingleObject("l")))
	var errs []error
	for _, err := range s.List(ctx, dokv.ListOptions{Limit: -1}) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	requireErrorIs(t, errs[0], dokv.ErrInvalidArgument, "")
}
