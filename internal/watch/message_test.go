package watch

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

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
		if len(value)+MaxKeyJSONBytes+256 > MaxMessageBytes {
			return // sent truncated, without its value
		}
		m, got := decodedValue(t, WithKey(ChangeMessage(&Change{Key: "stored", At: 9, Value: value}), KeyJSON(key)))
		assert.Equal(t, TypeSet, m.Type)
		if utf8.ValidString(key) {
			assert.Equal(t, key, m.Key, "the watcher's key")
		}
		assert.Equal(t, uint64(9), m.Version)
		require.NotNil(t, got, "the set message lost its value")
		assert.Equal(t, value, got, "set message")

		m, got = decodedValue(t, WithKey(StartMessage(FromSnapshot, 11, 9, value), KeyJSON(key)))
		assert.Equal(t, TypeStart, m.Type)
		require.NotNil(t, got, "the start message lost its value")
		assert.Equal(t, value, got, "start message")
	})
}

func TestDeleteAndAbsentMessages_CarryNoValue(t *testing.T) {
	m, got := decodedValue(t, ChangeMessage(&Change{Key: "k", At: 3, Deleted: true}))
	assert.Equal(t, TypeDelete, m.Type)
	assert.Nil(t, got)
	m, got = decodedValue(t, StartMessage(FromSnapshot, 3, 0, nil))
	assert.Equal(t, uint64(0), m.Version)
	assert.Nil(t, got)
}

func TestChangeMessage_TooLargeIsTruncated(t *testing.T) {
	m, got := decodedValue(t, ChangeMessage(&Change{Key: "k", At: 3, Value: make([]byte, MaxMessageBytes)}))
	assert.True(t, m.Truncated)
	assert.Nil(t, got)
}

// A message is written once, without a key, for every watcher it goes to;
// WithKey adds each watcher's key after the type, and the message reads as
// if it had been written with that key, value bytes untouched.
func TestWithKey_AddsTheWatchersKey(t *testing.T) {
	value := []byte("{\"a\": \"<&>\u2028\"}")
	for _, m := range [][]byte{
		ChangeMessage(&Change{Key: "4:pfx/mykey", At: 3, Value: value}),
		ChangeMessage(&Change{Key: "4:pfx/mykey", At: 4, Deleted: true}),
		StartMessage(FromResync, 5, 3, value),
		EventMessage(6, []byte(`{"e":1}`)),
	} {
		assert.NotContains(t, string(m), `"key"`, "written once for every watcher")
		for _, key := range []string{"mykey", `a "quoted" <key>`, strings.Repeat("é", 2000)} {
			keyed := WithKey(m, KeyJSON(key))
			var plain, got Message
			require.NoError(t, json.Unmarshal(m, &plain))
			require.NoError(t, json.Unmarshal(keyed, &got), "%s", keyed)
			assert.Equal(t, key, got.Key)
			got.Key = ""
			assert.Equal(t, plain, got, "nothing else changes")
			assert.True(t, strings.HasPrefix(string(keyed), `{"type":"`+plain.Type+`","key":`), "%s", keyed)
		}
	}
	keyed := WithKey(ChangeMessage(&Change{Key: "s", At: 3, Value: value}), KeyJSON("k"))
	assert.Equal(t, `{"type":"set","key":"k","at":3,"version":3,"value":`+string(value)+`}`, string(keyed), "the value's bytes as stored")
}

// A value is truncated when the message with the longest key a watcher may
// add would be over MaxMessageBytes.
func TestChangeMessage_KeepsRoomForTheLongestKey(t *testing.T) {
	longest := KeyJSON(strings.Repeat("\x01", MaxKeyJSONBytes/6))
	assert.LessOrEqual(t, len(longest), MaxKeyJSONBytes)
	for _, size := range []int{MaxMessageBytes - MaxKeyJSONBytes - 300, MaxMessageBytes - MaxKeyJSONBytes - 200} {
		value := []byte(`"` + strings.Repeat("x", size) + `"`)
		keyed := WithKey(ChangeMessage(&Change{Key: "k", At: 3, Value: value}), longest)
		assert.LessOrEqual(t, len(keyed), MaxMessageBytes, "a value of %d bytes", len(value))
	}
}
