package watch

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodedValue is the value a reader of m gets: Value verbatim, else
// Value64.
func decodedValue(t *testing.T, raw []byte) (Message, []byte) {
	t.Helper()
	var m Message
	require.NoError(t, json.Unmarshal(raw, &m), "message %q", raw)
	if m.Value64 != nil {
		require.Nil(t, m.Value, "one of value and value64")
		return m, m.Value64
	}
	if m.Value != nil {
		return m, []byte(m.Value)
	}
	return m, nil
}

// FuzzMessages_CarryExactBytes checks that the start and change messages of
// any stored value decode to exactly that value, as a Go watcher and a
// browser receive the same text.
func FuzzMessages_CarryExactBytes(f *testing.F) {
	for _, v := range []string{``, `{"a": 1}`, `"<&>"`, "\"\u2028\"", "\xff", `1e999`, `{"a":1,"a":2}`, "{\n}", " 1"} {
		f.Add("user:1", []byte(v))
	}
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		if len(value)+len(key)+256 > MaxMessageBytes {
			return // sent truncated, without its value
		}
		m, got := decodedValue(t, ChangeMessage(&Change{Key: key, At: 9, Value: value}))
		assert.Equal(t, TypeSet, m.Type)
		assert.Equal(t, uint64(9), m.Version)
		require.NotNil(t, got, "the set message lost its value")
		assert.Equal(t, value, got, "set message")

		m, got = decodedValue(t, StartMessage(key, FromSnapshot, 11, 9, value))
		assert.Equal(t, TypeStart, m.Type)
		require.NotNil(t, got, "the start message lost its value")
		assert.Equal(t, value, got, "start message")
	})
}

func TestDeleteAndAbsentMessages_CarryNoValue(t *testing.T) {
	m, got := decodedValue(t, ChangeMessage(&Change{Key: "k", At: 3, Deleted: true}))
	assert.Equal(t, TypeDelete, m.Type)
	assert.Nil(t, got)
	m, got = decodedValue(t, StartMessage("k", FromSnapshot, 3, 0, nil))
	assert.Equal(t, uint64(0), m.Version)
	assert.Nil(t, got)
}

func TestChangeMessage_TooLargeIsTruncated(t *testing.T) {
	m, got := decodedValue(t, ChangeMessage(&Change{Key: "k", At: 3, Value: make([]byte, MaxMessageBytes)}))
	assert.True(t, m.Truncated)
	assert.Nil(t, got)
}
