package dokv

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jobJSON is a flow job of status as TypeScript sends it to DokvObject,
// with the field naming its Dates that the entry module adds.
func jobJSON(status FlowJobStatus) []byte {
	return []byte(`{"id":"j","flowId":"f","storageId":"s","clientId":null,"status":"` + string(status) +
		`","createdAt":"2026-12-01T10:00:00.000Z","updatedAt":"2026-12-01T10:00:00.000Z","tasks":[],"$dokvDates":["createdAt"]}`)
}

var npmLayout = WithPartitioning(ObjectNamedByKey())

// A flow job store in the npm client's layout gives a job written from
// TypeScript the TTL it gives its own writes of that job: the retention
// once the job is finished, WithTTL (none by default) while it runs.
func TestRecordTTLRule_FlowJobsAsTheStoreWritesThem(t *testing.T) {
	ns := NewMemoryNamespace()
	retention, err := NewFlowJobStore(ns, npmLayout, WithFlowJobRetention(time.Hour))
	require.NoError(t, err)
	rule := recordTTLRule(retention, FlowJobPrefix)
	require.NotNil(t, rule)
	for status, want := range map[FlowJobStatus]uint64{
		FlowJobPending: 0, FlowJobStarted: 0, FlowJobRunning: 0, FlowJobPaused: 0,
		FlowJobCompleted: 3_600_000, FlowJobFailed: 3_600_000, FlowJobCancelled: 3_600_000,
	} {
		ttl, err := rule(jobJSON(status))
		require.NoError(t, err, status)
		assert.Equal(t, want, ttl, status)
	}

	withDefault, err := NewFlowJobStore(ns, npmLayout, WithFlowJobRetention(time.Hour), WithTTL(30*24*time.Hour+time.Nanosecond))
	require.NoError(t, err)
	rule = recordTTLRule(withDefault, FlowJobPrefix)
	ttl, err := rule(jobJSON(FlowJobRunning))
	require.NoError(t, err)
	assert.Equal(t, uint64(30*24*3_600_000+1), ttl, "a running job gets WithTTL, rounded up to the millisecond as Go's writes")
	ttl, err = rule(jobJSON(FlowJobCompleted))
	require.NoError(t, err)
	assert.Equal(t, uint64(3_600_000), ttl)

	_, err = rule([]byte(`{"status":7}`))
	assert.Error(t, err, "a record that does not decode has no TTL")
}

// Upload files get their store's WithTTL, or its WithTTLFunc's.
func TestRecordTTLRule_UploadFiles(t *testing.T) {
	ns := NewMemoryNamespace()
	uploads, err := NewUploadFileStore(ns, npmLayout, WithTTL(time.Minute))
	require.NoError(t, err)
	rule := recordTTLRule(uploads, UploadFilePrefix)
	require.NotNil(t, rule)
	ttl, err := rule([]byte(`{"id":"u","offset":1,"storage":{"id":"s","type":"r2"}}`))
	require.NoError(t, err)
	assert.Equal(t, uint64(60_000), ttl)

	plain, err := NewUploadFileStore(ns, npmLayout)
	require.NoError(t, err)
	done := plain.WithTTLFunc(func(u UploadFile) time.Duration {
		if u.Size != nil && u.Offset == *u.Size {
			return time.Second
		}
		return 0
	})
	rule = recordTTLRule(done, UploadFilePrefix)
	ttl, err = rule([]byte(`{"id":"u","offset":5,"size":5,"storage":{"id":"s","type":"r2"}}`))
	require.NoError(t, err)
	assert.Equal(t, uint64(1000), ttl)
	ttl, err = rule([]byte(`{"id":"u","offset":4,"size":5,"storage":{"id":"s","type":"r2"}}`))
	require.NoError(t, err)
	assert.Zero(t, ttl)
}

// Only a store that reads the records TypeScript writes, and has a TTL of
// its own, sets a rule.
func TestRecordTTLRule_OnlyStoresOfTheRecordsWithATTL(t *testing.T) {
	ns := NewMemoryNamespace()
	keep := WithFlowJobRetention(time.Hour)
	for name, opts := range map[string][]Option{
		"no TTL":          {npmLayout},
		"PerKey":          {keep},
		"HashShards":      {keep, WithPartitioning(HashShards(4))},
		"another prefix":  {keep, npmLayout, WithPrefix("jobs:")},
		"another codec":   {keep, npmLayout, WithCodec(gobLikeCodec{})},
		"uploads' prefix": {keep, npmLayout, WithPrefix(UploadFilePrefix)},
	} {
		s, err := NewFlowJobStore(ns, opts...)
		require.NoError(t, err, name)
		assert.Nil(t, recordTTLRule(s, FlowJobPrefix), name)
	}
	s, err := NewFlowJobStore(ns, npmLayout, WithTTL(time.Minute))
	require.NoError(t, err)
	assert.NotNil(t, recordTTLRule(s, FlowJobPrefix), "WithTTL alone sets one")
	assert.Nil(t, recordTTLRule(s, UploadFilePrefix), "for its own records only")
}

// gobLikeCodec stands for any codec other than JSON.
type gobLikeCodec struct{}

func (gobLikeCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (gobLikeCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// With several stores' rules, a record gets the longest TTL, no TTL being
// the longest; a rule that refuses the write refuses it in any order.
func TestRecordTTLs_TheLongestRuleWins(t *testing.T) {
	ns := NewMemoryNamespace()
	store := func(opts ...Option) *Store[FlowJob] {
		s, err := NewFlowJobStore(ns, append([]Option{npmLayout}, opts...)...)
		require.NoError(t, err)
		return s
	}
	rules := recordTTLs{}
	ttl, err := rules.ttl(FlowJobPrefix, jobJSON(FlowJobCompleted))
	require.NoError(t, err)
	assert.Zero(t, ttl, "no rule, no TTL")

	addRecordTTL(rules, store(WithFlowJobRetention(time.Minute)), FlowJobPrefix)
	addRecordTTL(rules, store(WithFlowJobRetention(time.Hour)), FlowJobPrefix)
	addRecordTTL(rules, store(WithFlowJobRetention(time.Second)), FlowJobPrefix)
	addRecordTTL(rules, store(), FlowJobPrefix) // no TTL: no rule
	ttl, err = rules.ttl(FlowJobPrefix, jobJSON(FlowJobFailed))
	require.NoError(t, err)
	assert.Equal(t, uint64(3_600_000), ttl, "the longest retention")
	ttl, err = rules.ttl(UploadFilePrefix, jobJSON(FlowJobFailed))
	require.NoError(t, err)
	assert.Zero(t, ttl, "rules hold for their prefix only")

	addRecordTTL(rules, store(WithTTL(24*time.Hour)), FlowJobPrefix)
	ttl, err = rules.ttl(FlowJobPrefix, jobJSON(FlowJobRunning))
	require.NoError(t, err)
	assert.Zero(t, ttl, "a running job is kept: the retention stores keep it forever")
	ttl, err = rules.ttl(FlowJobPrefix, jobJSON(FlowJobCompleted))
	require.NoError(t, err)
	assert.Equal(t, uint64(24*3_600_000), ttl)

	addRecordTTL(rules, store(WithTTL(time.Second)).WithTTLFunc(func(FlowJob) time.Duration { return MaxTTL + time.Millisecond }), FlowJobPrefix)
	_, err = rules.ttl(FlowJobPrefix, jobJSON(FlowJobRunning))
	assert.Error(t, err, "a TTL out of range refuses the write, as Go's write of it fails")
}
