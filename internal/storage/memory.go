package storage

import (
	"cmp"
	"slices"
	"strings"

	"github.com/dokv/dokv/internal/protocol"
)

// Memory is an Engine held in memory: a map for lookups and a sorted key
// slice for ordered scans. The zero value is not usable; call NewMemory.
type Memory struct {
	records map[string]entry
	keys    []string // sorted; only inserts and deletes touch it
	last    uint64
	alarm   uint64
	// expiring holds the records with an expiry, ordered by it, so that
	// the alarm finds the expired ones and the next expiry without a scan.
	expiring []expiry

	inTxn bool
	undo  []func() // reverses the changes of the running Atomic call, newest last
}

type expiry struct {
	at  uint64
	key string
}

func compareExpiry(a, b expiry) int {
	if c := cmp.Compare(a.at, b.at); c != 0 {
		return c
	}
	return strings.Compare(a.key, b.key)
}

type entry struct {
	version uint64
	value   []byte
	expires uint64
}

// NewMemory returns an empty in-memory engine.
func NewMemory() *Memory {
	return &Memory{records: make(map[string]entry)}
}

// Len reports the number of stored keys.
func (m *Memory) Len() int { return len(m.keys) }

// Get implements Engine.
func (m *Memory) Get(key string) (protocol.Record, bool, error) {
	e, ok := m.records[key]
	if !ok {
		return protocol.Record{}, false, nil
	}
	return protocol.Record{Key: key, Version: e.version, Value: e.value, Expires: e.expires}, true, nil
}

// Put implements Engine.
func (m *Memory) Put(key string, version uint64, value []byte, expires uint64) error {
	old, existed := m.records[key]
	m.set(key, entry{version: version, value: slices.Clone(value), expires: expires})
	m.record(func() {
		if existed {
			m.set(key, old)
			return
		}
		m.remove(key)
	})
	return nil
}

// set stores e at key, keeping keys and expiring up to date.
func (m *Memory) set(key string, e entry) {
	old, existed := m.records[key]
	if existed && old.expires != 0 {
		m.unexpire(key, old.expires)
	}
	if e.expires != 0 {
		x := expiry{at: e.expires, key: key}
		i, _ := slices.BinarySearchFunc(m.expiring, x, compareExpiry)
		m.expiring = slices.Insert(m.expiring, i, x)
	}
	m.records[key] = e
	if !existed {
		m.insertKey(key)
	}
}

// unexpire forgets the expiry at of key.
func (m *Memory) unexpire(key string, at uint64) {
	if i, ok := slices.BinarySearchFunc(m.expiring, expiry{at: at, key: key}, compareExpiry); ok {
		m.expiring = slices.Delete(m.expiring, i, i+1)
	}
}

// remove deletes key, keeping keys and expiring up to date.
func (m *Memory) remove(key string) {
	if old, existed := m.records[key]; existed {
		if old.expires != 0 {
			m.unexpire(key, old.expires)
		}
		delete(m.records, key)
		m.removeKey(key)
	}
}

// Delete implements Engine.
func (m *Memory) Delete(key string) error {
	old, existed := m.records[key]
	if !existed {
		return nil
	}
	m.remove(key)
	m.record(func() { m.set(key, old) })
	return nil
}

// Scan implements Engine.
func (m *Memory) Scan(prefix, after string, limit, maxBytes int, now uint64) ([]protocol.Record, bool, error) {
	var i int
	if after >= prefix {
		i, _ = slices.BinarySearch(m.keys, after)
		if i < len(m.keys) && m.keys[i] == after {
			i++
		}
	} else {
		i, _ = slices.BinarySearch(m.keys, prefix)
	}
	var recs []protocol.Record
	size := 0
	for ; i < len(m.keys); i++ {
		key := m.keys[i]
		if !strings.HasPrefix(key, prefix) {
			return recs, false, nil
		}
		e := m.records[key]
		if Expired(e.expires, now) {
			continue
		}
		if len(recs) == limit || (len(recs) > 0 && size >= maxBytes) {
			return recs, true, nil
		}
		recs = append(recs, protocol.Record{Key: key, Version: e.version, Value: e.value, Expires: e.expires})
		size += len(key) + len(e.value)
	}
	return recs, false, nil
}

// LastVersion implements Engine.
func (m *Memory) LastVersion() (uint64, error) { return m.last, nil }

// SetLastVersion implements Engine.
func (m *Memory) SetLastVersion(v uint64) error {
	old := m.last
	m.last = v
	m.record(func() { m.last = old })
	return nil
}

// Atomic implements Engine with an undo log. A nested call is a savepoint:
// if its fn fails, its own changes are undone even when the enclosing fn
// goes on to succeed.
func (m *Memory) Atomic(fn func() error) error {
	outer := !m.inTxn
	mark := len(m.undo)
	m.inTxn = true
	committed := false
	// The deferred rollback also covers a panic in fn: the caller may
	// recover and keep using the engine.
	defer func() {
		if !committed {
			for i := len(m.undo) - 1; i >= mark; i-- {
				m.undo[i]()
			}
			clear(m.undo[mark:])
			m.undo = m.undo[:mark]
		}
		if outer {
			m.inTxn = false
			clear(m.undo)
			m.undo = m.undo[:0]
		}
	}()
	err := fn()
	committed = err == nil
	return err
}

func (m *Memory) record(undo func()) {
	if m.inTxn {
		m.undo = append(m.undo, undo)
	}
}

func (m *Memory) insertKey(key string) {
	i, _ := slices.BinarySearch(m.keys, key)
	m.keys = slices.Insert(m.keys, i, key)
}

func (m *Memory) removeKey(key string) {
	if i, ok := slices.BinarySearch(m.keys, key); ok {
		m.keys = slices.Delete(m.keys, i, i+1)
	}
}

// Stats implements Engine. The storage's bytes are those of every key and
// value.
func (m *Memory) Stats(prefix string, now uint64) (protocol.Stats, error) {
	var s protocol.Stats
	start, _ := slices.BinarySearch(m.keys, prefix)
	for i, key := range m.keys {
		e := m.records[key]
		size := uint64(len(key) + len(e.value))
		s.StorageBytes += size
		if i >= start && strings.HasPrefix(key, prefix) && !Expired(e.expires, now) {
			s.Keys++
			s.Bytes += size
		}
	}
	return s, nil
}

// Expired implements Engine: the earliest expired records, in key order.
func (m *Memory) Expired(now uint64, limit int) ([]string, error) {
	var keys []string
	for _, x := range m.expiring {
		if x.at > now || len(keys) == limit {
			break
		}
		keys = append(keys, x.key)
	}
	slices.Sort(keys)
	return keys, nil
}

// NextExpiry implements Engine.
func (m *Memory) NextExpiry() (uint64, error) {
	if len(m.expiring) == 0 {
		return 0, nil
	}
	return m.expiring[0].at, nil
}

// Empty implements Engine.
func (m *Memory) Empty() (bool, error) { return len(m.keys) == 0, nil }

// SetAlarm implements Engine.
func (m *Memory) SetAlarm(at uint64) error {
	old := m.alarm
	m.alarm = at
	m.record(func() { m.alarm = old })
	return nil
}

// Alarm reports when the alarm was last asked for; 0 for none.
func (m *Memory) Alarm() uint64 { return m.alarm }
