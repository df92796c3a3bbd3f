package watch

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLog_KnowsEverythingAfterItsHorizon(t *testing.T) {
	var l Log
	_, ok := l.Since("k", 0, 0)
	assert.False(t, ok, "a log that has not started knows nothing")
	l.Start(10)
	l.Start(99) // only the first start counts
	assert.Equal(t, uint64(10), l.Horizon())
	for v := uint64(11); v <= 10+MaxLogChanges+5; v++ {
		l.Append(Change{Key: "k", At: v, Value: []byte("v")})
	}
	last := uint64(10 + MaxLogChanges + 5)
	assert.Equal(t, uint64(15), l.Horizon(), "the oldest five were forgotten")
	_, ok = l.Since("k", 14, last)
	assert.False(t, ok)
	changes, ok := l.Since("k", 15, last)
	require.True(t, ok)
	assert.Len(t, changes, MaxLogChanges)
	_, ok = l.Since("k", last+1, last)
	assert.False(t, ok, "a position the object never reached")
	changes, ok = l.Since("other", 15, last)
	assert.True(t, ok)
	assert.Empty(t, changes)
}

func TestLog_BoundsItsBytes(t *testing.T) {
	var l Log
	l.Start(0)
	big := bytes.Repeat([]byte("x"), MaxLogBytes/4)
	for v := uint64(1); v <= 8; v++ {
		l.Append(Change{Key: "k", At: v, Value: big})
	}
	changes, ok := l.Since("k", l.Horizon(), 8)
	require.True(t, ok)
	assert.Len(t, changes, 3, "three quarter-limit values (with their keys) fit")
	l.Append(Change{Key: "k", At: 9, Value: bytes.Repeat([]byte("x"), MaxLogBytes+1)})
	assert.Equal(t, uint64(9), l.Horizon(), "a change larger than the log is forgotten at once")
	changes, ok = l.Since("k", 9, 9)
	assert.True(t, ok)
	assert.Empty(t, changes)
}

func TestMessages(t *testing.T) {
	var m Message
	require.NoError(t, json.Unmarshal(WithKey(ChangeMessage(&Change{Key: "stored", At: 3, Value: []byte(`{"a":1}`)}), KeyJSON("k")), &m))
	assert.Equal(t, Message{Type: TypeSet, Key: "k", At: 3, Version: 3, Value: json.RawMessage(`{"a":1}`)}, m)
	m = Message{}
	require.NoError(t, json.Unmarshal(ChangeMessage(&Change{Key: "k", At: 4, Value: []byte{0xff}}), &m))
	assert.Equal(t, []byte{0xff}, m.Value64, "bytes that are not JSON travel as base64")
	m = Message{}
	require.NoError(t, json.Unmarshal(WithKey(ChangeMessage(&Change{Key: "stored", At: 5, Deleted: true}), KeyJSON("k")), &m))
	assert.Equal(t, Message{Type: TypeDelete, Key: "k", At: 5}, m)
	huge := ChangeMessage(&Change{Key: "k", At: 6, Value: []byte(`"` + strings.Repeat("x", MaxMessageBytes) + `"`)})
	assert.Less(t, len(huge), 200)
	assert.Contains(t, string(huge), `"truncated":true`)
	assert.Equal(t, "k:short", Tag("short"))
	long := Tag(strings.Repeat("x", 300))
	assert.Len(t, long, 2+64)
	assert.NotEqual(t, long, Tag(strings.Repeat("x", 301)))
}
