package dokv_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/dokvtest"
)

// Profile is the value type of the README's tour.
type Profile struct {
	Name   string `json:"name"`
	Visits int    `json:"visits"`
}

// The README's tour of the API, on the in-memory namespace: one store, its
// reads and writes, versions, a listing and a transaction.
func Example_tour() {
	ctx := context.Background()
	ns := dokv.NewMemoryNamespace() // in a Worker: dokv.WorkersNamespace("DOKV")
	store, err := dokv.New[Profile](ns,
		dokv.WithPartitioning(dokv.HashShards(16)), // default: dokv.PerKey()
		dokv.WithPrefix("profiles/"),               // a keyspace of its own
	)
	if err != nil {
		log.Fatal(err)
	}

	if err := store.Set(ctx, "u1", Profile{Name: "Ada"}); err != nil {
		log.Fatal(err)
	}
	p, err := store.Get(ctx, "u1")
	fmt.Println(p.Name, err)
	_, err = store.Get(ctx, "nobody")
	fmt.Println("miss:", errors.Is(err, dokv.ErrNotFound))
	fmt.Println("delete a miss:", store.Delete(ctx, "nobody"))

	e, err := store.GetEntry(ctx, "u1") // Key, Value, Version, ExpiresAt
	if err != nil {
		log.Fatal(err)
	}
	_, err = store.CompareAndSwap(ctx, "u1", e.Version, Profile{Name: "Ada L."})
	fmt.Println("swap:", err)
	_, err = store.CompareAndSwap(ctx, "u1", e.Version, Profile{Name: "stale"})
	fmt.Println("stale swap:", errors.Is(err, dokv.ErrConflict))
	_, err = store.CompareAndSwap(ctx, "u2", 0, Profile{Name: "Grace"}) // 0: only if absent
	fmt.Println("create:", err)

	p, err = store.Update(ctx, "u1", func(cur Profile, exists bool) (Profile, error) {
		cur.Visits++ // fn may run more than once
		return cur, nil
	})
	fmt.Println(p.Name, p.Visits, err)

	for e, err := range store.List(ctx, dokv.ListOptions{Prefix: "u", Limit: 50}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("listed:", e.Key, e.Value.Name)
	}

	// One object, all or nothing, at most MaxTxnKeys keys: the hash tag
	// {order-7} puts these keys in one object.
	versions, err := store.Txn().
		SetIf("{order-7}/status", 0, Profile{Name: "paid"}).
		Set("{order-7}/receipt", Profile{Name: "r-1"}).
		Delete("{order-7}/cart").
		Check("{order-7}/lock", 0). // holds while the lock key is absent
		Commit(ctx)
	fmt.Println("txn:", len(versions), err)

	st, err := store.Stats(ctx) // keys, bytes, storage size, objects near their limit
	fmt.Println("stats:", len(st.Objects), st.Keys, err)
	// Output:
	// Ada <nil>
	// miss: true
	// delete a miss: <nil>
	// swap: <nil>
	// stale swap: true
	// create: <nil>
	// Ada L. 1 <nil>
	// listed: u1 Ada L.
	// listed: u2 Grace
	// txn: 3 <nil>
	// stats: 16 4 <nil>
}

// Which operations each partitioning allows, and how a hash tag puts keys
// in one object.
func Example_partitioning() {
	ctx := context.Background()
	ns := dokv.NewMemoryNamespace()
	perKey, _ := dokv.New[string](ns, dokv.WithPrefix("a"))
	single, _ := dokv.New[string](ns, dokv.WithPrefix("b"), dokv.WithPartitioning(dokv.SingleObject("all")))

	for _, err := range perKey.List(ctx, dokv.ListOptions{}) {
		fmt.Println("PerKey List:", errors.Is(err, dokv.ErrUnsupported))
		break
	}
	fmt.Println("same object:",
		perKey.ObjectName("{upload-1}/meta") == perKey.ObjectName("{upload-1}/chunk/7"),
		perKey.ObjectName("upload-1") == perKey.ObjectName("upload-2"))

	_, err := perKey.Txn().Set("x", "1").Set("y", "2").Commit(ctx)
	fmt.Println("PerKey, untagged:", errors.Is(err, dokv.ErrCrossObject))
	_, err = single.Txn().Set("x", "1").Set("y", "2").Commit(ctx)
	fmt.Println("SingleObject:", err)
	// Output:
	// PerKey List: true
	// same object: true false
	// PerKey, untagged: true
	// SingleObject: <nil>
}

