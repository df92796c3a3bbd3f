package backup

import (
	"bytes"
	"context"
	"io"
	"sync"

	"github.com/dokv/dokv/internal/listing"
	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/rawstore"

	"github.com/dokv/dokv"
)

// Difference is one key on which two stores disagree.
type Difference struct {
	Key string
	// Problem is "missing" (in the destination), "extra" (only in the
	// destination) or "different" (both hold it, with different bytes).
	Problem string
}

// MaxReportedDifferences bounds the differences a Report lists; it counts
// them all.
const MaxReportedDifferences = 100

// Report is the outcome of Verify.
type Report struct {
	Compared    int64        // keys of the source compared
	Differences []Difference // the first MaxReportedDifferences
	Different   int64        // how many keys differ in all
}

// OK reports whether the two stores held the same entries.
func (r Report) OK() bool { return r.Different == 0 }

func (r *Report) add(key, problem string) {
	r.Different++
	if len(r.Differences) < MaxReportedDifferences {
		r.Differences = append(r.Differences, Difference{Key: key, Problem: problem})
	}
}

// Verify compares two stores of T key by key, as the codec's bytes:
// every entry of src (which must be listable) must be in dst with the same
// value, and, when dst is listable too, dst must hold no other key.
// Versions are not compared: each store has its own. It reads src in
// order and looks its keys up in dst, 16 at a time. Its arguments are in
// io.Copy's order, as Reshard's are.
func Verify[T any](ctx context.Context, dst, src *dokv.Store[T]) (Report, error) {
	return verify(ctx, rawstore.Of(dst), rawstore.Of(src))
}

func verify(ctx context.Context, dst, src rawstore.Store) (Report, error) {
	var rep Report
	var mu sync.Mutex
	batch := make([]protocol.Record, 0, importWorkers)
	check := func() error {
		err := listing.Each(ctx, len(batch), func(ctx context.Context, i int) error {
			data, found, err := dst.Get(ctx, "verify", batch[i].Key)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case !found:
				rep.add(batch[i].Key, "missing")
			case !bytes.Equal(data, batch[i].Value):
				rep.add(batch[i].Key, "different")
			}
			return nil
		})
		rep.Compared += int64(len(batch))
		batch = batch[:0]
		return err
	}
	srcKeys := int64(0)
	for rec, err := range src.Records(ctx, "verify", "", 0) {
		if err != nil {
			return rep, err
		}
		srcKeys++
		batch = append(batch, protocol.Record{Key: rec.Key, Value: bytes.Clone(rec.Value)})
		if len(batch) == cap(batch) {
			if err := check(); err != nil {
				return rep, err
			}
		}
	}
	if err := check(); err != nil {
		return rep, err
	}
	if !dst.Listable() {
		return rep, nil
	}
	// Keys only dst holds: walk dst and look each up in src.
	for rec, err := range dst.Records(ctx, "verify", "", 0) {
		if err != nil {
			return rep, err
		}
		if _, found, err := src.Get(ctx, "verify", rec.Key); err != nil {
			return rep, err
		} else if !found {
			rep.add(rec.Key, "extra")
		}
	}
	return rep, nil
}

// Reshard copies every entry of src into dst, typically the same data
// under another partitioning (HashShards(n) to HashShards(m), SingleObject
// to HashShards and back), through Export and Import, then compares both
// with Verify. Point dst at a new prefix or namespace: the keys of src stay
// where they are until you delete them. Writes to src while it runs may or
// may not be copied; stop them first, and run Reshard again to catch up
// (it is idempotent).
func Reshard[T any](ctx context.Context, dst, src *dokv.Store[T]) (Report, error) {
	pr, pw := io.Pipe()
	go func() {
		_, err := Export(ctx, src, pw, ExportOptions{})
		pw.CloseWithError(err)
	}()
	if _, err := Import(ctx, dst, pr); err != nil {
		pr.CloseWithError(err)
		return Report{}, err
	}
	return Verify(ctx, dst, src)
}
