package dokv

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// The types in this file mirror the records that uploadista core keeps in its
// KV store (packages/core/src/flow/types/flow-job.ts and
// packages/core/src/types/upload-file.ts in uploadista/uploadista-sdk).
// uploadista writes them with JSON.stringify and reads them back with
// JSON.parse, so the JSON names, and whether a key may be absent, are the
// contract: a record written by dokv must be readable by an uploadista server
// and the other way round. Optional TypeScript fields (`x?: T`) are therefore
// omitted when empty, and required ones are always written.

// FlowJobStatus is the overall state of a flow job. Its JSON values match
// uploadista's FlowJobStatus union. Unknown values decode without error so
// that a newer uploadista cannot make old records unreadable; use Valid to
// check.
type FlowJobStatus string

// The FlowJobStatus values uploadista defines. A job normally goes
// started → running → (completed | failed | cancelled), and may pass through
// paused any number of times before it ends.
const (
	// FlowJobPending is a job that has been created but not started.
	FlowJobPending FlowJobStatus = "pending"
	// FlowJobRunning is a job whose nodes are being executed.
	FlowJobRunning FlowJobStatus = "running"
	// FlowJobCompleted is a job whose output nodes have all finished.
	FlowJobCompleted FlowJobStatus = "completed"
	// FlowJobFailed is a job that stopped because a node failed.
	FlowJobFailed FlowJobStatus = "failed"
	// FlowJobStarted is a job that the engine has picked up.
	FlowJobStarted FlowJobStatus = "started"
	// FlowJobPaused is a job waiting at a node for more data or a resume.
	FlowJobPaused FlowJobStatus = "paused"
	// FlowJobCancelled is a job that a user cancelled.
	FlowJobCancelled FlowJobStatus = "cancelled"
)

// Terminal reports whether s is a final state (completed, failed or
// cancelled), after which the job will not change again. A paused job is not
// terminal because it can be resumed.
func (s FlowJobStatus) Terminal() bool {
	switch s {
	case FlowJobCompleted, FlowJobFailed, FlowJobCancelled:
		return true
	}
	return false
}

// Valid reports whether s is one of the statuses uploadista defines.
func (s FlowJobStatus) Valid() bool {
	switch s {
	case FlowJobPending, FlowJobRunning, FlowJobCompleted, FlowJobFailed,
		FlowJobStarted, FlowJobPaused, FlowJobCancelled:
		return true
	}
	return false
}

// FlowJobTaskStatus is the state of one node's execution within a flow job.
// Its JSON values match uploadista's FlowJobTaskStatus union.
type FlowJobTaskStatus string

// The FlowJobTaskStatus values uploadista defines. A task normally goes
// started → pending → running → (completed | paused | failed).
const (
	// FlowJobTaskStarted is a task that has been created for its node.
	FlowJobTaskStarted FlowJobTaskStatus = "started"
	// FlowJobTaskPending is a task waiting for its inputs.
	FlowJobTaskPending FlowJobTaskStatus = "pending"
	// FlowJobTaskRunning is a task whose node is executing.
	FlowJobTaskRunning FlowJobTaskStatus = "running"
	// FlowJobTaskCompleted is a task whose node produced its result.
	FlowJobTaskCompleted FlowJobTaskStatus = "completed"
	// FlowJobTaskPaused is a task whose node is waiting for more data.
	FlowJobTaskPaused FlowJobTaskStatus = "paused"
	// FlowJobTaskFailed is a task whose node failed after its retries.
	FlowJobTaskFailed FlowJobTaskStatus = "failed"
)

// Valid reports whether s is one of the task statuses uploadista defines.
func (s FlowJobTaskStatus) Valid() bool {
	switch s {
	case FlowJobTaskStarted, FlowJobTaskPending, FlowJobTaskRunning,
		FlowJobTaskCompleted, FlowJobTaskPaused, FlowJobTaskFailed:
		return true
	}
	return false
}

