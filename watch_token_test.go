package dokv_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/dokvtest"
	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/worker"
)

const (
	tokenSecret = "0123456789abcdef0123456789abcdef" // 32 bytes, the least accepted
	tokenURL    = "https://app.example/jobs/watch"
)

var tokenEpoch = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

func newTokens(t *testing.T, secret string, clock *dokvtest.ManualClock) *dokv.WatchTokens {
	t.Helper()
	tokens, err := dokv.NewWatchTokens(secret, dokv.WithWatchTokenClock(clock.Now))
	require.NoError(t, err)
	return tokens
}

func newTokenStore(t *testing.T, ns dokv.Namespace, tokens *dokv.WatchTokens, opts ...dokv.Option) *dokv.Store[string] {
	t.Helper()
	s, err := dokv.New[string](ns, append(opts, dokv.WithWatchTokens(tokens))...)
	require.NoError(t, err)
	return s
}

func issue(t *testing.T, s *dokv.Store[string], key string, ttl time.Duration) string {
	t.Helper()
	token, err := s.WatchToken(key, ttl)
	require.NoError(t, err)
	return token
}

func watchURL(token string) string { return tokenURL + "?after=3&token=" + url.QueryEscape(token) }

// assertRefused checks that ServeWatch answered 401 with a JSON error and
// never reached the namespace's WebSocket forwarding.
func assertRefused(t *testing.T, w *worker.ResponseWriter, fw *forwarder, msgAndArgs ...any) {
	t.Helper()
	assert.Equal(t, 401, w.Status(), msgAndArgs...)
	assert.Equal(t, "application/json", w.Header("Content-Type"), msgAndArgs...)
	assert.Equal(t, `Bearer realm="dokv watch"`, w.Header("WWW-Authenticate"), msgAndArgs...)
	var body struct {
		Error string `json:"error"`
	}
	require.NoError(t, json.Unmarshal(w.Body(), &body), msgAndArgs...)
	assert.Contains(t, body.Error, "watch token refused", msgAndArgs...)
	assert.Empty(t, fw.url, "a refused watch reached the object")
}

// otherBinding is a second Durable Object binding: the same names give
// other IDs, as Cloudflare's namespaces do.
type otherBinding struct{ driver.Namespace }

func (otherBinding) IDFromName(name string) driver.ObjectID {
	return sha256.Sum256([]byte("another binding\x00" + name))
}

// A valid token gets past the check: in memory to the 501 of a namespace
// that cannot forward a WebSocket, on a forwarding namespace to the object,
// which is not told the token.
func TestServeWatch_ValidTokenReachesTheObject(t *testing.T) {
	clock := dokvtest.NewManualClock(tokenEpoch)
	tokens := newTokens(t, tokenSecret, clock)

	memory := newTokenStore(t, dokv.NewMemoryNamespace(), tokens)
	var w worker.ResponseWriter
	memory.ServeWatch(&w, upgrade(t, watchURL(issue(t, memory, "job-1", time.Minute))), "job-1")
	assert.Equal(t, 501, w.Status(), "%s", w.Body())

	fw := &forwarder{Namespace: dokv.NewMemoryNamespace()}
	s := newTokenStore(t, fw, tokens, dokv.WithPrefix("jobs/"))
	token := issue(t, s, "job-1", time.Minute)
	w = worker.ResponseWriter{}
	s.ServeWatch(&w, upgrade(t, watchURL(token)), "job-1")
	require.Equal(t, 101, w.Status(), "%s", w.Body())
	u, err := url.Parse(fw.url)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"key", "watched", "after"}, keys(u.Query()))
	assert.NotContains(t, fw.url, token)
	assert.NoError(t, s.CheckWatchToken("job-1", token))
}

func keys(q url.Values) []string {
	var ks []string
	for k := range q {
		ks = append(ks, k)
	}
	return ks
}

