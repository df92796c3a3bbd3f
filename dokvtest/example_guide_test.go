package dokvtest_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/dokvtest"
)

// Code tested against two of Cloudflare's failure modes, injected under a
// seed: objects reset (evicted) between calls, and transient failures,
// which the store retries under its RetryPolicy. No increment is lost or
// doubled. (Overloaded and LostReply faults surface as ErrOverloaded and
// ErrUnknownOutcome, for the caller to handle.)
func ExampleWithFaults() {
	ctx := context.Background()
	ns := dokvtest.WithFaults(dokv.NewMemoryNamespace(), dokvtest.Faults{
		Seed: 1, Reset: 0.05, Unavailable: 0.05,
	})
	counters, err := dokv.New[int](ns, dokv.WithRetry(dokv.RetryPolicy{
		MaxAttempts: 10, BaseDelay: time.Microsecond, MaxDelay: time.Millisecond,
	}))
	if err != nil {
		log.Fatal(err)
	}
	for range 100 {
		_, err := counters.Update(ctx, "hits", func(n int, _ bool) (int, error) { return n + 1, nil })
		if err != nil {
			log.Fatal(err)
		}
	}
	n, err := counters.Get(ctx, "hits")
	fmt.Println(n, err, ns.Counts().Resets > 0, ns.Counts().Unavailable > 0)
	// Output: 100 <nil> true true
}
