package dokvtest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/driver"
)

func isolationBehaviours() []behaviour {
	return []behaviour{
		{"Prefix/StoresDoNotSeeEachOther", testPrefixIsolation},
		{"Prefix/MappingIsUnambiguous", testPrefixUnambiguous},
		{"Prefix/AdversarialKeysStayInTheirStore", testPrefixAdversarial},
		{"Namespace/IDFromNameIsDeterministic", testIDFromName},
	}
}

func testPrefixIsolation(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	for _, part := range partitionings() {
		t.Run(part.name, func(t *testing.T) {
			a := newStore[string](t, ns, dokv.WithPrefix("a/"), dokv.WithPartitioning(part.p))
			b := newStore[string](t, ns, dokv.WithPrefix("b/"), dokv.WithPartitioning(part.p))
			require.NoError(t, a.Set(ctx, "shared", "from a"))
			require.NoError(t, a.Set(ctx, "only-a", "from a"))

			requireAbsent(t, ctx, b, "shared")
			requireAbsent(t, ctx, b, "only-a")
			require.NoError(t, b.Set(ctx, "shared", "from b"))
			require.NoError(t, b.Delete(ctx, "only-a"), "deleting b's missing key")

			got, err := a.Get(ctx, "shared")
			require.NoError(t, err)
			assert.Equal(t, "from a", got, "b's write did not reach a")
			_, err = a.Get(ctx, "only-a")
			require.NoError(t, err, "b's delete did not reach a")

			// A transaction conditioned on absence in b succeeds although a
			// holds the key.
			_, err = b.Txn().SetIf("{t}only-a", 0, "b").Commit(ctx)
			require.NoError(t, err)

			if part.p.String() != dokv.PerKey().String() {
				assert.Equal(t, []string{"only-a", "shared"}, keysOf(collect(t, ctx, a, dokv.ListOptions{})))
				assert.Equal(t, []string{"shared", "{t}only-a"}, keysOf(collect(t, ctx, b, dokv.ListOptions{})))
			}
		})
	}
}

// testPrefixUnambiguous: prefix "a" with key "b/c" and prefix "a/b" with key
// "c" concatenate to the same string, and must still be different keys.
func testPrefixUnambiguous(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	for _, part := range partitionings() {
		t.Run(part.name, func(t *testing.T) {
			s1 := newStore[string](t, ns, dokv.WithPrefix("a"), dokv.WithPartitioning(part.p))
			s2 := newStore[string](t, ns, dokv.WithPrefix("a/b"), dokv.WithPartitioning(part.p))
			s3 := newStore[string](t, ns, dokv.WithPartitioning(part.p))
			require.NoError(t, s1.Set(ctx, "b/c", "one"))
			requireAbsent(t, ctx, s2, "c")
			requireAbsent(t, ctx, s3, "ab/c")
			requireAbsent(t, ctx, s3, "a/b/c")
			require.NoError(t, s2.Set(ctx, "c", "two"))
			got, err := s1.Get(ctx, "b/c")
			require.NoError(t, err)
			assert.Equal(t, "one", got)
		})
	}
}

func testIDFromName(t *testing.T, ns driver.Namespace) {
	a1, a2, b := ns.IDFromName("a"), ns.IDFromName("a"), ns.IDFromName("b")
	assert.Equal(t, a1, a2)
	assert.NotEqual(t, a1, b)
	assert.Regexp(t, `^[0-9a-f]{64}$`, a1.String())
	parsed, err := driver.ParseObjectID(a1.String())
	require.NoError(t, err)
	assert.Equal(t, a1, parsed)
}

// adversarialPrefixes are prefix pairs chosen to collide under a naive
// encoding: one a prefix of the other, separators, the length-prefix
// encoding's own colon and digits, hash-tag braces, and Unicode
// look-alikes (Latin a and Cyrillic а, composed and decomposed é).
func adversarialPrefixes() [][2]string {
	return [][2]string{
		{"tenant", "tenant/"},
		{"t:", "t"},
		{"1:a", "3:1:a"},
		{"{t}", "{t"},
		{"a", "\u0430"},       // Latin a, Cyrillic а
		{"\u00e9", "e\u0301"}, // é composed, e + combining acute
		{"", "0:"},
	}
}

// adversarialKeys are keys that try to reach into another store: keys that
// spell out another prefix's encoding, braces, separators, and the longest
// key.
func adversarialKeys() []string {
	return []string{
		"k", "/k", ":k", "0:k", "6:tenant/k", "{t}k", "{k}", "{}", "}{", "\u0430k",
		strings.Repeat("x", dokv.MaxKeyBytes),
		strings.Repeat("{", dokv.MaxKeyBytes),
	}
}

func testPrefixAdversarial(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	for _, pair := range adversarialPrefixes() {
		for _, part := range []dokv.Partitioning{dokv.SingleObject("iso"), dokv.HashShards(3), dokv.PerKey()} {
			a := newStore[string](t, ns, dokv.WithPrefix(pair[0]), dokv.WithPartitioning(part))
			b := newStore[string](t, ns, dokv.WithPrefix(pair[1]), dokv.WithPartitioning(part))
			for _, key := range adversarialKeys() {
				require.NoError(t, a.Set(ctx, key, "a"), "%q %q", pair[0], key)
				_, err := b.Get(ctx, key)
				require.ErrorIs(t, err, dokv.ErrNotFound, "prefix %q reads %q of prefix %q", pair[1], key, pair[0])
				_, err = b.CompareAndSwap(ctx, key, 0, "b")
				require.NoError(t, err, "b's own key %q is absent, so a create succeeds", key)
				require.NoError(t, b.Delete(ctx, key))
				got, err := a.Get(ctx, key)
				require.NoError(t, err)
				require.Equal(t, "a", got, "prefix %q changed %q of prefix %q", pair[1], key, pair[0])
			}
			if part.String() != dokv.PerKey().String() {
				require.Empty(t, collect(t, ctx, b, dokv.ListOptions{}), "b lists a's keys (%q vs %q)", pair[1], pair[0])
				require.Len(t, collect(t, ctx, a, dokv.ListOptions{}), len(adversarialKeys()))
			}
			for _, key := range adversarialKeys() {
				require.NoError(t, a.Delete(ctx, key))
			}
		}
	}
}