// Every way a token can be wrong is a 401, before the upgrade is handed to
// the object, and CheckWatchToken says why with ErrWatchToken.
func TestServeWatch_RefusedTokens(t *testing.T) {
	clock := dokvtest.NewManualClock(tokenEpoch)
	tokens := newTokens(t, tokenSecret, clock)
	otherSecret := newTokens(t, strings.Repeat("z", 64), clock)

	fw := &forwarder{Namespace: dokv.NewMemoryNamespace()}
	s := newTokenStore(t, fw, tokens, dokv.WithPrefix("jobs/"), dokv.WithPartitioning(dokv.HashShards(4)))
	fromStore := func(ns dokv.Namespace, tk *dokv.WatchTokens, opts ...dokv.Option) string {
		return issue(t, newTokenStore(t, ns, tk, opts...), "job-1", time.Minute)
	}
	valid := issue(t, s, "job-1", time.Minute)
	flipped := []byte(valid)
	flipped[10] ^= 'A' ^ 'B' // still base64url, another byte

	for _, c := range []struct {
		name  string
		token string
		key   string
	}{
		{"no token", "", "job-1"},
		{"not base64url", "not a token!", "job-1"},
		{"too short", valid[:len(valid)-4], "job-1"},
		{"too long", valid + "AAAA", "job-1"},
		{"padded", valid + "==", "job-1"},
		{"another key", valid, "job-2"},
		{"another prefix", fromStore(fw, tokens, dokv.WithPrefix("other/"), dokv.WithPartitioning(dokv.HashShards(4))), "job-1"},
		{"another partitioning", fromStore(fw, tokens, dokv.WithPrefix("jobs/"), dokv.WithPartitioning(dokv.PerKey())), "job-1"},
		{"another shard count", fromStore(fw, tokens, dokv.WithPrefix("jobs/"), dokv.WithPartitioning(dokv.HashShards(8))), "job-1"},
		{"another binding", fromStore(otherBinding{dokv.NewMemoryNamespace()}, tokens, dokv.WithPrefix("jobs/"), dokv.WithPartitioning(dokv.HashShards(4))), "job-1"},
		{"another secret", fromStore(fw, otherSecret, dokv.WithPrefix("jobs/"), dokv.WithPartitioning(dokv.HashShards(4))), "job-1"},
		{"tampered", string(flipped), "job-1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fw.url = ""
			var w worker.ResponseWriter
			s.ServeWatch(&w, upgrade(t, watchURL(c.token)), c.key)
			assertRefused(t, &w, fw)
			assert.ErrorIs(t, s.CheckWatchToken(c.key, c.token), dokv.ErrWatchToken)
		})
	}
	// The valid token itself still opens the watch: the refusals above
	// are the token's, not the store's.
	var w worker.ResponseWriter
	s.ServeWatch(&w, upgrade(t, watchURL(valid)), "job-1")
	assert.Equal(t, 101, w.Status())
}

// A token opens watches until its expiry, not from it on; the MAC covers
// the expiry, so a holder cannot extend it.
func TestServeWatch_ExpiredToken(t *testing.T) {
	clock := dokvtest.NewManualClock(tokenEpoch)
	fw := &forwarder{Namespace: dokv.NewMemoryNamespace()}
	s := newTokenStore(t, fw, newTokens(t, tokenSecret, clock))
	token := issue(t, s, "job-1", time.Minute)

	clock.Advance(time.Minute - time.Millisecond)
	require.NoError(t, s.CheckWatchToken("job-1", token))

	clock.Advance(time.Millisecond)
	err := s.CheckWatchToken("job-1", token)
	require.ErrorIs(t, err, dokv.ErrWatchToken)
	assert.Contains(t, err.Error(), "expired")
	var w worker.ResponseWriter
	s.ServeWatch(&w, upgrade(t, watchURL(token)), "job-1")
	assertRefused(t, &w, fw)

	// Moving the expiry a day on, in the token's own bytes, breaks its MAC.
	b, err := base64.RawURLEncoding.DecodeString(token)
	require.NoError(t, err)
	b[5]++ // the expiry's bytes 0-7 are big-endian milliseconds: +65.5 s
	err = s.CheckWatchToken("job-1", base64.RawURLEncoding.EncodeToString(b))
	require.ErrorIs(t, err, dokv.ErrWatchToken)
	assert.NotContains(t, err.Error(), "expired")
}