// FlowJobTask is one node's execution within a flow job. Its JSON matches
// uploadista's FlowJobTask type.
type FlowJobTask struct {
	// NodeID is the ID of the flow node this task runs.
	NodeID string `json:"nodeId"`
	// Status is where the node is in its lifecycle.
	Status FlowJobTaskStatus `json:"status"`
	// Result is the node's output: partial data while paused, the full
	// output once completed. uploadista types it as unknown, so it is kept
	// as raw JSON to round-trip whatever a node produced; omitted when empty.
	Result json.RawMessage `json:"result,omitempty"`
	// Error is the failure message of a failed node; omitted when empty.
	Error string `json:"error,omitempty"`
	// RetryCount is how many retries the node took. Optional in uploadista,
	// where absent means none, so zero is omitted.
	RetryCount int `json:"retryCount,omitempty"`
	// CreatedAt is when the task was created, written as RFC 3339.
	CreatedAt time.Time `json:"createdAt"`
	// UpdatedAt is when the task last changed, written as RFC 3339.
	UpdatedAt time.Time `json:"updatedAt"`
}

// TraceContext is an OpenTelemetry (W3C) trace context that links a job's or
// an upload's operations under one trace. Its JSON matches uploadista's
// FlowJobTraceContext and UploadFileTraceContext, which are the same shape.
type TraceContext struct {
	// TraceID is the 128-bit trace ID as 32 hex characters.
	TraceID string `json:"traceId"`
	// SpanID is the 64-bit parent span ID as 16 hex characters.
	SpanID string `json:"spanId"`
	// TraceFlags are the W3C trace flags; 1 means sampled.
	TraceFlags int `json:"traceFlags"`
}

// FlowJobExecutionState is what uploadista needs to resume a paused flow. Its
// JSON matches the executionState object of uploadista's FlowJob.
type FlowJobExecutionState struct {
	// ExecutionOrder is the node IDs in topological order.
	ExecutionOrder []string `json:"executionOrder"`
	// CurrentIndex is the position in ExecutionOrder to resume from.
	CurrentIndex int `json:"currentIndex"`
	// Inputs are the flow's original inputs by input node ID. uploadista
	// types the values as unknown, so they are kept as raw JSON: a caller
	// decodes each into whatever its input node expects.
	Inputs map[string]json.RawMessage `json:"inputs"`
}

// MarshalJSON writes nil ExecutionOrder and Inputs as [] and {} because
// uploadista declares both as required and reads them without null checks.
func (s FlowJobExecutionState) MarshalJSON() ([]byte, error) {
	type plain FlowJobExecutionState // drops this method, avoiding recursion
	p := plain(s)
	if p.ExecutionOrder == nil {
		p.ExecutionOrder = []string{}
	}
	if p.Inputs == nil {
		p.Inputs = map[string]json.RawMessage{}
	}
	return json.Marshal(p)
}

// FlowJob is one execution of a flow, as uploadista stores it under
// "uploadista:flow-job:<id>". Its JSON matches uploadista's FlowJob type
// field for field, plus activeUploads (see ActiveUploads).
type FlowJob struct {
	// ID is the job's unique ID, a UUID.
	ID string `json:"id"`
	// FlowID is the ID of the flow being executed.
	FlowID string `json:"flowId"`
	// StorageID is the storage that receives the flow's output files.
	StorageID string `json:"storageId"`
	// ClientID is the client that started the job, used for authorization.
	// uploadista types it `string | null` and always writes the key, so nil
	// is written as null rather than omitted.
	ClientID *string `json:"clientId"`
	// Status is the job's overall state.
	Status FlowJobStatus `json:"status"`
	// CreatedAt is when the job was created, written as RFC 3339.
	CreatedAt time.Time `json:"createdAt"`
	// UpdatedAt is when the job last changed, written as RFC 3339.
	UpdatedAt time.Time `json:"updatedAt"`
	// Tasks are the per-node executions. Always written; nil is written as
	// [] because uploadista iterates it without a null check.
	Tasks []FlowJobTask `json:"tasks"`
	// Error is the failure message of a failed job; omitted when empty.
	Error string `json:"error,omitempty"`
	// EndedAt is when the job completed, failed or was cancelled; omitted
	// while it runs.
	EndedAt *time.Time `json:"endedAt,omitempty"`
	// Result holds the outputs of the output nodes once the job completes:
	// in current uploadista an array of TypedOutput objects ({nodeId,
	// nodeType?, data, timestamp}), in older releases any value. Kept as raw
	// JSON so both round-trip unchanged; omitted when empty.
	Result json.RawMessage `json:"result,omitempty"`
	// PausedAt is the ID of the node where a paused job waits. It is a node
	// ID, not a time, because that is what uploadista stores in pausedAt.
	PausedAt string `json:"pausedAt,omitempty"`
	// ExecutionState is what a paused job needs to resume; omitted when nil.
	ExecutionState *FlowJobExecutionState `json:"executionState,omitempty"`
	// IntermediateFiles are the IDs of UploadFiles made by non-output nodes,
	// to be deleted when the flow ends; omitted when empty.
	IntermediateFiles []string `json:"intermediateFiles,omitempty"`
	// TraceContext links the job's operations into a distributed trace;
	// omitted when nil.
	TraceContext *TraceContext `json:"traceContext,omitempty"`
	// ActiveUploads are the IDs of uploads still in progress for this job.
	// uploadista core's FlowJob does not declare this key; it is written
	// only when non-empty, so records without it stay exactly uploadista's
	// shape, and uploadista ignores it when present.
	ActiveUploads []string `json:"activeUploads,omitempty"`
}

