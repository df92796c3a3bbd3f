package scenarios

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/dokv/dokv"
)

// The upload each run coordinates: parts of partSize bytes.
const parts, partSize = 12, 5 << 20

// uploadRun is what the history keeps of a run's upload.
type uploadRun struct {
	// UploadID is the upload's ID.
	UploadID string `json:"uploadId"`
	// AssembledBy is the part whose arrival completed the upload.
	AssembledBy int `json:"assembledBy"`
}

// coordinateUpload receives the parts of one upload concurrently, each part
// delivered once and some twice, as a retrying client would. Each arrival
// records its part in the UploadFile with Update; the arrival whose update
// completes the file is the one that assembles it.
//
// The upload has a new ID each run. The uploads of earlier runs, which the
// history names, must still be complete; and a part delivered late to the
// last of them, long after its assembly, must be ignored as a duplicate
// rather than assemble it again.
func coordinateUpload(ctx context.Context, r *run) error {
	ns := r.ns[UploadCoordination]
	uploads, err := dokv.NewUploadFileStore(ns)
	if err != nil {
		return err
	}
	runs, err := history[uploadRun](ns, "uploads")
	if err != nil {
		return err
	}
	if err := checkEarlierUploads(ctx, r, uploads, runs); err != nil {
		return err
	}

	size := int64(parts * partSize)
	id := uuid.NewString()
	upload := dokv.UploadFile{
		ID:           "upload-" + id,
		Size:         &size,
		Storage:      dokv.UploadFileStorage{ID: "r2-uploads", Type: "r2", Path: "videos/" + id + ".mp4"},
		Metadata:     map[string]any{"filename": "holiday.mp4", "contentType": "video/mp4"},
		CreationDate: time.Now().UTC().Format(time.RFC3339),
	}
	if _, err := uploads.CompareAndSwap(ctx, upload.ID, 0, upload); err != nil {
		return fmt.Errorf("create upload: %w", err)
	}
	r.printf("upload %s expects %d parts of %d MiB\n", upload.ID, parts, partSize>>20)

	var duplicates atomic.Int32
	var mu sync.Mutex
	var assembledBy []int // the parts whose arrival completed the upload
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
				completedHere, duplicate, err := arrive(ctx, uploads, upload.ID, part)
				switch {
				case err != nil:
					errs <- err
				case duplicate:
					duplicates.Add(1)
				case completedHere:
					mu.Lock()
					assembledBy = append(assembledBy, part)
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	// Printed after the arrivals, from one goroutine, so that the output
	// is whole even if the invariant broke and several arrivals claim it.
	for _, part := range assembledBy {
		r.printf("  part %2d completed the upload: its arrival is the one to assemble it\n", part)
	}
	final, err := uploads.Get(ctx, upload.ID)
	if err != nil {
		return err
	}
	r.printf("offset %d of %d bytes, %d parts recorded, %d duplicate deliveries ignored, %s to assemble\n",
		final.Offset, *final.Size, len(final.Storage.Parts), duplicates.Load(), count(len(assembledBy), "arrival", "arrivals"))
	if len(assembledBy) != 1 {
		return fmt.Errorf("%d arrivals triggered assembly, want exactly 1", len(assembledBy))
	}
	if !complete(final) {
		return fmt.Errorf("offset %d with %d parts, want %d with %d", final.Offset, len(final.Storage.Parts), size, parts)
	}
	// Recorded only once the upload is complete: every upload the history
	// names must be found complete by a later run.
	return runs.Set(ctx, r.id, uploadRun{UploadID: upload.ID, AssembledBy: assembledBy[0]})
}

// arrive records the arrival of part in the upload id. It reports whether
// this arrival completed the upload (then it is the one to assemble it),
// and whether the part had already arrived (then it changed nothing).
func arrive(ctx context.Context, uploads *dokv.Store[dokv.UploadFile], id string, part int) (completedHere, duplicate bool, err error) {
	_, err = uploads.Update(ctx, id, func(u dokv.UploadFile, exists bool) (dokv.UploadFile, error) {
		if !exists || u.Size == nil {
			return u, fmt.Errorf("upload %s vanished", id)
		}
		// fn may run more than once; the flags describe the attempt that
		// was committed, because Update returns after it.
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
	return completedHere, duplicate, err
}

// checkEarlierUploads reads back the upload of every earlier run the
// history names, each of which must still be complete, and delivers again
// the part that assembled the last of them, as a client retrying very late
// would.
func checkEarlierUploads(ctx context.Context, r *run, uploads *dokv.Store[dokv.UploadFile], runs *dokv.Store[uploadRun]) error {
	found := 0
	var last uploadRun
	for e, err := range runs.List(ctx, dokv.ListOptions{}) {
		if err != nil {
			return err
		}
		u, err := uploads.Get(ctx, e.Value.UploadID)
		if err != nil {
			return fmt.Errorf("upload %s of an earlier run: %w", e.Value.UploadID, err)
		}
		if !complete(u) {
			return fmt.Errorf("upload %s of an earlier run is now at offset %d with %d parts; it was complete",
				u.ID, u.Offset, len(u.Storage.Parts))
		}
		found++
		last = e.Value // the history lists in the order of the runs
	}
	if found == 0 {
		return nil
	}
	if found == 1 {
		r.printf("found 1 upload from an earlier run, still complete (%d parts), assembled on part %d's arrival\n",
			parts, last.AssembledBy)
	} else {
		r.printf("found %d uploads from earlier runs, all still complete (%d parts); the last was assembled on part %d's arrival\n",
			found, parts, last.AssembledBy)
	}
	completedHere, duplicate, err := arrive(ctx, uploads, last.UploadID, last.AssembledBy)
	if err != nil {
		return err
	}
	if completedHere || !duplicate {
		return fmt.Errorf("part %d delivered again to the finished upload %s was not ignored", last.AssembledBy, last.UploadID)
	}
	r.printf("part %d delivered again to %s now is ignored as a duplicate: it is not assembled twice\n", last.AssembledBy, last.UploadID)
	return nil
}

// complete reports whether the upload has all its parts and bytes.
func complete(u dokv.UploadFile) bool {
	return u.Size != nil && u.Offset == *u.Size && *u.Size == parts*partSize && len(u.Storage.Parts) == parts
}
