package dokv

import (
	"context"
	"time"

	"github.com/dokv/dokv/internal/listing"
	"github.com/dokv/dokv/internal/protocol"
)

// StorageWarnBytes is the storage size at which Stats flags an object as
// near its limit: 80 % of the 10 GB that Cloudflare allows one
// SQLite-backed Durable Object.
const StorageWarnBytes = 8_000_000_000

// ObjectStats are the figures of one object, as a store sees it. Its JSON
// names are camelCase, and NextAlarm is left out when no alarm is due.
type ObjectStats struct {
	// Object is the object's name.
	Object string `json:"object"`
	// Keys counts the store's keys in the object, and Bytes their stored
	// keys' and values' bytes (other stores sharing the object are not
	// counted).
	Keys  int64 `json:"keys"`
	Bytes int64 `json:"bytes"`
	// StorageBytes is the object's whole storage, every store's keys
	// included: SQLite's database size on Workers, the bytes of every key
	// and value in memory.
	StorageBytes int64 `json:"storageBytes"`
	// NewestVersion is the newest version the object handed out.
	NewestVersion uint64 `json:"newestVersion"`
	// NextAlarm is when the object's alarm next removes expired keys (of
	// any store in it); the zero Time when none is due.
	NextAlarm time.Time `json:"nextAlarm,omitzero"`
	// NearLimit is set when StorageBytes has reached StorageWarnBytes.
	NearLimit bool `json:"nearLimit"`
}

// StoreStats are the figures of every object of a store, and their sums.
// Its JSON names are camelCase, and NextAlarm is left out when no alarm is
// due.
type StoreStats struct {
	// Objects are the figures of each object, in shard order.
	Objects []ObjectStats `json:"objects"`
	// Keys, Bytes and StorageBytes are the sums of the objects' figures.
	Keys         int64 `json:"keys"`
	Bytes        int64 `json:"bytes"`
	StorageBytes int64 `json:"storageBytes"`
	// NewestVersion is the newest version over all objects.
	NewestVersion uint64 `json:"newestVersion"`
	// NextAlarm is the earliest alarm over all objects; the zero Time when
	// none is due.
	NextAlarm time.Time `json:"nextAlarm,omitzero"`
	// ObjectsNearLimit counts the objects whose NearLimit is set. It is a
	// count, where ObjectStats.NearLimit is a flag, so it has its own name.
	ObjectsNearLimit int `json:"objectsNearLimit"`
}

// Stats reports the figures of every object of a store under SingleObject
// or HashShards, and their sums. Under PerKey and ObjectNamedByKey, whose
// objects the runtime cannot enumerate, it fails with ErrUnsupported: ask
// ObjectStats for the object of a key instead. The figures are each
// object's at the moment it was asked, not one snapshot.
func (s *Store[T]) Stats(ctx context.Context) (StoreStats, error) { return s.stats(ctx) }

func (s *core) stats(ctx context.Context) (StoreStats, error) {
	var out StoreStats
	objects := s.router.Objects()
	if objects == nil {
		return out, &Error{Op: "stats", Err: ErrUnsupported,
			Detail: "PerKey and ObjectNamedByKey partitionings cannot enumerate their objects; use ObjectStats for a key's object"}
	}
	out.Objects = make([]ObjectStats, len(objects))
	err := listing.Each(ctx, len(objects), func(ctx context.Context, i int) (err error) {
		out.Objects[i], err = s.objectStats(ctx, "", objects[i])
		return err
	})
	if err != nil {
		return StoreStats{}, err
	}
	for _, st := range out.Objects {
		out.Keys += st.Keys
		out.Bytes += st.Bytes
		out.StorageBytes += st.StorageBytes
		out.NewestVersion = max(out.NewestVersion, st.NewestVersion)
		if !st.NextAlarm.IsZero() && (out.NextAlarm.IsZero() || st.NextAlarm.Before(out.NextAlarm)) {
			out.NextAlarm = st.NextAlarm
		}
		if st.NearLimit {
			out.ObjectsNearLimit++
		}
	}
	return out, nil
}

// ObjectStats reports the figures of the object that holds key, under any
// partitioning.
func (s *Store[T]) ObjectStats(ctx context.Context, key string) (ObjectStats, error) {
	if err := s.validateKey("stats", key); err != nil {
		return ObjectStats{}, err
	}
	return s.objectStats(ctx, key, s.router.ObjectName(key))
}

func (s *core) objectStats(ctx context.Context, key, object string) (ObjectStats, error) {
	reply, err := s.call(ctx, "stats", key, object, &protocol.Request{Op: protocol.OpStats, Key: s.router.StoredPrefix("")})
	if err != nil {
		return ObjectStats{}, err
	}
	st := reply.Stats
	return ObjectStats{
		Object:        object,
		Keys:          int64(st.Keys),
		Bytes:         int64(st.Bytes),
		StorageBytes:  int64(st.StorageBytes),
		NewestVersion: reply.Version,
		NextAlarm:     expiresAt(st.NextAlarm),
		NearLimit:     st.StorageBytes >= StorageWarnBytes,
	}, nil
}
