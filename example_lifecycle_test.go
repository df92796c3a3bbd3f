package dokv_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dokv/dokv"
)

// Keys expire at once for every read; a ManualClock runs the alarms that
// remove them, and an object left empty gives its storage back.
func ExampleStore_SetWithTTL() {
	ctx := context.Background()
	clock := dokv.NewManualClock(time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC))
	ns := dokv.NewMemoryNamespace(dokv.WithClock(clock))
	uploads, _ := dokv.New[string](ns)

	_, _ = uploads.SetWithTTL(ctx, "upload-1", "half done", 10*time.Minute)
	e, _ := uploads.GetEntry(ctx, "upload-1")
	fmt.Println(e.Value, "until", e.ExpiresAt.Format(time.Kitchen))

	clock.Advance(10 * time.Minute)
	_, err := uploads.Get(ctx, "upload-1")
	fmt.Println(errors.Is(err, dokv.ErrNotFound), ns.Objects())
	// Output:
	// half done until 12:10PM
	// true 0
}

// Reshard copies a store to another partitioning and verifies the copy.
func ExampleReshard() {
	ctx := context.Background()
	ns := dokv.NewMemoryNamespace()
	single, _ := dokv.New[int](ns, dokv.WithPrefix("v1"), dokv.WithPartitioning(dokv.SingleObject("all")))
	sharded, _ := dokv.New[int](ns, dokv.WithPrefix("v2"), dokv.WithPartitioning(dokv.HashShards(8)))
	for i := range 100 {
		_ = single.Set(ctx, fmt.Sprint("counter-", i), i)
	}
	rep, err := dokv.Reshard(ctx, sharded, single)
	fmt.Println(rep.OK(), rep.Compared, err)

	var backup bytes.Buffer
	p, _ := sharded.Export(ctx, &backup, dokv.ExportOptions{Limit: 1})
	fmt.Println(p.Entries, p.Last, bytes.Contains(backup.Bytes(), []byte(`"value":0}`)))
	// Output:
	// true 100 <nil>
	// 1 counter-0 true
}
