// Package listing pages through the objects of a store and merges their
// pages into one stream in key order, holding at most one page per object.
package listing

import (
	"container/heap"
	"context"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/dokv/dokv/internal/protocol"
)

// Fetch reads up to limit records of one object whose keys sort after
// after. more reports that the object may hold further records.
type Fetch func(ctx context.Context, object, after string, limit int) (recs []protocol.Record, more bool, err error)

// Merge yields the records of all objects in ascending key order, starting
// after start, up to limit records in all (0: no limit). Each request asks
// an object for at most page records. Keys must be disjoint across objects,
// as routing makes them. An error is yielded once and ends the sequence.
func Merge(ctx context.Context, objects []string, start string, limit, page int, fetch Fetch) iter.Seq2[protocol.Record, error] {
	return func(yield func(protocol.Record, error) bool) {
		want := func(yielded int) int {
			if limit > 0 {
				return min(page, limit-yielded)
			}
			return page
		}
		if len(objects) == 0 {
			return
		}
		cursors := make([]*cursor, len(objects))
		for i, name := range objects {
			cursors[i] = &cursor{object: name, after: start, more: true}
		}
		// The first pages are fetched together: with many shards the
		// round trips would otherwise add up before the first record. Each
		// shard is first asked for its share of a page only; a cursor that
		// runs dry asks for twice as much each time, up to a page.
		first := max(1, (want(0)+len(cursors)-1)/len(cursors))
		if err := fillAll(ctx, cursors, first, fetch); err != nil {
			yield(protocol.Record{}, err)
			return
		}
		h := make(cursorHeap, 0, len(cursors))
		for _, c := range cursors {
			if len(c.buf) > 0 {
				h = append(h, c)
			}
		}
		heap.Init(&h)
		for yielded := 0; h.Len() > 0 && (limit == 0 || yielded < limit); {
			c := h[0]
			rec := c.buf[0]
			c.buf = c.buf[1:]
			if !yield(rec, nil) {
				return
			}
			yielded++
			if len(c.buf) == 0 && c.more && (limit == 0 || yielded < limit) {
				if err := c.fill(ctx, min(2*c.asked, want(yielded)), fetch); err != nil {
					yield(protocol.Record{}, err)
					return
				}
			}
			if len(c.buf) == 0 {
				heap.Pop(&h)
			} else {
				heap.Fix(&h, 0)
			}
		}
	}
}

// MaxConcurrentFetches is how many objects Merge asks for their first page
// at once. A store may have thousands of shards: one call each at the same
// time would flood the namespace (and, on Workers, the request's
// simultaneous connections).
const MaxConcurrentFetches = 16

// fillAll fills every cursor with its first page, at most
// MaxConcurrentFetches at a time (see Each).
func fillAll(ctx context.Context, cursors []*cursor, n int, fetch Fetch) error {
	if len(cursors) == 1 {
		return cursors[0].fill(ctx, n, fetch)
	}
	return Each(ctx, len(cursors), func(ctx context.Context, i int) error {
		return cursors[i].fill(ctx, n, fetch)
	})
}

// Each calls fn for every index from 0 to n-1, at most MaxConcurrentFetches
// at a time, and returns the first error. The first failure stops the
// others: calls in flight see their context canceled, and no new call
// starts. A ctx that ends first leaves calls unmade and returns its error.
func Each(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	inner, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next  atomic.Int64
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	for range min(MaxConcurrentFetches, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || inner.Err() != nil {
					return
				}
				if err := fn(inner, i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err() // a caller that went away left calls unmade
}

// cursor is one object's position: its unread page, and where the next page
// starts.
type cursor struct {
	object string
	after  string
	buf    []protocol.Record
	more   bool
	asked  int // the size of the last page asked for
}

func (c *cursor) fill(ctx context.Context, n int, fetch Fetch) error {
	c.asked = n
	recs, more, err := fetch(ctx, c.object, c.after, n)
	if err != nil {
		return err
	}
	c.buf, c.more = recs, more && len(recs) > 0
	if len(recs) > 0 {
		c.after = recs[len(recs)-1].Key
	}
	return nil
}

// cursorHeap orders cursors by their next key.
type cursorHeap []*cursor

func (h cursorHeap) Len() int           { return len(h) }
func (h cursorHeap) Less(i, j int) bool { return h[i].buf[0].Key < h[j].buf[0].Key }
func (h cursorHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *cursorHeap) Push(x any)        { *h = append(*h, x.(*cursor)) }
func (h *cursorHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}