const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// Property: for random keys, stores and times, a token verifies for its
// key, and replacing any one of its characters with any other character
// of the alphabet (or flipping any bit of its bytes) makes it refused,
// including the last character's spare bits, which a lax base64 decoder
// would ignore.
func TestWatchToken_EveryAlterationIsRefused(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	clock := dokvtest.NewManualClock(tokenEpoch.Add(time.Duration(rng.Int64N(int64(1000 * 24 * time.Hour)))))
	tokens := newTokens(t, randomString(rng, 32+rng.IntN(32), tokenAlphabet), clock)
	fw := &forwarder{Namespace: dokv.NewMemoryNamespace()}
	partitionings := []dokv.Partitioning{dokv.PerKey(), dokv.HashShards(1 + rng.IntN(16)), dokv.SingleObject("one"), dokv.ObjectNamedByKey()}

	for range 25 {
		s := newTokenStore(t, fw, tokens,
			dokv.WithPrefix(randomString(rng, rng.IntN(8), "ab/{}")),
			dokv.WithPartitioning(partitionings[rng.IntN(len(partitionings))]))
		key := "k" + randomString(rng, rng.IntN(40), "ab/{}é中 %&+=?\x00")
		token := issue(t, s, key, time.Duration(1+rng.Int64N(int64(dokv.MaxWatchTokenTTL))))
		require.Len(t, token, 54)
		require.Empty(t, strings.Trim(token, tokenAlphabet), "not base64url: %s", token)
		require.NoError(t, s.CheckWatchToken(key, token), "key %q", key)
		require.ErrorIs(t, s.CheckWatchToken(key+"x", token), dokv.ErrWatchToken)

		for i := range len(token) {
			for _, c := range tokenAlphabet {
				if byte(c) == token[i] {
					continue
				}
				altered := token[:i] + string(c) + token[i+1:]
				require.ErrorIs(t, s.CheckWatchToken(key, altered), dokv.ErrWatchToken, "token %s altered at %d to %c", token, i, c)
			}
		}
		raw, err := base64.RawURLEncoding.DecodeString(token)
		require.NoError(t, err)
		for i := range raw {
			for bit := range 8 {
				b := []byte(string(raw))
				b[i] ^= 1 << bit
				require.ErrorIs(t, s.CheckWatchToken(key, base64.RawURLEncoding.EncodeToString(b)), dokv.ErrWatchToken, "byte %d bit %d", i, bit)
			}
		}
		// And through ServeWatch, one alteration per character.
		for i := range len(token) {
			fw.url = ""
			altered := []byte(token)
			altered[i] = tokenAlphabet[(strings.IndexByte(tokenAlphabet, token[i])+1+rng.IntN(63))%64]
			var w worker.ResponseWriter
			s.ServeWatch(&w, upgrade(t, watchURL(string(altered))), key)
			assertRefused(t, &w, fw, "token %s altered at %d", token, i)
		}
	}
}

func randomString(rng *rand.Rand, n int, alphabet string) string {
	runes := []rune(alphabet)
	var b strings.Builder
	for range n {
		b.WriteRune(runes[rng.IntN(len(runes))])
	}
	return b.String()
}

// The secret must be long enough to be a secret, as the admin secret must.
func TestNewWatchTokens_Refusals(t *testing.T) {
	for _, secret := range []string{"", "short", tokenSecret[:31]} {
		_, err := dokv.NewWatchTokens(secret)
		require.ErrorIs(t, err, dokv.ErrInvalidArgument, "secret of %d bytes", len(secret))
		assert.Contains(t, err.Error(), "at least 32")
	}
	_, err := dokv.NewWatchTokens(tokenSecret)
	require.NoError(t, err)
	_, err = dokv.NewWatchTokens(tokenSecret, dokv.WithWatchTokenClock(nil))
	require.ErrorIs(t, err, dokv.ErrInvalidArgument)
	_, err = dokv.New[string](dokv.NewMemoryNamespace(), dokv.WithWatchTokens(nil))
	require.ErrorIs(t, err, dokv.ErrInvalidArgument)
}

