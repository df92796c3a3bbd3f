package driverbench

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestTxLock: after db.BeginTx (no statements yet), another connection's
// BEGIN IMMEDIATE fails BUSY iff the driver's BeginTx issued BEGIN
// IMMEDIATE: ncruces does by default, modernc only with _txlock=immediate,
// which the local namespace therefore sets.
func TestTxLock(t *testing.T) {
	for _, d := range append(drivers, drv{"modernc-default", "sqlite", ""}) {
		db := openDB(t, d, 4)
		ctx := context.Background()
		c2, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c2.ExecContext(ctx, "PRAGMA busy_timeout=0")
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c2.ExecContext(ctx, "BEGIN IMMEDIATE")
		if d.name == "modernc-default" {
			assert.NoError(t, err, "%s: a deferred BEGIN takes no lock", d.name)
		} else {
			assert.Error(t, err, "%s: BeginTx took the write lock", d.name)
		}
		if err == nil {
			c2.ExecContext(ctx, "ROLLBACK")
		}
		tx.Rollback()
		c2.Close()
	}
}
