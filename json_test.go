package dokv_test

import (
	"encoding/json"
	"iter"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/dokvtest"
)

// The JSON of the types clients read has camelCase names, leaves out zero
// times and gives each name one meaning.

func TestJSON_StatsAreCamelCaseWithoutZeroTimes(t *testing.T) {
	ctx := t.Context()
	clock := dokvtest.NewManualClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	s, err := dokv.New[string](dokv.NewMemoryNamespace(dokv.WithClock(clock)), dokv.WithPartitioning(dokv.SingleObject("one")))
	require.NoError(t, err)
	v, err := s.SetEntry(ctx, "k", "v")
	require.NoError(t, err)

	st, err := s.Stats(ctx)
	require.NoError(t, err)
	b, err := json.Marshal(st)
	require.NoError(t, err)
	object := st.Objects[0].Object
	assert.JSONEq(t, `{"objects": [{"object": "`+object+`", "keys": 1, "bytes": 6, "storageBytes": 6,
		"newestVersion": `+jsonNumber(v)+`, "nearLimit": false}],
		"keys": 1, "bytes": 6, "storageBytes": 6, "newestVersion": `+jsonNumber(v)+`, "objectsNearLimit": 0}`, string(b),
		"no alarm is due, so no nextAlarm; the store counts objectsNearLimit where an object flags nearLimit")
	assert.NotContains(t, string(b), "0001-01-01")

	_, err = s.SetWithTTL(ctx, "k", "v", time.Minute)
	require.NoError(t, err)
	o, err := s.ObjectStats(ctx, "k")
	require.NoError(t, err)
	b, err = json.Marshal(o)
	require.NoError(t, err)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(b, &fields))
	assert.Equal(t, "2026-12-01T00:01:00Z", fields["nextAlarm"])
	var back dokv.ObjectStats
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, o.Object, back.Object)
	assert.True(t, o.NextAlarm.Equal(back.NextAlarm))
}

func TestJSON_EntryLeavesOutANeverExpiry(t *testing.T) {
	ctx := t.Context()
	clock := dokvtest.NewManualClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	s, err := dokv.New[map[string]int](dokv.NewMemoryNamespace(dokv.WithClock(clock)))
	require.NoError(t, err)
	v, err := s.SetEntry(ctx, "k", map[string]int{"n": 1})
	require.NoError(t, err)
	e, err := s.GetEntry(ctx, "k")
	require.NoError(t, err)
	b, err := json.Marshal(e)
	require.NoError(t, err)
	assert.JSONEq(t, `{"key": "k", "value": {"n": 1}, "version": `+jsonNumber(v)+`}`, string(b))

	_, err = s.SetWithTTL(ctx, "k", map[string]int{"n": 2}, time.Hour)
	require.NoError(t, err)
	e, err = s.GetEntry(ctx, "k")
	require.NoError(t, err)
	b, err = json.Marshal(e)
	require.NoError(t, err)
	assert.JSONEq(t, `{"key": "k", "value": {"n": 2}, "version": `+jsonNumber(e.Version)+`, "expiresAt": "2026-12-01T01:00:00Z"}`, string(b))
	var back dokv.Entry[map[string]int]
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, e.Value, back.Value)
	assert.True(t, e.ExpiresAt.Equal(back.ExpiresAt))
}

func TestJSON_WatchEventsNameTheirKindAndCarryAValueOnlyWhenTheyHaveOne(t *testing.T) {
	ctx := t.Context()
	s, err := dokv.New[int](dokv.NewMemoryNamespace())
	require.NoError(t, err)
	next, stop := iter.Pull2(s.Watch(ctx, "n"))
	defer stop()
	event := func() string {
		t.Helper()
		ev, err, ok := next()
		require.True(t, ok)
		require.NoError(t, err)
		b, err := json.Marshal(ev)
		require.NoError(t, err)
		var back dokv.WatchEvent[int]
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, ev, back, "the JSON reads back as the event")
		return string(b)
	}

	start := event()
	assert.JSONEq(t, `{"kind": "snapshot", "key": "n", "at": 0, "version": 0}`, start,
		"an absent key's snapshot has no value: a 0 would read as stored")
	v, err := s.SetEntry(ctx, "n", 0)
	require.NoError(t, err)
	assert.JSONEq(t, `{"kind": "set", "key": "n", "at": `+jsonNumber(v)+`, "version": `+jsonNumber(v)+`, "value": 0}`, event(),
		"a stored zero is a value")
	require.NoError(t, s.Emit(ctx, "n", map[string]string{"hello": "world"}))
	assert.JSONEq(t, `{"kind": "emitted", "key": "n", "at": `+jsonNumber(v)+`, "version": 0, "event": {"hello": "world"}}`, event())
	require.NoError(t, s.Delete(ctx, "n"))
	deleted := event()
	assert.Contains(t, deleted, `"kind":"deleted"`)
	assert.NotContains(t, deleted, `"value"`)
}

func TestJSON_WatchKindsAreNames(t *testing.T) {
	for kind, name := range map[dokv.WatchKind]string{
		dokv.WatchSnapshot: "snapshot", dokv.WatchResumed: "resumed", dokv.WatchSet: "set",
		dokv.WatchDeleted: "deleted", dokv.WatchEmitted: "emitted",
	} {
		b, err := json.Marshal(kind)
		require.NoError(t, err)
		assert.Equal(t, `"`+name+`"`, string(b))
		var back dokv.WatchKind
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, kind, back)
	}
	_, err := json.Marshal(dokv.WatchKind(9))
	require.Error(t, err)
	var k dokv.WatchKind
	require.Error(t, json.Unmarshal([]byte(`"changed"`), &k))
	b, err := json.Marshal(dokv.WatchEvent[string]{Key: "k"})
	require.NoError(t, err)
	assert.NotContains(t, string(b), `"kind"`, "the event that comes with an error has no kind")
}

func jsonNumber(v uint64) string {
	b, _ := json.Marshal(v)
	return string(b)
}
