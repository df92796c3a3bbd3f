package dokv_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sync"

	"github.com/dokv/dokv"
)

func ExampleNew() {
	ctx := context.Background()
	store, err := dokv.New[string](dokv.NewMemoryNamespace())
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Set(ctx, "greeting", "hello"); err != nil {
		log.Fatal(err)
	}
	v, err := store.Get(ctx, "greeting")
	if err != nil {
		log.Fatal(err)
	}
	_, err = store.Get(ctx, "missing")
	fmt.Println(v, errors.Is(err, dokv.ErrNotFound))
	// Output: hello true
}

func ExampleStore_CompareAndSwap() {
	ctx := context.Background()
	store, err := dokv.New[string](dokv.NewMemoryNamespace())
	if err != nil {
		log.Fatal(err)
	}
	// Version 0 means "only if absent": a create that cannot overwrite.
	v1, err := store.CompareAndSwap(ctx, "owner", 0, "alice")
	if err != nil {
		log.Fatal(err)
	}
	_, err = store.CompareAndSwap(ctx, "owner", 0, "bob")
	fmt.Println("bob:", errors.Is(err, dokv.ErrConflict))

	// With the version read, a swap succeeds only if nobody wrote since.
	_, err = store.CompareAndSwap(ctx, "owner", v1, "carol")
	fmt.Println("carol:", err)
	owner, err := store.Get(ctx, "owner")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("owner:", owner)
	// Output:
	// bob: true
	// carol: <nil>
	// owner: carol
}

func ExampleStore_Update() {
	ctx := context.Background()
	store, err := dokv.New[int](dokv.NewMemoryNamespace())
	if err != nil {
		log.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := store.Update(ctx, "visits", func(n int, _ bool) (int, error) { return n + 1, nil })
			if err != nil {
				log.Fatal(err)
			}
		}()
	}
	wg.Wait()
	n, err := store.Get(ctx, "visits")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n)
	// Output: 10
}

func ExampleStore_List() {
	ctx := context.Background()
	store, err := dokv.New[int](dokv.NewMemoryNamespace(), dokv.WithPartitioning(dokv.HashShards(4)))
	if err != nil {
		log.Fatal(err)
	}
	for i, k := range []string{"b", "job/2", "a", "job/1", "job/3"} {
		if err := store.Set(ctx, k, i); err != nil {
			log.Fatal(err)
		}
	}
	for e, err := range store.List(ctx, dokv.ListOptions{Prefix: "job/", Limit: 2}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(e.Key, e.Value)
	}
	// Output:
	// job/1 3
	// job/2 1
}

func ExampleStore_Txn() {
	ctx := context.Background()
	// Under PerKey, keys that share the hash tag {order-7} share an object,
	// so they can change together.
	store, err := dokv.New[string](dokv.NewMemoryNamespace())
	if err != nil {
		log.Fatal(err)
	}
	_, err = store.Txn().
		SetIf("{order-7}/status", 0, "paid").
		Set("{order-7}/receipt", "r-1").
		Commit(ctx)
	fmt.Println("first:", err)
	_, err = store.Txn().
		SetIf("{order-7}/status", 0, "paid").
		Set("{order-7}/receipt", "r-2").
		Commit(ctx)
	fmt.Println("second:", errors.Is(err, dokv.ErrConflict))
	receipt, err := store.Get(ctx, "{order-7}/receipt")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("receipt:", receipt)

	_, err = store.Txn().Set("order-8", "x").Set("order-9", "y").Commit(ctx)
	fmt.Println("untagged:", errors.Is(err, dokv.ErrCrossObject))
	// Output:
	// first: <nil>
	// second: true
	// receipt: r-1
	// untagged: true
}

func ExampleNewFlowJobStore() {
	ctx := context.Background()
	jobs, err := dokv.NewFlowJobStore(dokv.NewMemoryNamespace())
	if err != nil {
		log.Fatal(err)
	}
	job := dokv.NewFlowJob("flow-resize", "storage-1")
	if err := jobs.Set(ctx, job.ID, job); err != nil {
		log.Fatal(err)
	}
	updated, err := jobs.Update(ctx, job.ID, func(j dokv.FlowJob, exists bool) (dokv.FlowJob, error) {
		if !exists {
			return j, dokv.ErrNotFound
		}
		j.Status = dokv.FlowJobRunning
		return j, nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(updated.FlowID, updated.Status)
	// Output: flow-resize running
}

// Example_uploadCoordination shows exactly-once assembly of an upload whose
// chunks arrive concurrently: each arrival records its chunk and bumps the
// upload's count in one transaction, and only the arrival whose transaction
// completes the count assembles.
func Example_uploadCoordination() {
	ctx := context.Background()
	type upload struct {
		Chunks   int `json:"chunks"`
		Received int `json:"received"`
	}
	uploads, err := dokv.New[upload](dokv.NewMemoryNamespace())
	if err != nil {
		log.Fatal(err)
	}
	meta := "{upload-1}/meta"
	if err := uploads.Set(ctx, meta, upload{Chunks: 8}); err != nil {
		log.Fatal(err)
	}
	arrive := func(chunk int) (assemble bool) {
		for {
			cur, err := uploads.GetEntry(ctx, meta)
			if err != nil {
				log.Fatal(err)
			}
			next := cur.Value
			next.Received++
			chunkKey := fmt.Sprintf("{upload-1}/chunk/%d", chunk)
			_, err = uploads.Txn().
				SetIf(chunkKey, 0, upload{}).
				SetIf(meta, cur.Version, next).
				Commit(ctx)
			var conflict *dokv.Error
			if errors.As(err, &conflict) && errors.Is(err, dokv.ErrConflict) {
				if conflict.Key == chunkKey {
					return false // a duplicate delivery of this chunk
				}
				continue // another chunk won the race; read again
			}
			if err != nil {
				log.Fatal(err)
			}
			return next.Received == next.Chunks
		}
	}
	var mu sync.Mutex
	assemblies := 0
	var wg sync.WaitGroup
	for chunk := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if arrive(chunk) {
				mu.Lock()
				assemblies++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fmt.Println("assemblies:", assemblies)
	// Output: assemblies: 1
}