// A store-wide TTL, a TTL decided from the value, and flow-job retention.
// A ManualClock moves time without sleeping.
func ExampleStore_WithTTLFunc() {
	ctx := context.Background()
	clock := dokvtest.NewManualClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	ns := dokv.NewMemoryNamespace(dokv.WithClock(clock))

	type Upload struct {
		Done bool `json:"done"`
	}
	base, err := dokv.New[Upload](ns, dokv.WithTTL(24*time.Hour)) // every write: a day
	if err != nil {
		log.Fatal(err)
	}
	uploads := base.WithTTLFunc(func(u Upload) time.Duration {
		if u.Done {
			return time.Hour // finished uploads: an hour
		}
		return 0 // 0: the store's WithTTL
	})
	_ = uploads.Set(ctx, "u-1", Upload{Done: true})
	_ = uploads.Set(ctx, "u-2", Upload{})

	jobs, err := dokv.NewFlowJobStore(ns, dokv.WithFlowJobRetention(7*24*time.Hour))
	if err != nil {
		log.Fatal(err)
	}
	job := dokv.NewFlowJob("flow-1", "storage-1")
	job.Status = dokv.FlowJobCompleted
	_ = jobs.Set(ctx, job.ID, job)

	clock.Advance(2 * time.Hour)
	_, err1 := uploads.Get(ctx, "u-1")
	_, err2 := uploads.Get(ctx, "u-2")
	_, err3 := jobs.Get(ctx, job.ID)
	fmt.Println(errors.Is(err1, dokv.ErrNotFound), err2, err3)

	clock.Advance(7 * 24 * time.Hour)
	_, err3 = jobs.Get(ctx, job.ID)
	fmt.Println(errors.Is(err3, dokv.ErrNotFound))
	// Output:
	// true <nil> <nil>
	// true
}

// Stats sums the objects of a listable store; ObjectStats asks the object
// of one key under any partitioning.
func ExampleStore_Stats() {
	ctx := context.Background()
	ns := dokv.NewMemoryNamespace()
	sharded, _ := dokv.New[string](ns, dokv.WithPartitioning(dokv.HashShards(4)))
	for _, k := range []string{"a", "b", "c"} {
		_ = sharded.Set(ctx, k, "value")
	}
	st, err := sharded.Stats(ctx)
	fmt.Println(len(st.Objects), st.Keys, st.ObjectsNearLimit, err)

	perKey, _ := dokv.New[string](ns, dokv.WithPrefix("p"))
	_ = perKey.Set(ctx, "job-1", "running")
	_, err = perKey.Stats(ctx)
	fmt.Println("PerKey Stats:", errors.Is(err, dokv.ErrUnsupported))
	o, err := perKey.ObjectStats(ctx, "job-1")
	fmt.Println(o.Keys, err)
	// Output:
	// 4 3 0 <nil>
	// PerKey Stats: true
	// 1 <nil>
}

// Every error but a context's own is an *Error: errors.Is finds its
// sentinel, errors.As its operation, key and object.
func ExampleError() {
	ctx := context.Background()
	store, _ := dokv.New[string](dokv.NewMemoryNamespace())
	v, _ := store.CompareAndSwap(ctx, "k", 0, "first")
	_, err := store.CompareAndSwap(ctx, "k", v+1, "second")

	var e *dokv.Error
	if errors.As(err, &e) {
		fmt.Println(e.Op, e.Key, errors.Is(err, dokv.ErrConflict), e.Current == v)
	}
	_, err = store.Get(ctx, "")
	fmt.Println(errors.Is(err, dokv.ErrInvalidKey))
	// Output:
	// cas k true true
	// true
}
