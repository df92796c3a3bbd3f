package dokv_test

import (
	"context"
	"fmt"
	"log"

	"github.com/dokv/dokv"
)

// A watcher follows a job's status while another goroutine moves it on and
// emits progress; it stops once the job has completed.
func ExampleStore_Watch() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	jobs, err := dokv.New[string](dokv.NewMemoryNamespace())
	if err != nil {
		log.Fatal(err)
	}
	if err := jobs.Set(ctx, "job-1", "pending"); err != nil {
		log.Fatal(err)
	}
	events := jobs.Watch(ctx, "job-1")
	started := make(chan struct{})
	go func() {
		<-started
		for _, step := range []func() error{
			func() error { return jobs.Set(ctx, "job-1", "running") },
			func() error { return jobs.Emit(ctx, "job-1", map[string]int{"percent": 50}) },
			func() error { return jobs.Set(ctx, "job-1", "completed") },
		} {
			if err := step(); err != nil {
				log.Fatal(err)
			}
		}
	}()
	for ev, err := range events {
		if err != nil {
			log.Fatal(err)
		}
		switch ev.Kind {
		case dokv.WatchSnapshot:
			fmt.Println("now:", ev.Value)
			close(started) // the watch is in place: nothing after this is missed
		case dokv.WatchSet:
			fmt.Println("set:", ev.Value)
		case dokv.WatchEmitted:
			fmt.Println("event:", string(ev.Event))
		}
		if ev.Value == "completed" {
			break
		}
	}
	// Output:
	// now: pending
	// set: running
	// event: {"percent":50}
	// set: completed
}
