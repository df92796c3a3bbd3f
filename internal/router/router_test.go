package router

import (
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHashTag_RedisRules(t *testing.T) {
	for _, tc := range []struct{ key, want string }{
		{"{a}b", "a"},
		{"a{}b", "a{}b"},   // empty tag: the whole key
		{"{}{a}", "{}{a}"}, // only the first '{' counts, and its tag is empty
		{"a{b", "a{b"},     // no closing brace
		{"a}b{", "a}b{"},   // a '}' before the '{' does not close it
		{"x{y}z{w}", "y"},  // the first tag wins
		{"{upload-1}/meta", "upload-1"},
		{"{upload-1}/chunk/7", "upload-1"},
		{"pre{{x}}", "{x"}, // the tag runs from the first '{' to the next '}'
		{"{a}", "a"},
		{"{", "{"},
		{"}", "}"},
		{"", ""},
		{"plain", "plain"},
		{"{日本}/ü", "日本"},
	} {
		assert.Equal(t, tc.want, HashTag(tc.key), "HashTag(%q)", tc.key)
	}
}

func TestObjectName_SameTagSameObject(t *testing.T) {
	keys := []string{"{upload-1}/meta", "{upload-1}/chunk/7", "x{upload-1}", "upload-1", "{upload-1}{other}"}
	for _, r := range []Router{
		New(PerKey, "", 0, ""),
		New(PerKey, "", 0, "app"),
		New(Shards, "", 16, "app"),
		New(Shards, "", 1000, ""),
		New(Single, "main", 0, "app"),
	} {
		want := r.ObjectName(keys[0])
		for _, k := range keys[1:] {
			assert.Equal(t, want, r.ObjectName(k), "scheme %d key %q", r.Scheme(), k)
		}
	}
}

func TestObjectName_PerKeyDistinctKeys(t *testing.T) {
	r := New(PerKey, "", 0, "app")
	seen := map[string]string{}
	for _, k := range []string{"a", "b", "a/b", "a{}", "{}a", "{a", "A", "ü", "a ", " a"} {
		name := r.ObjectName(k)
		prev, dup := seen[name]
		require.False(t, dup, "%q and %q share object %q", prev, k, name)
		seen[name] = k
	}
}

func TestObjectName_Golden(t *testing.T) {
	// Object names are where data lives: a change here strands stored data.
	shards := New(Shards, "", 16, "app")
	assert.Equal(t, "dokv/3:app/shard/16/1", shards.ObjectName("user:1"))
	assert.Equal(t, "dokv/3:app/shard/16/12", shards.ObjectName("user:2"))
	assert.Equal(t, "dokv/3:app/shard/16/6", shards.ObjectName("{upload-1}/meta"))
	assert.Equal(t, "dokv/3:app/shard/16/9", shards.ObjectName("ключ"))
	assert.Equal(t, "dokv/3:app/key/t", New(PerKey, "", 0, "app").ObjectName("{t}x"))
	assert.Equal(t, "dokv/0:/key/k", New(PerKey, "", 0, "").ObjectName("k"))
	assert.Equal(t, "dokv/3:app/single/main", New(Single, "main", 0, "app").ObjectName("{t}x"))
	assert.Equal(t, "3:appk", New(PerKey, "", 0, "app").StoredKey("k"))
}

func TestObjectName_SingleIgnoresKey(t *testing.T) {
	r := New(Single, "main", 0, "p")
	want := r.ObjectName("a")
	for _, k := range []string{"b", "{x}y", "ü", ""} {
		assert.Equal(t, want, r.ObjectName(k))
	}
	assert.NotEqual(t, want, New(Single, "other", 0, "p").ObjectName("a"))
}

func TestRouter_PrefixIsolation(t *testing.T) {
	for _, scheme := range []Scheme{PerKey, Single, Shards} {
		a := New(scheme, "main", 4, "a")
		ab := New(scheme, "main", 4, "a/b")
		assert.NotEqual(t, a.StoredKey("b/c"), ab.StoredKey("c"), "scheme %d", scheme)
		assert.NotEqual(t, a.ObjectName("b/c"), ab.ObjectName("c"), "scheme %d", scheme)
		assert.NotEqual(t, a.StoredPrefix("b/"), ab.StoredPrefix(""), "scheme %d", scheme)
		_, ok := ab.UserKey(a.StoredKey("b/c"))
		assert.False(t, ok, "scheme %d", scheme)
		_, ok = a.UserKey(ab.StoredKey("c"))
		assert.False(t, ok, "scheme %d", scheme)
	}
}

func TestRouter_PrefixIsolationEverySplit(t *testing.T) {
	// Split one string into (prefix, key) at every point, including the
	// points that make the prefix look like an encoded prefix: no two
	// splits may share a stored key or a per-key object.
	for _, whole := range []string{"a/b/c", "1:a2:b", "0:x", "3:abc{t}d"} {
		stored := map[string]int{}
		objects := map[string]int{}
		for i := 0; i <= len(whole); i++ {
			r := New(PerKey, "", 0, whole[:i])
			key := whole[i:]
			sk := r.StoredKey(key)
			if j, dup := stored[sk]; dup {
				t.Errorf("%q: splits %d and %d share stored key %q", whole, j, i, sk)
			}
			stored[sk] = i
			if key == "" {
				continue
			}
			on := r.ObjectName(key)
			if j, dup := objects[on]; dup {
				t.Errorf("%q: splits %d and %d share object %q", whole, j, i, on)
			}
			objects[on] = i
		}
	}
}

func TestRouter_SchemesDoNotShareObjects(t *testing.T) {
	// A store's PerKey, Single and Shards objects never coincide, even
	// when the key or name mimics another scheme's naming.
	perKey := New(PerKey, "", 0, "p")
	single := New(Single, "0", 0, "p")
	shards := New(Shards, "", 1, "p")
	names := []string{single.ObjectName("k"), shards.ObjectName("k"), perKey.ObjectName("k")}
	assert.Len(t, slices.Compact(slices.Sorted(slices.Values(names))), 3, "%v", names)
	// Resharding changes every name.
	assert.NotEqual(t, New(Shards, "", 1, "p").Objects()[0], New(Shards, "", 2, "p").Objects()[0])
}

func TestUserKey_RoundTrip(t *testing.T) {
	for _, prefix := range []string{"", "a", "a/b", "日本", "1:x", strings.Repeat("p", 100)} {
		r := New(Shards, "", 8, prefix)
		for _, key := range []string{"k", "", "b/c", "ключ/🙂", "{tag}rest", "3:abc"} {
			got, ok := r.UserKey(r.StoredKey(key))
			require.True(t, ok, "prefix %q key %q", prefix, key)
			assert.Equal(t, key, got)
		}
	}
}

func TestUserKey_RejectsOtherPrefixes(t *testing.T) {
	r := New(Single, "main", 0, "a")
	for _, stored := range []string{
		New(Single, "main", 0, "").StoredKey("ak"),
		New(Single, "main", 0, "ab").StoredKey("k"),
		New(Single, "main", 0, "b").StoredKey("k"),
		New(Single, "main", 0, "aa").StoredKey("k"),
		"k",
		"",
		"1:", // shorter than the encoded prefix "1:a"
	} {
		_, ok := r.UserKey(stored)
		assert.False(t, ok, "stored key %q", stored)
	}
}

func TestStoredPrefix_MatchesStoredKeys(t *testing.T) {
	r := New(Shards, "", 4, "app")
	for _, tc := range []struct {
		prefix, key string
		match       bool
	}{
		{"", "k", true},
		{"user/", "user/1", true},
		{"user/", "user", false},
		{"user/", "users/1", false},
		{"日", "日本", true},
	} {
		got := strings.HasPrefix(r.StoredKey(tc.key), r.StoredPrefix(tc.prefix))
		assert.Equal(t, tc.match, got, "prefix %q key %q", tc.prefix, tc.key)
	}
	// Another store's keys never fall under this store's prefix.
	other := New(Shards, "", 4, "ap")
	assert.False(t, strings.HasPrefix(other.StoredKey("puser/1"), r.StoredPrefix("")))
}

func TestRouter_ZeroValueIsPerKey(t *testing.T) {
	var r Router
	assert.Equal(t, PerKey, r.Scheme())
	assert.Nil(t, r.Objects())
	assert.Equal(t, r.ObjectName("{t}a"), r.ObjectName("{t}b"))
	assert.NotEqual(t, r.ObjectName("a"), r.ObjectName("b"))
}

func TestRouter_Scheme(t *testing.T) {
	for _, s := range []Scheme{PerKey, Single, Shards} {
		assert.Equal(t, s, New(s, "n", 2, "p").Scheme())
	}
}

func TestObjects_ListsShardsInOrder(t *testing.T) {
	r := New(Shards, "", 5, "app")
	want := []string{
		"dokv/3:app/shard/5/0", "dokv/3:app/shard/5/1", "dokv/3:app/shard/5/2",
		"dokv/3:app/shard/5/3", "dokv/3:app/shard/5/4",
	}
	assert.Equal(t, want, r.Objects())

	assert.Equal(t, []string{"dokv/3:app/single/main"}, New(Single, "main", 0, "app").Objects())
	assert.Nil(t, New(PerKey, "", 0, "app").Objects())
}

func TestObjectName_ShardsAreInObjects(t *testing.T) {
	for _, n := range []int{1, 2, 7, 16, 100} {
		r := New(Shards, "", n, "s")
		objects := r.Objects()
		require.Len(t, objects, n)
		used := map[string]bool{}
		for i := range 2000 {
			name := r.ObjectName("key-" + strconv.Itoa(i))
			require.Contains(t, objects, name, "%d shards", n)
			used[name] = true
		}
		assert.Len(t, used, n, "2000 keys should reach every one of %d shards", n)
	}
}

func TestJumpHash_PublishedVectors(t *testing.T) {
	// Values from other implementations of Lamping and Veach's algorithm.
	for _, tc := range []struct {
		key     uint64
		buckets int
		want    int
	}{
		{1, 1, 0},
		{1, 10, 6},
		{1, 100, 55},
		{2, 100, 62},
		{100, 20, 4},
		{0xdeadbeef, 1000, 285},
		{10863919174838991, 11, 6},
		{2016238256797177309, 11, 3},
	} {
		assert.Equal(t, tc.want, JumpHash(tc.key, tc.buckets), "JumpHash(%d, %d)", tc.key, tc.buckets)
	}
}

func TestJumpHash_Golden(t *testing.T) {
	// Pinned once: a change of hash function moves stored data.
	for _, tc := range []struct {
		key          string
		hash         uint64
		of16, of1000 int
	}{
		{"", 0xf52a15e9a9b5e89b, 11, 978},
		{"a", 0x02c0bdbf481420f8, 9, 572},
		{"foo", 0x6c2fe7703e1b0bca, 10, 937},
		{"upload-1", 0x5d7868683b7644dc, 6, 32},
		{"dokv", 0x5468db1a34a2a4e4, 1, 638},
	} {
		assert.Equal(t, tc.hash, Hash64(tc.key), "Hash64(%q)", tc.key)
		assert.Equal(t, tc.of16, JumpHash(Hash64(tc.key), 16), "key %q", tc.key)
		assert.Equal(t, tc.of1000, JumpHash(Hash64(tc.key), 1000), "key %q", tc.key)
	}
}

func TestJumpHash_InRange(t *testing.T) {
	keys := []uint64{0, 1, math.MaxUint64, 1 << 63, 0xdeadbeef}
	for i := range 1000 {
		keys = append(keys, Hash64(strconv.Itoa(i)))
	}
	for _, n := range []int{1, 2, 3, 10, 16, 1000, math.MaxInt32} {
		for _, k := range keys {
			b := JumpHash(k, n)
			require.GreaterOrEqual(t, b, 0, "JumpHash(%d, %d)", k, n)
			require.Less(t, b, n, "JumpHash(%d, %d)", k, n)
		}
	}
}

func TestJumpHash_OneBucket(t *testing.T) {
	for _, k := range []uint64{0, 1, 42, math.MaxUint64} {
		assert.Equal(t, 0, JumpHash(k, 1))
	}
}

func TestJumpHash_MinimalMovement(t *testing.T) {
	const keys = 10000
	for _, n := range []int{1, 2, 3, 7, 15, 16, 99} {
		moved := 0
		for i := range keys {
			k := Hash64("key-" + strconv.Itoa(i))
			before, after := JumpHash(k, n), JumpHash(k, n+1)
			if before != after {
				// A key that moves, moves to the new bucket.
				require.Equal(t, n, after, "key %d moved from %d to %d growing %d to %d buckets", i, before, after, n, n+1)
				moved++
			}
		}
		p := 1 / float64(n+1)
		want := keys * p
		sigma := math.Sqrt(keys * p * (1 - p))
		assert.InDelta(t, want, float64(moved), 5*sigma, "growing %d to %d buckets moved %d of %d keys", n, n+1, moved, keys)
	}
}

func TestHash64_IsFNV1aWithSplitMix64Finalizer(t *testing.T) {
	// The finalizer of SplitMix64: its first output from seed 0 is a
	// published constant.
	mix := func(x uint64) uint64 {
		x ^= x >> 30
		x *= 0xbf58476d1ce4e5b9
		x ^= x >> 27
		x *= 0x94d049bb133111eb
		x ^= x >> 31
		return x
	}
	require.Equal(t, uint64(0xe220a8397b1dcdaf), mix(0x9e3779b97f4a7c15))
	for _, s := range []string{"", "a", "ab", "hello world", "ключ", "{t}x", strings.Repeat("z", 1000)} {
		h := fnv.New64a()
		h.Write([]byte(s))
		assert.Equal(t, mix(h.Sum64()), Hash64(s), "Hash64(%q)", s)
	}
}

func TestHash64_DistributionOver16Shards(t *testing.T) {
	const keys, shards = 100_000, 16
	byModulo := make([]int, shards)
	byJump := make([]int, shards)
	for i := range keys {
		h := Hash64(fmt.Sprintf("user:%d", i))
		byModulo[h%shards]++
		byJump[JumpHash(h, shards)]++
	}
	mean := float64(keys) / shards
	for i := range shards {
		assert.InEpsilon(t, mean, float64(byModulo[i]), 0.15, "shard %d by modulo: %v", i, byModulo)
		assert.InEpsilon(t, mean, float64(byJump[i]), 0.15, "shard %d by jump hash: %v", i, byJump)
	}
}

func TestHash64_SimilarKeysDiffer(t *testing.T) {
	// The finalizer spreads one-byte differences over the high bits that
	// JumpHash uses first.
	seen := map[uint64]bool{}
	highBits := map[uint64]bool{}
	for i := range 256 {
		h := Hash64("key" + string(rune(i)))
		require.False(t, seen[h])
		seen[h] = true
		highBits[h>>56] = true
	}
	assert.Greater(t, len(highBits), 100, "256 similar keys should spread over the top byte")
}

// FuzzObjectName checks that routing never panics, that keys with the same
// hash tag share an object, and that stored keys round-trip.
func FuzzObjectName(f *testing.F) {
	f.Add("", "k", "rest", uint8(16))
	f.Add("app", "{upload-1}/meta", "/chunk/7", uint8(1))
	f.Add("a/b", "x{y}z{w}", "", uint8(3))
	f.Add("1:a", "{}{a}", "{", uint8(0))
	f.Add("日本", "a{b", "}", uint8(255))
	f.Add("p", "{{x}}", "y", uint8(7))

	f.Fuzz(func(t *testing.T, prefix, key, suffix string, n uint8) {
		shards := int(n)%64 + 1
		routers := []Router{
			New(PerKey, "", 0, prefix),
			New(Single, "main", 0, prefix),
			New(Shards, "", shards, prefix),
		}
		tag := HashTag(key)
		require.True(t, strings.Contains(key, tag))
		for _, r := range routers {
			name := r.ObjectName(key)
			require.NotEmpty(t, name)
			got, ok := r.UserKey(r.StoredKey(key))
			require.True(t, ok)
			require.Equal(t, key, got)
			if objects := r.Objects(); objects != nil {
				require.Contains(t, objects, name)
			}
			// Any key tagged with key's tag shares its object.
			if tag != "" && !strings.Contains(tag, "}") {
				other := "{" + tag + "}" + suffix
				require.Equal(t, tag, HashTag(other))
				require.Equal(t, name, r.ObjectName(other), "%q and %q", key, other)
			}
		}
	})
}

// Under Named, the object is named by the key itself and holds one record
// per store: the store's encoded prefix.
func TestRouter_NamedUsesTheKeyAsTheObjectName(t *testing.T) {
	r := New(Named, "", 0, "uploadista:flow-job:")
	for _, key := range []string{"job-1", "{tag}/x", "dokv/0:/key/k"} {
		assert.Equal(t, key, r.ObjectName(key), "the whole key, hash tags included")
		assert.Equal(t, "20:uploadista:flow-job:", r.StoredKey(key))
	}
	assert.Nil(t, r.Objects(), "the objects cannot be enumerated")
	other := New(Named, "", 0, "uploadista:upload-file:")
	assert.Equal(t, r.ObjectName("id-7"), other.ObjectName("id-7"), "two stores meet in one object per key")
	assert.NotEqual(t, r.StoredKey("id-7"), other.StoredKey("id-7"), "but keep a record each")
}
