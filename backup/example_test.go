package backup_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/backup"
)

// Reshard copies a store to another partitioning and verifies the copy.
func ExampleReshard() {
	ctx := context.Background()
	ns := dokv.NewMemoryNamespace()
	single, _ := dokv.New[int](ns, dokv.WithPrefix("v1"), dokv.WithPartitioning(dokv.SingleObject("all")))
	sharded, _ := dokv.New[int](ns, dokv.WithPrefix("v2"), dokv.WithPartitioning(dokv.HashShards(8)))
	for i := range 100 {
		_ = single.Set(ctx, fmt.Sprint("counter-", i), i)
	}
	rep, err := backup.Reshard(ctx, sharded, single)
	fmt.Println(rep.OK(), rep.Compared, err)

	var out bytes.Buffer
	p, _ := backup.Export(ctx, sharded, &out, backup.ExportOptions{Limit: 1})
	fmt.Println(p.Entries, p.Last, bytes.Contains(out.Bytes(), []byte(`"value":0}`)))
	// Output:
	// true 100 <nil>
	// 1 counter-0 true
}
