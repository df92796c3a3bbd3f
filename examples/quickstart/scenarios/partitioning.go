package scenarios

import (
	"context"
	"errors"
	"fmt"

	"github.com/dokv/dokv"
)

// partitionedKeys is how many keys each partitioning pattern stores.
const partitionedKeys = 200

// comparePartitionings stores the same keys under each pattern and reports
// how many objects each used and whether it can list.
//
// Each run writes the same keys, and each key's value counts the runs that
// wrote it: an Update adds one, so the keys, the listing and the objects
// stay the same however many runs came before, and the values say how
// many did.
func comparePartitionings(ctx context.Context, r *run) error {
	for _, p := range []struct {
		namespace    string
		partitioning dokv.Partitioning
	}{
		{PartitioningSingleObject, dokv.SingleObject("uploads")},
		{PartitioningPerKey, dokv.PerKey()},
		{PartitioningHashShards, dokv.HashShards(8)},
	} {
		if err := partition(ctx, r, r.ns[p.namespace], p.partitioning); err != nil {
			return err
		}
	}
	return nil
}

// partition writes the keys under p in ns, which holds no other store, and
// lists them back.
func partition(ctx context.Context, r *run, ns dokv.Namespace, p dokv.Partitioning) error {
	store, err := dokv.New[int](ns, dokv.WithPartitioning(p))
	if err != nil {
		return err
	}
	written := make([]int, partitionedKeys) // each key's value after this run's write
	fewest, most := -1, 0                   // the fewest and most earlier runs a key counted
	for i := range partitionedKeys {
		n, err := store.Update(ctx, key(i), func(runs int, _ bool) (int, error) { return runs + 1, nil })
		if err != nil {
			return err
		}
		written[i] = n
		if fewest < 0 || n-1 < fewest {
			fewest = n - 1
		}
		most = max(most, n-1)
	}

	// The listing must give back exactly the keys and values just written,
	// in order: earlier runs wrote the same keys, so there are no others.
	listed, same := 0, true
	var listErr error
	for e, err := range store.List(ctx, dokv.ListOptions{Prefix: "upload-"}) {
		if err != nil {
			listErr = err
			break
		}
		same = same && listed < partitionedKeys && e.Key == key(listed) && e.Value == written[listed]
		listed++
	}
	objects := count(objectsUsed(ns, store), "object", "objects")
	var earlier string
	switch {
	case most == 0:
		// A fresh namespace: nothing to say about earlier runs.
	case fewest == most:
		earlier = fmt.Sprintf("; each key written by this run and %s", count(most, "earlier one", "earlier ones"))
	default: // a run stopped half way through the keys
		earlier = fmt.Sprintf("; each key written by this run and %d to %d earlier ones", fewest, most)
	}
	switch {
	case listErr == nil && listed == partitionedKeys && same:
		r.printf("  %-26s %11s, lists all %d keys in order%s\n", p, objects, listed, earlier)
	case errors.Is(listErr, dokv.ErrUnsupported) && p.String() == dokv.PerKey().String():
		r.printf("  %-26s %11s, cannot list (ErrUnsupported)%s\n", p, objects, earlier)
	default:
		return fmt.Errorf("%s listed %d of %d keys (in order, as written: %t): %v", p, listed, partitionedKeys, same, listErr)
	}
	return nil
}

// key is the i-th key the partitioning scenario writes.
func key(i int) string { return fmt.Sprintf("upload-%03d", i) }

// objectsUsed reports how many objects the store's keys are in. The
// memory and local namespaces count the objects they have in memory: in a
// namespace of its own, which this run's writes have just touched, those
// are the store's objects. Another namespace gets the count of the objects
// the keys route to.
func objectsUsed(ns dokv.Namespace, store *dokv.Store[int]) int {
	if c, ok := ns.(interface{ Objects() int }); ok {
		return c.Objects()
	}
	names := map[string]bool{}
	for i := range partitionedKeys {
		names[store.ObjectName(key(i))] = true
	}
	return len(names)
}
