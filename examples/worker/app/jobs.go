package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/dokv/dokv"
)

// Bounds of a job listing.
const (
	defaultJobLimit = 50
	maxJobLimit     = 1000
	// maxJobScan bounds the jobs one listing request examines, so that a
	// filter that matches few jobs cannot make a request read the whole
	// store: each job is a call to its own object.
	maxJobScan = 1000
	// jobFetches bounds the jobs a listing reads at once.
	jobFetches = 16
)

// errUnchanged aborts an Update that has nothing to write.
var errUnchanged = errors.New("unchanged")

// createJobRequest is the body of POST /jobs.
type createJobRequest struct {
	FlowID    string   `json:"flowId"`
	StorageID string   `json:"storageId"`
	Nodes     []string `json:"nodes"`
}

// createJob answers POST /jobs.
func (s *server) createJob(w http.ResponseWriter, r *http.Request) {
	var req createJobRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	if err := req.validate(); err != nil {
		writeError(w, r, err)
		return
	}
	s.writeNewJob(w, r, req)
}

// writeNewJob creates the job req describes (valid) and answers 201 with
// it.
func (s *server) writeNewJob(w http.ResponseWriter, r *http.Request, req createJobRequest) {
	job := dokv.NewFlowJob(req.FlowID, req.StorageID)
	for _, node := range req.Nodes {
		job.Tasks = append(job.Tasks, dokv.FlowJobTask{
			NodeID:    node,
			Status:    dokv.FlowJobTaskPending,
			CreatedAt: job.CreatedAt,
			UpdatedAt: job.CreatedAt,
		})
	}
	// The index first: an index entry whose job was never written is
	// skipped by GET /jobs, while a job missing from the index could never
	// be listed. Version 0: create only. A clash of random UUIDs is not
	// expected, but it would be a 409 rather than an overwritten job.
	if err := s.jobIndex.Set(r.Context(), job.ID, struct{}{}); err != nil {
		writeError(w, r, err)
		return
	}
	if _, err := s.jobs.CompareAndSwap(r.Context(), job.ID, 0, job); err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/jobs/"+url.PathEscape(job.ID))
	writeJSON(w, http.StatusCreated, job)
}

func (req *createJobRequest) validate() error {
	if req.FlowID == "" {
		return badRequest("flowId is required")
	}
	if req.StorageID == "" {
		return badRequest("storageId is required")
	}
	seen := make(map[string]bool, len(req.Nodes))
	for _, node := range req.Nodes {
		if node == "" {
			return badRequest("node IDs must not be empty")
		}
		if seen[node] {
			return badRequest("node %q appears twice", node)
		}
		seen[node] = true
	}
	return nil
}

// getJob answers GET /jobs/{id}.
func (s *server) getJob(w http.ResponseWriter, r *http.Request) {
	getRecord(w, r, s.jobs, "job")
}

// getUpload answers GET /uploads/{id}: the upload file that uploadista
// (TypeScript, through DokvObject's RPC methods, or Go) stored under id.
func (s *server) getUpload(w http.ResponseWriter, r *http.Request) {
	getRecord(w, r, s.uploads, "upload")
}