// NewFlowJob returns a pending job for the flow flowID writing to the storage
// storageID, with a new random UUID, both timestamps set to now in UTC, no
// client, and an empty task list.
func NewFlowJob(flowID, storageID string) FlowJob {
	now := time.Now().UTC()
	return FlowJob{
		ID:        uuid.NewString(),
		FlowID:    flowID,
		StorageID: storageID,
		Status:    FlowJobPending,
		CreatedAt: now,
		UpdatedAt: now,
		Tasks:     []FlowJobTask{},
	}
}

// MarshalJSON writes the job in uploadista's shape; it exists so that nil
// Tasks is written as [] rather than null.
func (j FlowJob) MarshalJSON() ([]byte, error) {
	type plain FlowJob // drops this method, avoiding recursion
	p := plain(j)
	if p.Tasks == nil {
		p.Tasks = []FlowJobTask{}
	}
	return json.Marshal(p)
}

// Task returns a pointer to the task for the node nodeID, so that the caller
// can update it in place, and whether there is one. uploadista keeps at most
// one task per node; if there were several, the first is returned.
func (j *FlowJob) Task(nodeID string) (*FlowJobTask, bool) {
	for i := range j.Tasks {
		if j.Tasks[i].NodeID == nodeID {
			return &j.Tasks[i], true
		}
	}
	return nil, false
}

// UploadFile is an upload's metadata, as uploadista stores it under
// "uploadista:upload-file:<id>". Its JSON matches uploadista's UploadFile type
// (and uploadFileSchema) field for field.
type UploadFile struct {
	// ID is the upload's unique ID.
	ID string `json:"id"`
	// Offset is how many bytes have been received so far.
	Offset int64 `json:"offset"`
	// Storage says which storage backend holds the bytes, and where.
	Storage UploadFileStorage `json:"storage"`
	// Flow is set when a flow node produced or consumes the file; omitted
	// when nil.
	Flow *UploadFileFlow `json:"flow,omitempty"`
	// Size is the total size in bytes. It is a pointer because 0 is a real
	// size (an empty file) while absent means not known yet; omitted when nil.
	Size *int64 `json:"size,omitempty"`
	// Metadata is the caller's key-value metadata (file name, content type,
	// ...). uploadista allows any JSON value, which is exactly what
	// encoding/json decodes into any; omitted when empty.
	Metadata map[string]any `json:"metadata,omitempty"`
	// CreationDate is when the upload was created, as the ISO 8601 string
	// uploadista writes. It stays a string, as uploadista types it, so that
	// any producer's format round-trips unchanged; omitted when empty.
	CreationDate string `json:"creationDate,omitempty"`
	// URL is where the finished file can be fetched; omitted when empty.
	URL string `json:"url,omitempty"`
	// SizeIsDeferred is true when the size was not known at upload start;
	// omitted when false, which uploadista reads the same as absent.
	SizeIsDeferred bool `json:"sizeIsDeferred,omitempty"`
	// Checksum is the file's checksum in the form ChecksumAlgorithm gives;
	// omitted when empty.
	Checksum string `json:"checksum,omitempty"`
	// ChecksumAlgorithm names the checksum's algorithm, e.g. "md5" or
	// "sha256"; omitted when empty.
	ChecksumAlgorithm string `json:"checksumAlgorithm,omitempty"`
	// TraceContext links the upload's operations into a distributed trace;
	// omitted when nil.
	TraceContext *TraceContext `json:"traceContext,omitempty"`
}

