package dokv

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsonKeys decodes a JSON object and returns its raw values by key, so tests
// can assert which keys are present and what each holds.
func jsonKeys(t *testing.T, data []byte) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(data, &m))
	return m
}

func strPtr(s string) *string { return &s }

func int64Ptr(n int64) *int64 { return &n }

// fullFlowJob returns a FlowJob with every field set, and fullFlowJobJSON is
// the same job as uploadista's FlowJob type spells it.
func fullFlowJob() FlowJob {
	created := time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)
	updated := time.Date(2024, 1, 15, 10, 31, 5, 250_000_000, time.UTC)
	ended := time.Date(2024, 1, 15, 10, 32, 0, 0, time.UTC)
	return FlowJob{
		ID:        "6f1c7d0e-8a7b-4c39-9d55-0b2f6f3f8e11",
		FlowID:    "image-pipeline",
		StorageID: "s3-production",
		ClientID:  strPtr("client-42"),
		Status:    FlowJobFailed,
		CreatedAt: created,
		UpdatedAt: updated,
		Tasks: []FlowJobTask{
			{
				NodeID:    "input-1",
				Status:    FlowJobTaskCompleted,
				Result:    json.RawMessage(`{"id":"upload-1","offset":10}`),
				CreatedAt: created,
				UpdatedAt: updated,
			},
			{
				NodeID:     "resize-1",
				Status:     FlowJobTaskFailed,
				Error:      "image too large",
				RetryCount: 3,
				CreatedAt:  created,
				UpdatedAt:  updated,
			},
		},
		Error:    "node resize-1 failed",
		EndedAt:  &ended,
		Result:   json.RawMessage(`[{"nodeId":"out-1","data":{"w":1},"timestamp":"2024-01-15T10:32:00Z"}]`),
		PausedAt: "resize-1",
		ExecutionState: &FlowJobExecutionState{
			ExecutionOrder: []string{"input-1", "resize-1", "out-1"},
			CurrentIndex:   1,
			Inputs:         map[string]json.RawMessage{"input-1": json.RawMessage(`{"operation":"init"}`)},
		},
		IntermediateFiles: []string{"upload-2", "upload-3"},
		TraceContext: &TraceContext{
			TraceID:    "4bf92f3577b34da6a3ce929d0e0e4736",
			SpanID:     "00f067aa0ba902b7",
			TraceFlags: 1,
		},
		ActiveUploads: []string{"upload-4"},
	}
}

const fullFlowJobJSON = `{
	"id": "6f1c7d0e-8a7b-4c39-9d55-0b2f6f3f8e11",
	"flowId": "image-pipeline",
	"storageId": "s3-production",
	"clientId": "client-42",
	"status": "failed",
	"createdAt": "2024-01-15T10:30:00Z",
	"updatedAt": "2024-01-15T10:31:05.25Z",
	"tasks": [
		{
			"nodeId": "input-1",
			"status": "completed",
			"result": {"id": "upload-1", "offset": 10},
			"createdAt": "2024-01-15T10:30:00Z",
			"updatedAt": "2024-01-15T10:31:05.25Z"
		},
		{
			"nodeId": "resize-1",
			"status": "failed",
			"error": "image too large",
			"retryCount": 3,
			"createdAt": "2024-01-15T10:30:00Z",
			"updatedAt": "2024-01-15T10:31:05.25Z"
		}
	],
	"error": "node resize-1 failed",
	"endedAt": "2024-01-15T10:32:00Z",
	"result": [{"nodeId": "out-1", "data": {"w": 1}, "timestamp": "2024-01-15T10:32:00Z"}],
	"pausedAt": "resize-1",
	"executionState": {
		"executionOrder": ["input-1", "resize-1", "out-1"],
		"currentIndex": 1,
		"inputs": {"input-1": {"operation": "init"}}
	},
	"intermediateFiles": ["upload-2", "upload-3"],
	"traceContext": {
		"traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
		"spanId": "00f067aa0ba902b7",
		"traceFlags": 1
	},
	"activeUploads": ["upload-4"]
}`

func TestFlowJobMarshalFull(t *testing.T) {
	data, err := json.Marshal(fullFlowJob())
	require.NoError(t, err)
	assert.JSONEq(t, fullFlowJobJSON, string(data))
}

func TestFlowJobMarshalPointer(t *testing.T) {
	// A *FlowJob must encode the same as a FlowJob, since stores may hold
	// either.
	job := fullFlowJob()
	data, err := json.Marshal(&job)
	require.NoError(t, err)
	assert.JSONEq(t, fullFlowJobJSON, string(data))
}