func TestStore_WatchToken_Arguments(t *testing.T) {
	clock := dokvtest.NewManualClock(tokenEpoch)
	s := newTokenStore(t, dokv.NewMemoryNamespace(), newTokens(t, tokenSecret, clock), dokv.WithPartitioning(dokv.ObjectNamedByKey()))
	for _, key := range []string{"", strings.Repeat("k", dokv.MaxKeyBytes+1), "\xff", "dokv/reserved"} {
		_, err := s.WatchToken(key, time.Minute)
		assert.ErrorIs(t, err, dokv.ErrInvalidKey, "key %q", key)
	}
	for _, ttl := range []time.Duration{0, -time.Second, dokv.MaxWatchTokenTTL + time.Nanosecond} {
		_, err := s.WatchToken("k", ttl)
		assert.ErrorIs(t, err, dokv.ErrInvalidArgument, "ttl %v", ttl)
	}
	token, err := s.WatchToken("k", dokv.MaxWatchTokenTTL)
	require.NoError(t, err)
	clock.Advance(dokv.MaxWatchTokenTTL - time.Millisecond)
	assert.NoError(t, s.CheckWatchToken("k", token))
}

// A store without WithWatchTokens serves watches as before, token or
// not, and neither issues nor checks tokens.
func TestServeWatch_WithoutTokens(t *testing.T) {
	s, err := dokv.New[string](dokv.NewMemoryNamespace())
	require.NoError(t, err)
	for _, target := range []string{tokenURL, watchURL("garbage")} {
		var w worker.ResponseWriter
		s.ServeWatch(&w, upgrade(t, target), "job-1")
		assert.Equal(t, 501, w.Status(), target)
	}
	_, err = s.WatchToken("job-1", time.Minute)
	assert.ErrorIs(t, err, dokv.ErrUnsupported)
	assert.ErrorIs(t, s.CheckWatchToken("job-1", "x"), dokv.ErrUnsupported)
}

// A store's identity is the record a watch opens, so two stores of other
// value types over the same prefix and partitioning, which read the same
// records, accept each other's tokens.
func TestWatchToken_SameRecordsSameStore(t *testing.T) {
	clock := dokvtest.NewManualClock(tokenEpoch)
	tokens := newTokens(t, tokenSecret, clock)
	ns := dokv.NewMemoryNamespace()
	strs := newTokenStore(t, ns, tokens, dokv.WithPrefix("jobs/"))
	ints, err := dokv.New[int](ns, dokv.WithPrefix("jobs/"), dokv.WithWatchTokens(tokens))
	require.NoError(t, err)
	token, err := ints.WatchToken("job-1", time.Minute)
	require.NoError(t, err)
	assert.NoError(t, strs.CheckWatchToken("job-1", token))
}

// Under ObjectNamedByKey, stores with other prefixes share the object named
// by the key, each with its own record in it: a token of one does not open
// the other's. The prefixes have one length, so that only their bytes in
// the stored key can tell the stores apart.
func TestWatchToken_ObjectNamedByKeyPrefixesAreApart(t *testing.T) {
	clock := dokvtest.NewManualClock(tokenEpoch)
	tokens := newTokens(t, tokenSecret, clock)
	fw := &forwarder{Namespace: dokv.NewMemoryNamespace()}
	uploads := newTokenStore(t, fw, tokens, dokv.WithPrefix("uploads/"), dokv.WithPartitioning(dokv.ObjectNamedByKey()))
	flows := newTokenStore(t, fw, tokens, dokv.WithPrefix("flowjob/"), dokv.WithPartitioning(dokv.ObjectNamedByKey()))
	require.Equal(t, uploads.ObjectName("id-1"), flows.ObjectName("id-1"))

	token := issue(t, uploads, "id-1", time.Minute)
	require.NoError(t, uploads.CheckWatchToken("id-1", token))
	var w worker.ResponseWriter
	flows.ServeWatch(&w, upgrade(t, watchURL(token)), "id-1")
	assertRefused(t, &w, fw)
}