// getRecord answers with the record at the request's {id}, or a 404 that
// names it as what.
func getRecord[T any](w http.ResponseWriter, r *http.Request, store *dokv.Store[T], what string) {
	id := r.PathValue("id")
	v, err := store.Get(r.Context(), id)
	if errors.Is(err, dokv.ErrNotFound) {
		err = notFound("%s %q not found", what, id)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// patchJobRequest is the body of PATCH /jobs/{id}.
type patchJobRequest struct {
	Status dokv.FlowJobStatus `json:"status"`
	// Error, when given, replaces the job's error message.
	Error *string `json:"error"`
}

// patchJob answers PATCH /jobs/{id}: it moves the job to a new status.
func (s *server) patchJob(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req patchJobRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	if !req.Status.Valid() {
		writeError(w, r, badRequest("invalid job status %q", req.Status))
		return
	}
	s.updateJob(w, r, id, func(job *dokv.FlowJob) error {
		if job.Status.Terminal() {
			if job.Status == req.Status {
				return errUnchanged
			}
			return conflict("job %q is %s and cannot become %s", id, job.Status, req.Status)
		}
		now := time.Now().UTC()
		job.Status = req.Status
		job.UpdatedAt = now
		if req.Status.Terminal() {
			job.EndedAt = &now
		}
		if req.Error != nil {
			job.Error = *req.Error
		}
		return nil
	})
}

// patchTaskRequest is the body of PATCH /jobs/{id}/tasks/{node}.
type patchTaskRequest struct {
	Status dokv.FlowJobTaskStatus `json:"status"`
	// Result, when given, replaces the task's result; null clears it.
	Result json.RawMessage `json:"result"`
	// Error, when given, replaces the task's error message.
	Error *string `json:"error"`
}

// patchTask answers PATCH /jobs/{id}/tasks/{node}: it moves one task, and
// the job with it.
func (s *server) patchTask(w http.ResponseWriter, r *http.Request) {
	id, node := r.PathValue("id"), r.PathValue("node")
	var req patchTaskRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	if !req.Status.Valid() {
		writeError(w, r, badRequest("invalid task status %q", req.Status))
		return
	}
	s.updateJob(w, r, id, func(job *dokv.FlowJob) error {
		return moveTask(job, node, req)
	})
}

// moveTask applies req to the task of node in job, and moves the job with
// it: running once a task moves, failed with a failed task, completed once
// every task is.
func moveTask(job *dokv.FlowJob, node string, req patchTaskRequest) error {
	task, ok := job.Task(node)
	if !ok {
		return notFound("job %q has no task for node %q", job.ID, node)
	}
	if job.Status.Terminal() {
		if task.Status == req.Status {
			return errUnchanged
		}
		return conflict("job %q is %s; its tasks cannot change", job.ID, job.Status)
	}
	now := time.Now().UTC()
	task.Status = req.Status
	task.UpdatedAt = now
	switch {
	case req.Result == nil:
	case bytes.Equal(req.Result, []byte("null")):
		task.Result = nil
	default:
		task.Result = req.Result
	}
	if req.Error != nil {
		task.Error = *req.Error
	}
	job.UpdatedAt = now
	if job.Status == dokv.FlowJobPending || job.Status == dokv.FlowJobStarted {
		job.Status = dokv.FlowJobRunning
	}
	switch {
	case task.Status == dokv.FlowJobTaskFailed:
		job.Status = dokv.FlowJobFailed
		job.Error = task.Error
		if job.Error == "" {
			job.Error = "task " + node + " failed"
		}
		job.EndedAt = &now
	case allCompleted(job.Tasks):
		job.Status = dokv.FlowJobCompleted
		job.EndedAt = &now
	}
	return nil
}

func allCompleted(tasks []dokv.FlowJobTask) bool {
	for _, t := range tasks {
		if t.Status != dokv.FlowJobTaskCompleted {
			return false
		}
	}
	return true
}

// updateJob changes job id with change in a Store.Update, retried on
// conflict, and answers with the job as stored. change may run several
// times, each time on a fresh read; errUnchanged from it answers with the job
// as read, writing nothing.
func (s *server) updateJob(w http.ResponseWriter, r *http.Request, id string, change func(*dokv.FlowJob) error) {
	var current dokv.FlowJob
	job, err := s.jobs.Update(r.Context(), id, func(job dokv.FlowJob, exists bool) (dokv.FlowJob, error) {
		if !exists {
			return job, notFound("job %q not found", id)
		}
		current = job
		job.Tasks = slices.Clone(job.Tasks) // change must not touch current
		if err := change(&job); err != nil {
			return job, err
		}
		return job, nil
	})
	if errors.Is(err, errUnchanged) {
		job, err = current, nil
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	if job.Status.Terminal() && !current.Status.Terminal() {
		// The finished job expires after the retention time: so does its
		// index entry. Should this fail, GET /jobs skips the entry once the
		// job is gone, so the job's answer stands.
		if _, err := s.jobIndex.SetWithTTL(r.Context(), id, struct{}{}, s.retention); err != nil {
			log.Printf("job %s: index entry kept without expiry: %v", id, err)
		}
	}
	writeJSON(w, http.StatusOK, job)
}

// jobList is the response of GET /jobs.
type jobList struct {
	Jobs []dokv.FlowJob `json:"jobs"`
	Next string         `json:"next"`
}

// listJobs answers GET /jobs?status=&limit=&after=.
func (s *server) listJobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	status := dokv.FlowJobStatus(q.Get("status"))
	if status != "" && !status.Valid() {
		writeError(w, r, badRequest("invalid job status %q", status))
		return
	}
	limit, err := parseLimit(q.Get("limit"), defaultJobLimit, maxJobLimit)
	if err != nil {
		writeError(w, r, err)
		return
	}
	scan := maxJobScan
	if status == "" {
		scan = limit
	}
	// Jobs are read jobFetches at a time, in index order, until the page
	// is full or scan jobs were examined.
	out := jobList{Jobs: []dokv.FlowJob{}}
	examined := 0
	var batch []string
	full := func() (bool, error) {
		jobs, err := s.getJobs(r.Context(), batch)
		if err != nil {
			return false, err
		}
		for i, job := range jobs {
			examined++
			// A nil job is an index entry of a job whose creation failed.
			if job != nil && (status == "" || job.Status == status) {
				out.Jobs = append(out.Jobs, *job)
			}
			if len(out.Jobs) == limit || examined == scan {
				out.Next = batch[i]
				return true, nil
			}
		}
		batch = batch[:0]
		return false, nil
	}
	for e, err := range s.jobIndex.List(r.Context(), dokv.ListOptions{StartAfter: q.Get("after"), Limit: scan}) {
		if err != nil {
			writeError(w, r, err)
			return
		}
		if batch = append(batch, e.Key); len(batch) < jobFetches {
			continue
		}
		done, err := full()
		if err != nil {
			writeError(w, r, err)
			return
		}
		if done {
			break
		}
	}
	if len(batch) > 0 && out.Next == "" {
		if _, err := full(); err != nil {
			writeError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// getJobs reads the jobs ids, jobFetches at a time: the job of ids[i], or
// nil if it does not exist. The first failure ends the reads.
func (s *server) getJobs(ctx context.Context, ids []string) ([]*dokv.FlowJob, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make([]*dokv.FlowJob, len(ids))
	turns := make(chan struct{}, jobFetches)
	var wg sync.WaitGroup
	for i, id := range ids {
		turns <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-turns; wg.Done() }()
			job, err := s.jobs.Get(ctx, id)
			switch {
			case err == nil:
				jobs[i] = &job
			case !errors.Is(err, dokv.ErrNotFound):
				cancel(err)
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return jobs, nil
}
