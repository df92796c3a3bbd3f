package dokv_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/dokvtest"
)

// Keys expire at once for every read; a ManualClock runs the alarms that
// remove them, and an object left empty gives its storage back.
func ExampleStore_SetWithTTL() {
	ctx := context.Background()
	clock := dokvtest.NewManualClock(time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC))
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
