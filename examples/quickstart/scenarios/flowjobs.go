package scenarios

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dokv/dokv"
)

// flowNodes are the nodes of the flow each run executes.
var flowNodes = []string{"decode", "resize", "watermark", "store"}

// trackFlowJob runs one job whose four nodes are executed by concurrent
// workers. Every change is an Update of the one job record, so no worker's
// change can overwrite another's: an update that meets a concurrent one
// runs its function again on the newer record.
//
// The job has a new UUID each run, so the jobs of earlier runs never get in
// its way; the history names them, and each must still be found completed.
func trackFlowJob(ctx context.Context, r *run) error {
	ns := r.ns[FlowJobs]
	jobs, err := dokv.NewFlowJobStore(ns)
	if err != nil {
		return err
	}
	runs, err := history[string](ns, "flow-jobs")
	if err != nil {
		return err
	}
	if err := checkEarlierJobs(ctx, r, jobs, runs); err != nil {
		return err
	}

	job := dokv.NewFlowJob("image-pipeline", "r2-uploads")
	for _, n := range flowNodes {
		job.Tasks = append(job.Tasks, dokv.FlowJobTask{
			NodeID: n, Status: dokv.FlowJobTaskPending, CreatedAt: job.CreatedAt, UpdatedAt: job.CreatedAt,
		})
	}
	if _, err := jobs.CompareAndSwap(ctx, job.ID, 0, job); err != nil {
		return fmt.Errorf("create job: %w", err)
	}
	r.printf("created job %s: %s with %d tasks\n", job.ID, job.Status, len(job.Tasks))

	var transitions sync.Map         // status -> struct{}: job statuses seen
	var updates, fnRuns atomic.Int32 // committed updates; runs of their functions
	setTask := func(node string, status dokv.FlowJobTaskStatus) error {
		_, err := jobs.Update(ctx, job.ID, func(j dokv.FlowJob, exists bool) (dokv.FlowJob, error) {
			fnRuns.Add(1)
			if !exists {
				return j, fmt.Errorf("job %s vanished", job.ID)
			}
			t, ok := j.Task(node)
			if !ok {
				return j, fmt.Errorf("job has no task %q", node)
			}
			now := time.Now().UTC()
			t.Status, t.UpdatedAt, j.UpdatedAt = status, now, now
			switch {
			case j.Status == dokv.FlowJobPending:
				j.Status = dokv.FlowJobRunning
			case allTasks(j, dokv.FlowJobTaskCompleted):
				j.Status, j.EndedAt = dokv.FlowJobCompleted, &now
			}
			transitions.Store(j.Status, struct{}{})
			return j, nil
		})
		if err == nil {
			updates.Add(1)
		}
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(flowNodes))
	for i, node := range flowNodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := setTask(node, dokv.FlowJobTaskRunning); err != nil {
				errs[i] = err
				return
			}
			errs[i] = setTask(node, dokv.FlowJobTaskCompleted)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}

	final, err := jobs.GetEntry(ctx, job.ID)
	if err != nil {
		return err
	}
	for _, t := range final.Value.Tasks {
		r.printf("  task %-9s %s\n", t.NodeID, t.Status)
	}
	// A version orders writes; it is not a count of them (it starts from
	// the object's clock), so the program counts the updates itself.
	r.printf("job %s after %d task updates, whose functions ran %d times (a run that met a concurrent update ran again)\n",
		final.Value.Status, updates.Load(), fnRuns.Load())
	if want := int32(2 * len(flowNodes)); updates.Load() != want {
		return fmt.Errorf("%d task updates committed, want %d", updates.Load(), want)
	}
	if !completed(final.Value) {
		return fmt.Errorf("job ended %s; every task and the job must be completed", final.Value.Status)
	}
	if _, ok := transitions.Load(dokv.FlowJobRunning); !ok {
		return errors.New("the job never went through running")
	}
	if _, err := jobs.Get(ctx, "no-such-job"); !errors.Is(err, dokv.ErrNotFound) {
		return fmt.Errorf("a missing job gave %v, want ErrNotFound", err)
	}
	r.printf("a missing job gives ErrNotFound\n")
	// Recorded only now that the job is known to be completed, so that a
	// later run may require every job the history names to be completed: a
	// run that stopped half way leaves its job out of the history.
	return runs.Set(ctx, r.id, job.ID)
}

// checkEarlierJobs reads back the job of every earlier run the history
// names: each must still be there, completed with all its tasks.
func checkEarlierJobs(ctx context.Context, r *run, jobs *dokv.Store[dokv.FlowJob], runs *dokv.Store[string]) error {
	found := 0
	for e, err := range runs.List(ctx, dokv.ListOptions{}) {
		if err != nil {
			return err
		}
		j, err := jobs.Get(ctx, e.Value)
		if err != nil {
			return fmt.Errorf("job %s of an earlier run: %w", e.Value, err)
		}
		if !completed(j) || len(j.Tasks) != len(flowNodes) {
			return fmt.Errorf("job %s of an earlier run is now %s with %d tasks; it was completed with %d",
				j.ID, j.Status, len(j.Tasks), len(flowNodes))
		}
		found++
	}
	switch {
	case found == 1:
		r.printf("found 1 flow job from an earlier run, still completed with its %d tasks\n", len(flowNodes))
	case found > 1:
		r.printf("found %d flow jobs from earlier runs, all still completed with their %d tasks\n", found, len(flowNodes))
	}
	return nil
}

// completed reports whether the job and all its tasks are completed.
func completed(j dokv.FlowJob) bool {
	return j.Status == dokv.FlowJobCompleted && j.EndedAt != nil && allTasks(j, dokv.FlowJobTaskCompleted)
}

// allTasks reports whether the job has tasks and all have the status s.
func allTasks(j dokv.FlowJob, s dokv.FlowJobTaskStatus) bool {
	for _, t := range j.Tasks {
		if t.Status != s {
			return false
		}
	}
	return len(j.Tasks) > 0
}
