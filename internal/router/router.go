// Package router maps a store's keys to object names and stored keys.
//
// Both mappings embed the store's prefix in a length-prefixed form, so that
// (prefix "a", key "b/c") and (prefix "a/b", key "c") never meet: not in an
// object name, not in a stored key.
package router

import (
	"strconv"
	"strings"
)

// Scheme is how a store spreads its keys over objects.
type Scheme int

// Schemes.
const (
	PerKey Scheme = iota // one object per key (or per hash tag)
	Single               // every key in one named object
	Shards               // keys hashed over a fixed number of objects
	Named                // one object per key, named by the key itself, holding one record per store
)

// Router maps keys of one store to objects. Build one with New; the zero
// value has no encoded prefix and must not be used.
type Router struct {
	scheme Scheme
	name   string // Single
	shards int    // Shards
	space  string // the encoded prefix, shared by object names and stored keys
}

// New returns a router for the scheme. name is used by Single, shards by
// Shards; the caller validates them.
func New(scheme Scheme, name string, shards int, prefix string) Router {
	return Router{scheme: scheme, name: name, shards: shards, space: encodePrefix(prefix)}
}

// encodePrefix writes a prefix as its length, a colon and its bytes: an
// encoding that no other prefix shares and that no key can extend into.
func encodePrefix(prefix string) string {
	return strconv.Itoa(len(prefix)) + ":" + prefix
}

// Scheme reports the router's scheme.
func (r Router) Scheme() Scheme { return r.scheme }

// StoredKey is the key an object stores for the user's key. Under Named,
// where the object's name is the key, it is the encoded prefix alone: each
// object holds one record per store.
func (r Router) StoredKey(key string) string {
	if r.scheme == Named {
		return r.space
	}
	return r.space + key
}

// UserKey reverses StoredKey. ok is false for a key outside the store.
func (r Router) UserKey(stored string) (key string, ok bool) {
	return strings.CutPrefix(stored, r.space)
}

// StoredPrefix is the stored-key prefix of all user keys that start with
// prefix.
func (r Router) StoredPrefix(prefix string) string { return r.space + prefix }

// OwnNamePrefix starts the name of every object dokv names itself (PerKey,
// Single, Shards). Under Named, where the name is the user's key, a key
// with this prefix is refused (see Reserved), so that no such store reaches
// an object of another store.
const OwnNamePrefix = "dokv/"

// Reserved reports whether key may not be used under the router's scheme:
// under Named, a key that would name one of dokv's own objects.
func (r Router) Reserved(key string) bool {
	return r.scheme == Named && strings.HasPrefix(key, OwnNamePrefix)
}

// ObjectName names the object that holds key.
func (r Router) ObjectName(key string) string {
	switch r.scheme {
	case Single:
		return r.singleName()
	case Shards:
		return r.shardName(JumpHash(Hash64(HashTag(key)), r.shards))
	case Named:
		return key
	default:
		return OwnNamePrefix + r.space + "/key/" + HashTag(key)
	}
}

// Objects names every object of the store, in shard order, for List. It is
// nil under PerKey and Named, whose objects cannot be enumerated.
func (r Router) Objects() []string {
	switch r.scheme {
	case Single:
		return []string{r.singleName()}
	case Shards:
		names := make([]string, r.shards)
		for i := range names {
			names[i] = r.shardName(i)
		}
		return names
	default:
		return nil
	}
}

func (r Router) singleName() string {
	return OwnNamePrefix + r.space + "/single/" + r.name
}

// shardName includes the shard count: a store resharded to another count is
// a different set of objects, never a half-visible mix of old placements.
func (r Router) shardName(i int) string {
	return OwnNamePrefix + r.space + "/shard/" + strconv.Itoa(r.shards) + "/" + strconv.Itoa(i)
}

// HashTag returns the part of key that routing hashes: the text between the
// first '{' and the next '}' when that is non-empty, else the whole key.
// These are Redis Cluster's rules, so "{upload-1}/meta" and
// "{upload-1}/chunk/7" share an object.
func HashTag(key string) string {
	open := strings.IndexByte(key, '{')
	if open < 0 {
		return key
	}
	closing := strings.IndexByte(key[open+1:], '}')
	if closing <= 0 {
		return key
	}
	return key[open+1 : open+1+closing]
}

// Hash64 is a stable 64-bit hash: FNV-1a, then a SplitMix64 finalizer so
// that similar keys spread over all bits. It must never change, or stored
// data would move to other shards.
func Hash64(s string) uint64 {
	x := uint64(14695981039346656037) // FNV-1a offset basis
	for i := 0; i < len(s); i++ {
		x ^= uint64(s[i])
		x *= 1099511628211 // FNV-1a prime
	}
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// JumpHash maps key to a bucket in [0, buckets) with Lamping and Veach's
// jump consistent hash: growing the bucket count moves only the keys that
// must move.
func JumpHash(key uint64, buckets int) int {
	var b, j int64 = -1, 0
	for j < int64(buckets) {
		b = j
		key = key*2862933555777941757 + 1
		j = int64(float64(b+1) * (float64(int64(1)<<31) / float64((key>>33)+1)))
	}
	return int(b)
}
