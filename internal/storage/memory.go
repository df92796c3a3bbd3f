package storage

import (
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

	inTxn bool
	undo  []func() // reverses the changes of the running Atomic call, newest last
}

type entry struct {
	version uint64
	value   []byte
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
	return protocol.Record{Key: key, Version: e.version, Value: e.value}, true, nil
}

// Put implements Engine.
func (m *Memory) Put(key string, version uint64, value []byte) error {
	old, existed := m.records[key]
	m.records[key] = entry{version: version, value: slices.Clone(value)}
	if !existed {
		m.insertKey(key)
	}
	m.record(func() {
		if existed {
			m.records[key] = old
			return
		}
		delete(m.records, key)
		m.removeKey(key)
	})
	return nil
}

// Delete implements Engine.
func (m *Memory) Delete(key string) error {
	old, existed := m.records[key]
	if !existed {
		return nil
	}
	delete(m.records, key)
	m.removeKey(key)
	m.record(func() {
		m.records[key] = old
		m.insertKey(key)
	})
	return nil
}

// Scan implements Engine.
func (m *Memory) Scan(prefix, after string, limit, maxBytes int) ([]protocol.Record, bool, error) {
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
		if len(recs) == limit || (len(recs) > 0 && size >= maxBytes) {
			return recs, true, nil
		}
		e := m.records[key]
		recs = append(recs, protocol.Record{Key: key, Version: e.version, Value: e.value})
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
func (m *Memory) Stats(prefix string) (protocol.Stats, error) {
	var s protocol.Stats
	start, _ := slices.BinarySearch(m.keys, prefix)
	for i, key := range m.keys {
		size := uint64(len(key) + len(m.records[key].value))
		s.StorageBytes += size
		if i >= start && strings.HasPrefix(key, prefix) {
			s.Keys++
			s.Bytes += size
		}
	}
	return s, nil
}