func TestFlowJobRoundTrip(t *testing.T) {
	var got FlowJob
	require.NoError(t, json.Unmarshal([]byte(fullFlowJobJSON), &got))

	want := fullFlowJob()
	// RawMessage keeps the input's bytes, whitespace included, so compare
	// the raw fields as JSON and the rest structurally.
	assert.JSONEq(t, string(want.Result), string(got.Result))
	require.Len(t, got.Tasks, 2)
	assert.JSONEq(t, string(want.Tasks[0].Result), string(got.Tasks[0].Result))
	require.NotNil(t, got.ExecutionState)
	assert.JSONEq(t, `{"operation":"init"}`, string(got.ExecutionState.Inputs["input-1"]))

	got.Result, want.Result = nil, nil
	got.Tasks[0].Result, want.Tasks[0].Result = nil, nil
	got.ExecutionState.Inputs, want.ExecutionState.Inputs = nil, nil
	assert.Equal(t, want, got)

	// Encoding what was decoded gives the same document back.
	var again FlowJob
	require.NoError(t, json.Unmarshal([]byte(fullFlowJobJSON), &again))
	data, err := json.Marshal(again)
	require.NoError(t, err)
	assert.JSONEq(t, fullFlowJobJSON, string(data))
}

func TestFlowJobMarshalMinimal(t *testing.T) {
	job := FlowJob{
		ID:        "job-1",
		FlowID:    "flow-1",
		StorageID: "storage-1",
		Status:    FlowJobRunning,
		CreatedAt: time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC),
		UpdatedAt: time.Date(2024, 3, 1, 8, 0, 1, 0, time.UTC),
	}
	data, err := json.Marshal(job)
	require.NoError(t, err)

	// clientId is `string | null` in uploadista: present and null, not
	// omitted; tasks is required: [] even though the slice is nil; every
	// optional key is absent.
	assert.JSONEq(t, `{
		"id": "job-1",
		"flowId": "flow-1",
		"storageId": "storage-1",
		"clientId": null,
		"status": "running",
		"createdAt": "2024-03-01T08:00:00Z",
		"updatedAt": "2024-03-01T08:00:01Z",
		"tasks": []
	}`, string(data))

	keys := jsonKeys(t, data)
	assert.Equal(t, "null", string(keys["clientId"]))
	assert.Equal(t, "[]", string(keys["tasks"]))
	for _, k := range []string{"error", "endedAt", "result", "pausedAt",
		"executionState", "intermediateFiles", "traceContext", "activeUploads"} {
		assert.NotContains(t, keys, k)
	}
}

func TestFlowJobEmptySlicesOmitted(t *testing.T) {
	// Optional array keys are omitted when empty, not only when nil, so a
	// cleared list does not leave an [] behind that uploadista never writes.
	job := FlowJob{
		ID:                "job-1",
		Tasks:             []FlowJobTask{},
		IntermediateFiles: []string{},
		ActiveUploads:     []string{},
		Result:            json.RawMessage{},
	}
	data, err := json.Marshal(job)
	require.NoError(t, err)
	keys := jsonKeys(t, data)
	assert.NotContains(t, keys, "intermediateFiles")
	assert.NotContains(t, keys, "activeUploads")
	assert.NotContains(t, keys, "result")
	assert.Equal(t, "[]", string(keys["tasks"]))
}

func TestFlowJobTimesAreRFC3339(t *testing.T) {
	loc := time.FixedZone("CEST", 2*60*60)
	created := time.Date(2024, 6, 1, 12, 0, 0, 123_000_000, loc)
	ended := created.Add(time.Minute)
	job := FlowJob{
		CreatedAt: created,
		UpdatedAt: created,
		EndedAt:   &ended,
		Tasks:     []FlowJobTask{{NodeID: "n", CreatedAt: created, UpdatedAt: created}},
	}
	data, err := json.Marshal(job)
	require.NoError(t, err)
	keys := jsonKeys(t, data)

	check := func(raw json.RawMessage, want time.Time) {
		t.Helper()
		var s string
		require.NoError(t, json.Unmarshal(raw, &s))
		parsed, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err, "not RFC 3339: %q", s)
		assert.True(t, parsed.Equal(want), "%q != %v", s, want)
	}
	check(keys["createdAt"], created)
	check(keys["updatedAt"], created)
	check(keys["endedAt"], ended)
	assert.Equal(t, `"2024-06-01T12:00:00.123+02:00"`, string(keys["createdAt"]))

	var tasks []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(keys["tasks"], &tasks))
	require.Len(t, tasks, 1)
	check(tasks[0]["createdAt"], created)
	check(tasks[0]["updatedAt"], created)
}

