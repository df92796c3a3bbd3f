package app

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/dokv/dokv"
)

// A demo job is a flow job that the dashboard advances by itself, so that
// a newcomer who runs the example sees progress move without a client of
// their own. The page that shows it asks for each step (POST
// /jobs/{id}/advance): no handler sleeps, and a job nobody watches stays
// where it is.
const (
	demoFlowID = "demo"
	// demoStep is how much one step moves a task, as a fraction.
	demoStep = 0.2
)

// demoNodes are the demo job's tasks.
var demoNodes = []string{"fetch", "scan", "resize", "store"}

// createDemoJob answers POST /jobs/demo: a new demo job, 201.
func (s *server) createDemoJob(w http.ResponseWriter, r *http.Request) {
	s.writeNewJob(w, r, createJobRequest{FlowID: demoFlowID, StorageID: "demo", Nodes: demoNodes})
}

// advanceDemoJob answers POST /jobs/{id}/advance: it moves the first
// unfinished task of a demo job on by demoStep (completing it at 1), and
// answers with the job. Another job is 409, a finished one too.
func (s *server) advanceDemoJob(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.updateJob(w, r, id, func(job *dokv.FlowJob) error {
		if job.FlowID != demoFlowID {
			return conflict("job %q is not a demo job", id)
		}
		if job.Status.Terminal() {
			return conflict("job %q is %s", id, job.Status)
		}
		for _, task := range job.Tasks {
			if task.Status == dokv.FlowJobTaskCompleted {
				continue
			}
			next := TaskProgress(task) + demoStep
			req := patchTaskRequest{Status: dokv.FlowJobTaskRunning, Result: progressResult(next)}
			if next >= 1-demoStep/2 { // within rounding of 1
				req = patchTaskRequest{Status: dokv.FlowJobTaskCompleted, Result: progressResult(1)}
			}
			return moveTask(job, task.NodeID, req)
		}
		return conflict("job %q has no unfinished task", id)
	})
}

// TaskProgress is a task's progress from 0 to 1, as the dashboard shows
// it: 1 once completed, else the "progress" of its result (a number, as
// the demo and the example's clients write it), else 0.
func TaskProgress(t dokv.FlowJobTask) float64 {
	if t.Status == dokv.FlowJobTaskCompleted {
		return 1
	}
	var r struct {
		Progress float64 `json:"progress"`
	}
	if json.Unmarshal(t.Result, &r) != nil {
		return 0
	}
	return min(max(r.Progress, 0), 1)
}

// progressResult is a task result that reports progress p (0 to 1).
func progressResult(p float64) json.RawMessage {
	return json.RawMessage(`{"progress":` + strconv.FormatFloat(min(p, 1), 'f', 2, 64) + `}`)
}