// UploadFileStorage locates an upload in a storage backend. Its JSON matches
// the storage object of uploadista's UploadFile.
type UploadFileStorage struct {
	// ID is the storage backend's configured ID, e.g. "s3-production".
	ID string `json:"id"`
	// Type is the backend kind, e.g. "s3", "azure" or "gcs".
	Type string `json:"type"`
	// Path is the object's path or prefix in the backend; omitted when empty.
	Path string `json:"path,omitempty"`
	// UploadID is the backend's own upload ID, such as an S3 multipart
	// upload ID; omitted when empty.
	UploadID string `json:"uploadId,omitempty"`
	// Bucket is the bucket or container name; omitted when empty.
	Bucket string `json:"bucket,omitempty"`
	// Parts are the parts uploaded so far, for backends that must track them
	// themselves (such as R2); omitted when empty.
	Parts []UploadFilePart `json:"parts,omitempty"`
}

// UploadFilePart is one uploaded part of a multipart upload. Its JSON matches
// the elements of storage.parts in uploadista's UploadFile.
type UploadFilePart struct {
	// PartNumber is the part's 1-based number in the multipart upload.
	PartNumber int `json:"partNumber"`
	// ETag is the ETag the backend returned for the part.
	ETag string `json:"etag"`
	// Size is the part's size in bytes.
	Size int64 `json:"size"`
}

// UploadFileFlow ties an upload to the flow job that produced it. Its JSON
// matches the flow object of uploadista's UploadFile.
type UploadFileFlow struct {
	// FlowID is the ID of the flow.
	FlowID string `json:"flowId"`
	// NodeID is the ID of the node that created the file.
	NodeID string `json:"nodeId"`
	// JobID is the ID of the FlowJob.
	JobID string `json:"jobId"`
}

// Prefixes of the FlowJob and UploadFile stores. They follow uploadista's
// key prefixes, so a namespace holds jobs and uploads side by side and
// neither store sees the other's keys.
const (
	FlowJobPrefix    = "uploadista:flow-job:"
	UploadFilePrefix = "uploadista:upload-file:"
)

// NewFlowJobStore returns a store of flow jobs keyed by job ID: PerKey, as
// @uploadista/kv-store-cloudflare-do routes them, under FlowJobPrefix. opts
// may override both.
//
// In a Worker, a store made here over a WorkersNamespace in that client's
// layout (WithPartitioning(ObjectNamedByKey()), FlowJobPrefix, the JSON
// codec) with a TTL (WithFlowJobRetention or WithTTL) also sets
// the TTL of the jobs that TypeScript writes through the client's RPC
// methods on DokvObject: such a write gets the TTL this store would give
// the same job, so that a job finished from TypeScript expires after the
// retention as one finished from Go does. Only stores made before Serve,
// in main, set it: the Durable Object runs in the same Go instance, which
// always runs main first, so each of its calls sees the same rules. When
// several stores set one, a job gets the longest TTL any of them gives it
// (no TTL being the longest): a write from TypeScript cannot say which
// store it stands for, and keeping a job longer than one store wanted is
// safer than expiring it sooner than another expects. A store without a
// TTL sets none. The record's bytes are stored exactly as sent.
func NewFlowJobStore(ns Namespace, opts ...Option) (*Store[FlowJob], error) {
	s, err := New[FlowJob](ns, append([]Option{WithPrefix(FlowJobPrefix)}, opts...)...)
	if err == nil {
		registerRecordTTL(s, FlowJobPrefix)
	}
	return s, err
}

// NewUploadFileStore returns a store of uploads keyed by upload ID: PerKey,
// under UploadFilePrefix. opts may override both.
//
// In a Worker, a store made here in the layout of
// @uploadista/kv-store-cloudflare-do with a TTL (WithTTL)
// sets the TTL of the upload files TypeScript writes through that client
// (setUploadFile), by the rules of NewFlowJobStore.
func NewUploadFileStore(ns Namespace, opts ...Option) (*Store[UploadFile], error) {
	s, err := New[UploadFile](ns, append([]Option{WithPrefix(UploadFilePrefix)}, opts...)...)
	if err == nil {
		registerRecordTTL(s, UploadFilePrefix)
	}
	return s, err
}
