// Command quickstart runs the scenarios of @uploadista/kv-store-cloudflare-do's
// README on dokv's in-memory namespace, which runs the same object code as
// the Durable Object:
//
//  1. tracking long-running flow jobs through their statuses while workers
//     update their tasks concurrently;
//  2. coordinating a multi-step upload whose chunks arrive concurrently (some
//     twice), where exactly one arrival triggers assembly;
//  3. the three partitioning patterns, and what each costs in objects.
//
// It prints what happens and exits non-zero if an invariant breaks.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dokv/dokv"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	failed := false
	for _, scenario := range []struct {
		name string
		run  func(context.Context, io.Writer) error
	}{
		{"flow jobs", trackFlowJob},
		{"upload coordination", coordinateUpload},
		{"partitioning", comparePartitionings},
	} {
		fmt.Printf("== %s\n", scenario.name)
		if err := scenario.run(ctx, os.Stdout); err != nil {
			fmt.Printf("FAIL %s: %v\n", scenario.name, err)
			failed = true
			continue
		}
		fmt.Printf("ok   %s\n\n", scenario.name)
	}
	if failed {
		os.Exit(1)
	}
}

// trackFlowJob runs one job whose four nodes are executed by concurrent
// workers. Every change is an Update of the one job record, so no worker's
// change can overwrite another's: an update that meets a concurrent one
// runs its function again on the newer record.
func trackFlowJob(ctx context.Context, out io.Writer) error {
	jobs, err := dokv.NewFlowJobStore(dokv.NewMemoryNamespace())
	if err != nil {
		return err
	}
	job := dokv.NewFlowJob("image-pipeline", "r2-uploads")
	nodes := []string{"decode", "resize", "watermark", "store"}
	for _, n := range nodes {
		job.Tasks = append(job.Tasks, dokv.FlowJobTask{
			NodeID: n, Status: dokv.FlowJobTaskPending, CreatedAt: job.CreatedAt, UpdatedAt: job.CreatedAt,
		})
	}
	if _, err := jobs.CompareAndSwap(ctx, job.ID, 0, job); err != nil {
		return fmt.Errorf("create job: %w", err)
	}
	fmt.Fprintf(out, "created job %s: %s with %d tasks\n", job.ID, job.Status, len(job.Tasks))

	var transitions sync.Map       // status -> struct{}: job statuses seen
	var updates, runs atomic.Int32 // committed updates; runs of their functions
	setTask := func(node string, status dokv.FlowJobTaskStatus) error {
		_, err := jobs.Update(ctx, job.ID, func(j dokv.FlowJob, exists bool) (dokv.FlowJob, error) {
			runs.Add(1)
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
	errs := make([]error, len(nodes))
	for i, node := range nodes {
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
		fmt.Fprintf(out, "  task %-9s %s\n", t.NodeID, t.Status)
	}
	// A version orders writes; it is not a count of them (it starts from
	// the object's clock), so the program counts the updates itself.
	fmt.Fprintf(out, "job %s after %d task updates, whose functions ran %d times (a run that met a concurrent update ran again)\n",
		final.Value.Status, updates.Load(), runs.Load())
	if want := int32(2 * len(nodes)); updates.Load() != want {
		return fmt.Errorf("%d task updates committed, want %d", updates.Load(), want)
	}
	if final.Value.Status != dokv.FlowJobCompleted || !allTasks(final.Value, dokv.FlowJobTaskCompleted) || final.Value.EndedAt == nil {
		return fmt.Errorf("job ended %s; every task and the job must be completed", final.Value.Status)
	}
	if _, ok := transitions.Load(dokv.FlowJobRunning); !ok {
		return errors.New("the job never went through running")
	}
	if _, err := jobs.Get(ctx, "no-such-job"); !errors.Is(err, dokv.ErrNotFound) {
		return fmt.Errorf("a missing job gave %v, want ErrNotFound", err)
	}
	fmt.Fprintln(out, "a missing job gives ErrNotFound")
	return nil
}

func allTasks(j dokv.FlowJob, s dokv.FlowJobTaskStatus) bool {
	for _, t := range j.Tasks {
		if t.Status != s {
			return false
		}
	}
	return len(j.Tasks) > 0
}

// coordinateUpload receives the parts of one upload concurrently, each part
// delivered once and some twice, as a retrying client would. Each arrival
// records its part in the UploadFile with Update; the arrival whose update
// completes the file is the one that assembles it.
func coordinateUpload(ctx context.Context, out io.Writer) error {
	uploads, err := dokv.NewUploadFileStore(dokv.NewMemoryNamespace())
	if err != nil {
		return err
	}
	const parts, partSize = 12, 5 << 20
	size := int64(parts * partSize)
	upload := dokv.UploadFile{
		ID:           "upload-7f3a",
		Size:         &size,
		Storage:      dokv.UploadFileStorage{ID: "r2-uploads", Type: "r2", Path: "videos/7f3a.mp4"},
		Metadata:     map[string]any{"filename": "holiday.mp4", "contentType": "video/mp4"},
		CreationDate: time.Now().UTC().Format(time.RFC3339),
	}
	if err := uploads.Set(ctx, upload.ID, upload); err != nil {
		return err
	}
	fmt.Fprintf(out, "upload %s expects %d parts of %d MiB\n", upload.ID, parts, partSize>>20)

	var assemblies, duplicates atomic.Int32
	arrive := func(part int) error {
		var completedHere, duplicate bool
		_, err := uploads.Update(ctx, upload.ID, func(u dokv.UploadFile, exists bool) (dokv.UploadFile, error) {
			if !exists {
				return u, errors.New("upload vanished")
			}
			// fn may run more than once; the flags describe the attempt
			// that was committed, because Update returns after it.
			before := u.Offset
			completedHere, duplicate = false, false
			if slices.ContainsFunc(u.Storage.Parts, func(p dokv.UploadFilePart) bool { return p.PartNumber == part }) {
				duplicate = true
				return u, nil
			}
			u.Storage.Parts = append(slices.Clone(u.Storage.Parts), dokv.UploadFilePart{
				PartNumber: part, ETag: fmt.Sprintf("etag-%d", part), Size: partSize,
			})
			u.Offset += partSize
			completedHere = before < *u.Size && u.Offset == *u.Size
			return u, nil
		})
		if err != nil {
			return err
		}
		if duplicate {
			duplicates.Add(1)
		}
		if completedHere {
			assemblies.Add(1)
			fmt.Fprintf(out, "  part %2d completed the upload: its arrival is the one to assemble it\n", part)
		}
		return nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*parts)
	for part := 1; part <= parts; part++ {
		deliveries := 1
		if part%3 == 0 {
			deliveries = 2 // a retried request delivers the part again
		}
		for range deliveries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := arrive(part); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	final, err := uploads.Get(ctx, upload.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "offset %d of %d bytes, %d parts recorded, %d duplicate deliveries ignored, %s\n",
		final.Offset, *final.Size, len(final.Storage.Parts), duplicates.Load(), count(int(assemblies.Load()), "arrival", "arrivals")+" to assemble")
	if assemblies.Load() != 1 {
		return fmt.Errorf("%d arrivals triggered assembly, want exactly 1", assemblies.Load())
	}
	if final.Offset != size || len(final.Storage.Parts) != parts {
		return fmt.Errorf("offset %d with %d parts, want %d with %d", final.Offset, len(final.Storage.Parts), size, parts)
	}
	return nil
}

// comparePartitionings stores the same keys under each pattern and reports
// how many objects each used and whether it can list.
func comparePartitionings(ctx context.Context, out io.Writer) error {
	const keys = 200
	for _, p := range []dokv.Partitioning{dokv.SingleObject("uploads"), dokv.PerKey(), dokv.HashShards(8)} {
		ns := dokv.NewMemoryNamespace()
		store, err := dokv.New[int](ns, dokv.WithPartitioning(p))
		if err != nil {
			return err
		}
		for i := range keys {
			if err := store.Set(ctx, fmt.Sprintf("upload-%03d", i), i); err != nil {
				return err
			}
		}
		listed, inOrder := 0, true
		var listErr error
		for e, err := range store.List(ctx, dokv.ListOptions{Prefix: "upload-"}) {
			if err != nil {
				listErr = err
				break
			}
			inOrder = inOrder && e.Key == fmt.Sprintf("upload-%03d", listed)
			listed++
		}
		objects := count(ns.Objects(), "object", "objects")
		switch {
		case listErr == nil && listed == keys && inOrder:
			fmt.Fprintf(out, "  %-26s %11s, lists all %d keys in order\n", p, objects, listed)
		case errors.Is(listErr, dokv.ErrUnsupported) && p.String() == dokv.PerKey().String():
			fmt.Fprintf(out, "  %-26s %11s, cannot list (ErrUnsupported)\n", p, objects)
		default:
			return fmt.Errorf("%s listed %d of %d keys (in order: %t): %v", p, listed, keys, inOrder, listErr)
		}
	}
	return nil
}

// count writes n with the noun's singular or plural.
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