func TestFlowJobTaskOptionalKeysOmitted(t *testing.T) {
	data, err := json.Marshal(FlowJobTask{
		NodeID:    "n1",
		Status:    FlowJobTaskPending,
		CreatedAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		UpdatedAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
	})
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"nodeId": "n1",
		"status": "pending",
		"createdAt": "2024-01-01T00:00:00Z",
		"updatedAt": "2024-01-01T00:00:00Z"
	}`, string(data))
}

func TestFlowJobExecutionStateNilCollections(t *testing.T) {
	// executionOrder and inputs are required in uploadista, so they must
	// never be written as null.
	data, err := json.Marshal(FlowJob{ExecutionState: &FlowJobExecutionState{CurrentIndex: 2}})
	require.NoError(t, err)
	keys := jsonKeys(t, data)
	assert.JSONEq(t, `{"executionOrder":[],"currentIndex":2,"inputs":{}}`, string(keys["executionState"]))
}

// uploadistaFlowJobJSON is a job as uploadista's flow server writes it with
// JSON.stringify: Dates as toISOString() (millisecond precision), optional
// fields simply absent, result as an array of TypedOutput.
const uploadistaFlowJobJSON = `{"id":"a3b8e9a2-1d2f-4a8e-9c61-5d1f0f0c2b7a","flowId":"resize-and-store","storageId":"r2","clientId":null,"status":"completed","createdAt":"2025-02-03T14:05:06.789Z","updatedAt":"2025-02-03T14:05:09.001Z","tasks":[{"nodeId":"input","status":"completed","result":{"id":"up-1","offset":2048,"size":2048,"storage":{"id":"r2","type":"r2"}},"createdAt":"2025-02-03T14:05:06.790Z","updatedAt":"2025-02-03T14:05:07.100Z"},{"nodeId":"store","status":"completed","retryCount":0,"createdAt":"2025-02-03T14:05:07.101Z","updatedAt":"2025-02-03T14:05:09.000Z"}],"endedAt":"2025-02-03T14:05:09.001Z","result":[{"nodeType":"storage-output-v1","nodeId":"store","data":{"id":"up-2","offset":2048,"storage":{"id":"r2","type":"r2"},"url":"https://cdn.example.com/up-2"},"timestamp":"2025-02-03T14:05:09.000Z"}],"intermediateFiles":["up-1"],"traceContext":{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","traceFlags":1}}`

func TestFlowJobDecodeUploadistaDocument(t *testing.T) {
	var job FlowJob
	require.NoError(t, json.Unmarshal([]byte(uploadistaFlowJobJSON), &job))

	assert.Equal(t, "a3b8e9a2-1d2f-4a8e-9c61-5d1f0f0c2b7a", job.ID)
	assert.Equal(t, "resize-and-store", job.FlowID)
	assert.Equal(t, "r2", job.StorageID)
	assert.Nil(t, job.ClientID)
	assert.Equal(t, FlowJobCompleted, job.Status)
	assert.True(t, job.Status.Terminal())
	assert.True(t, job.CreatedAt.Equal(time.Date(2025, 2, 3, 14, 5, 6, 789_000_000, time.UTC)))
	assert.True(t, job.UpdatedAt.Equal(time.Date(2025, 2, 3, 14, 5, 9, 1_000_000, time.UTC)))
	require.NotNil(t, job.EndedAt)
	assert.True(t, job.EndedAt.Equal(job.UpdatedAt))
	assert.Empty(t, job.Error)
	assert.Empty(t, job.PausedAt)
	assert.Nil(t, job.ExecutionState)
	assert.Equal(t, []string{"up-1"}, job.IntermediateFiles)
	assert.Nil(t, job.ActiveUploads)
	assert.Equal(t, &TraceContext{
		TraceID:    "0af7651916cd43dd8448eb211c80319c",
		SpanID:     "b7ad6b7169203331",
		TraceFlags: 1,
	}, job.TraceContext)

	require.Len(t, job.Tasks, 2)
	input, ok := job.Task("input")
	require.True(t, ok)
	assert.Equal(t, FlowJobTaskCompleted, input.Status)
	// A task's result can be decoded into the type its node produced.
	var produced UploadFile
	require.NoError(t, json.Unmarshal(input.Result, &produced))
	assert.Equal(t, "up-1", produced.ID)
	assert.Equal(t, int64(2048), produced.Offset)
	require.NotNil(t, produced.Size)
	assert.Equal(t, int64(2048), *produced.Size)
	store, ok := job.Task("store")
	require.True(t, ok)
	assert.Empty(t, store.Result)
	assert.Zero(t, store.RetryCount)

	// The job's result is uploadista's TypedOutput[]; it stays decodable.
	var outputs []struct {
		NodeType  string     `json:"nodeType"`
		NodeID    string     `json:"nodeId"`
		Data      UploadFile `json:"data"`
		Timestamp string     `json:"timestamp"`
	}
	require.NoError(t, json.Unmarshal(job.Result, &outputs))
	require.Len(t, outputs, 1)
	assert.Equal(t, "storage-output-v1", outputs[0].NodeType)
	assert.Equal(t, "store", outputs[0].NodeID)
	assert.Equal(t, "https://cdn.example.com/up-2", outputs[0].Data.URL)

	// Re-encoding keeps every key uploadista wrote, clientId still null. The
	// only difference is retryCount: 0, which is optional and means the same
	// as absent.
	data, err := json.Marshal(job)
	require.NoError(t, err)
	var want map[string]any
	require.NoError(t, json.Unmarshal([]byte(uploadistaFlowJobJSON), &want))
	delete(want["tasks"].([]any)[1].(map[string]any), "retryCount")
	var got map[string]any
	require.NoError(t, json.Unmarshal(data, &got))
	// Times are re-encoded by Go, which drops trailing zeros; compare
	// them as instants and the rest exactly.
	normalizeTimes(t, want)
	normalizeTimes(t, got)
	assert.Equal(t, want, got)
	assert.Contains(t, got, "clientId")
	assert.Nil(t, got["clientId"])
}

// normalizeTimes rewrites the job-level and task-level timestamps of a decoded
// FlowJob document to RFC 3339 in UTC with nanosecond precision, so that two
// encodings of the same instant compare equal.
func normalizeTimes(t *testing.T, doc map[string]any) {
	t.Helper()
	norm := func(m map[string]any, key string) {
		s, ok := m[key].(string)
		if !ok {
			return
		}
		parsed, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err)
		m[key] = parsed.UTC().Format(time.RFC3339Nano)
	}
	for _, k := range []string{"createdAt", "updatedAt", "endedAt"} {
		norm(doc, k)
	}
	tasks, _ := doc["tasks"].([]any)
	for _, task := range tasks {
		m := task.(map[string]any)
		norm(m, "createdAt")
		norm(m, "updatedAt")
	}
}

func TestFlowJobDecodeUnknownStatus(t *testing.T) {
	// A status added by a newer uploadista must not make the record
	// unreadable; Valid reports it instead.
	var job FlowJob
	require.NoError(t, json.Unmarshal([]byte(`{"id":"j","status":"archived","clientId":null,"tasks":[]}`), &job))
	assert.Equal(t, FlowJobStatus("archived"), job.Status)
	assert.False(t, job.Status.Valid())
	assert.False(t, job.Status.Terminal())
}

func TestNewFlowJob(t *testing.T) {
	before := time.Now()
	job := NewFlowJob("flow-1", "storage-1")
	after := time.Now()

	parsed, err := uuid.Parse(job.ID)
	require.NoError(t, err, "ID %q is not a UUID", job.ID)
	assert.Equal(t, uuid.Version(4), parsed.Version())
	assert.Equal(t, "flow-1", job.FlowID)
	assert.Equal(t, "storage-1", job.StorageID)
	assert.Nil(t, job.ClientID)
	assert.Equal(t, FlowJobPending, job.Status)

	assert.False(t, job.CreatedAt.IsZero())
	assert.Equal(t, time.UTC, job.CreatedAt.Location())
	assert.WithinRange(t, job.CreatedAt, before, after)
	assert.True(t, job.UpdatedAt.Equal(job.CreatedAt))

	require.NotNil(t, job.Tasks)
	assert.Empty(t, job.Tasks)
	assert.Nil(t, job.EndedAt)
	assert.Nil(t, job.ExecutionState)
	assert.Nil(t, job.TraceContext)

	other := NewFlowJob("flow-1", "storage-1")
	assert.NotEqual(t, job.ID, other.ID)

	data, err := json.Marshal(job)
	require.NoError(t, err)
	keys := jsonKeys(t, data)
	assert.Equal(t, "null", string(keys["clientId"]))
	assert.Equal(t, "[]", string(keys["tasks"]))
	assert.Equal(t, `"pending"`, string(keys["status"]))
	assert.Len(t, keys, 8)
}

func TestFlowJobTask(t *testing.T) {
	job := NewFlowJob("f", "s")
	_, ok := job.Task("missing")
	assert.False(t, ok)

	job.Tasks = append(job.Tasks,
		FlowJobTask{NodeID: "a", Status: FlowJobTaskRunning},
		FlowJobTask{NodeID: "b", Status: FlowJobTaskPending},
	)
	task, ok := job.Task("b")
	require.True(t, ok)
	assert.Equal(t, FlowJobTaskPending, task.Status)

	// The pointer refers to the job's own task, so updates stick.
	task.Status = FlowJobTaskCompleted
	assert.Equal(t, FlowJobTaskCompleted, job.Tasks[1].Status)

	task, ok = job.Task("c")
	assert.False(t, ok)
	assert.Nil(t, task)
}

func TestFlowJobStatus(t *testing.T) {
	cases := []struct {
		status   FlowJobStatus
		value    string
		terminal bool
	}{
		{FlowJobPending, "pending", false},
		{FlowJobRunning, "running", false},
		{FlowJobCompleted, "completed", true},
		{FlowJobFailed, "failed", true},
		{FlowJobStarted, "started", false},
		{FlowJobPaused, "paused", false},
		{FlowJobCancelled, "cancelled", true},
	}
	for _, c := range cases {
		assert.Equal(t, c.value, string(c.status))
		assert.True(t, c.status.Valid(), c.value)
		assert.Equal(t, c.terminal, c.status.Terminal(), c.value)
	}
	for _, s := range []FlowJobStatus{"", "Pending", "canceled", "done"} {
		assert.False(t, s.Valid(), string(s))
		assert.False(t, s.Terminal(), string(s))
	}
}

func TestFlowJobTaskStatus(t *testing.T) {
	cases := map[FlowJobTaskStatus]string{
		FlowJobTaskStarted:   "started",
		FlowJobTaskPending:   "pending",
		FlowJobTaskRunning:   "running",
		FlowJobTaskCompleted: "completed",
		FlowJobTaskPaused:    "paused",
		FlowJobTaskFailed:    "failed",
	}
	for status, value := range cases {
		assert.Equal(t, value, string(status))
		assert.True(t, status.Valid(), value)
	}
	for _, s := range []FlowJobTaskStatus{"", "cancelled", "Running"} {
		assert.False(t, s.Valid(), string(s))
	}
}

func fullUploadFile() UploadFile {
	return UploadFile{
		ID:     "upload_abc123",
		Offset: 524288,
		Storage: UploadFileStorage{
			ID:       "s3-production",
			Type:     "s3",
			Path:     "files/",
			UploadID: "multipart_xyz",
			Bucket:   "my-uploads",
			Parts: []UploadFilePart{
				{PartNumber: 1, ETag: `"etag-1"`, Size: 262144},
				{PartNumber: 2, ETag: `"etag-2"`, Size: 262144},
			},
		},
		Flow: &UploadFileFlow{
			FlowID: "flow_resize_optimize",
			NodeID: "input_1",
			JobID:  "job_456",
		},
		Size: int64Ptr(1024000),
		Metadata: map[string]any{
			"fileName": "image.jpg",
			"width":    float64(1920),
			"public":   true,
			"tags":     []any{"a", "b"},
			"extra":    nil,
		},
		CreationDate:      "2024-01-15T10:30:00.000Z",
		URL:               "https://cdn.example.com/image.jpg",
		SizeIsDeferred:    true,
		Checksum:          "5d41402abc4b2a76b9719d911017c592",
		ChecksumAlgorithm: "md5",
		TraceContext: &TraceContext{
			TraceID:    "4bf92f3577b34da6a3ce929d0e0e4736",
			SpanID:     "00f067aa0ba902b7",
			TraceFlags: 0,
		},
	}
}

const fullUploadFileJSON = `{
	"id": "upload_abc123",
	"offset": 524288,
	"storage": {
		"id": "s3-production",
		"type": "s3",
		"path": "files/",
		"uploadId": "multipart_xyz",
		"bucket": "my-uploads",
		"parts": [
			{"partNumber": 1, "etag": "\"etag-1\"", "size": 262144},
			{"partNumber": 2, "etag": "\"etag-2\"", "size": 262144}
		]
	},
	"flow": {"flowId": "flow_resize_optimize", "nodeId": "input_1", "jobId": "job_456"},
	"size": 1024000,
	"metadata": {"fileName": "image.jpg", "width": 1920, "public": true, "tags": ["a", "b"], "extra": null},
	"creationDate": "2024-01-15T10:30:00.000Z",
	"url": "https://cdn.example.com/image.jpg",
	"sizeIsDeferred": true,
	"checksum": "5d41402abc4b2a76b9719d911017c592",
	"checksumAlgorithm": "md5",
	"traceContext": {"traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "00f067aa0ba902b7", "traceFlags": 0}
}`

func TestUploadFileMarshalFull(t *testing.T) {
	data, err := json.Marshal(fullUploadFile())
	require.NoError(t, err)
	assert.JSONEq(t, fullUploadFileJSON, string(data))
}

func TestUploadFileRoundTrip(t *testing.T) {
	var got UploadFile
	require.NoError(t, json.Unmarshal([]byte(fullUploadFileJSON), &got))
	assert.Equal(t, fullUploadFile(), got)

	data, err := json.Marshal(got)
	require.NoError(t, err)
	assert.JSONEq(t, fullUploadFileJSON, string(data))
}

func TestUploadFileMarshalMinimal(t *testing.T) {
	// The smallest UploadFile uploadista accepts: everything else is
	// optional and must be absent, not null or zero.
	data, err := json.Marshal(UploadFile{
		ID:      "file123",
		Storage: UploadFileStorage{ID: "s3", Type: "s3"},
	})
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":"file123","offset":0,"storage":{"id":"s3","type":"s3"}}`, string(data))
}

func TestUploadFileZeroSizeIsKept(t *testing.T) {
	// size 0 (an empty file) differs from an unknown size, so it is written.
	data, err := json.Marshal(UploadFile{ID: "empty", Size: int64Ptr(0)})
	require.NoError(t, err)
	keys := jsonKeys(t, data)
	assert.Equal(t, "0", string(keys["size"]))

	var back UploadFile
	require.NoError(t, json.Unmarshal(data, &back))
	require.NotNil(t, back.Size)
	assert.Zero(t, *back.Size)
}

// uploadistaUploadFileJSON is an UploadFile as uploadista's upload server
// writes it for a deferred-length tus upload that is part of a flow.
const uploadistaUploadFileJSON = `{"id":"0d9f3c1e","offset":65536,"storage":{"id":"r2-main","type":"r2","uploadId":"mpu-77","parts":[{"partNumber":1,"etag":"abc","size":65536}]},"flow":{"flowId":"thumbs","nodeId":"input","jobId":"job-9"},"metadata":{"fileName":"cat.png","contentType":"image/png","nested":{"k":[1,2]}},"creationDate":"2025-02-03T14:05:06.789Z","sizeIsDeferred":true}`

func TestUploadFileDecodeUploadistaDocument(t *testing.T) {
	var f UploadFile
	require.NoError(t, json.Unmarshal([]byte(uploadistaUploadFileJSON), &f))

	assert.Equal(t, "0d9f3c1e", f.ID)
	assert.Equal(t, int64(65536), f.Offset)
	assert.Nil(t, f.Size, "size is absent while deferred")
	assert.True(t, f.SizeIsDeferred)
	assert.Equal(t, UploadFileStorage{
		ID:       "r2-main",
		Type:     "r2",
		UploadID: "mpu-77",
		Parts:    []UploadFilePart{{PartNumber: 1, ETag: "abc", Size: 65536}},
	}, f.Storage)
	assert.Equal(t, &UploadFileFlow{FlowID: "thumbs", NodeID: "input", JobID: "job-9"}, f.Flow)
	assert.Equal(t, "cat.png", f.Metadata["fileName"])
	assert.Equal(t, "image/png", f.Metadata["contentType"])
	assert.Equal(t, map[string]any{"k": []any{float64(1), float64(2)}}, f.Metadata["nested"])
	assert.Equal(t, "2025-02-03T14:05:06.789Z", f.CreationDate)
	assert.Empty(t, f.URL)
	assert.Nil(t, f.TraceContext)

	data, err := json.Marshal(f)
	require.NoError(t, err)
	assert.JSONEq(t, uploadistaUploadFileJSON, string(data))
}
