package backup

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/internal/rawstore"
)

// importWorkers bounds the writes an import has in flight.
const importWorkers = 16

// maxImportLine bounds one line of an import: the largest entry, base64.
const maxImportLine = 4 * dokv.MaxEntryBytes

// Import writes every entry of an export (JSON Lines, see Line) into s,
// under any partitioning: each entry is set to exactly the bytes it was
// exported with (the versions are the store's own), after they decode with
// the store's codec as a T. An entry keeps what remains of its expiry, by
// the namespace's clock; an entry without one gets the TTL the store gives
// a write of its value (WithTTL, WithFlowJobRetention, Store.WithTTLFunc); an
// entry whose expiry has passed is skipped.
//
// Importing is idempotent: an import that was interrupted can be run again
// from the start and ends with the same entries. A line that is malformed,
// too long, or whose value does not decode, stops the import with an error
// wrapping dokv.ErrInvalidArgument whose detail starts with "line N: ", N
// counting the lines of r from 1; nothing of that line or of any later one
// is written, and the lines before it may have been.
func Import[T any](ctx context.Context, s *dokv.Store[T], r io.Reader) (Progress, error) {
	return importFrom(ctx, rawstore.Of(s), r)
}

// importEntry is one line of an import, checked and ready to write.
type importEntry struct {
	line  int // of the input, from 1
	key   string
	value []byte
	ttl   uint64 // wire milliseconds; 0 for none
}

// importFrom reads r's lines in order, checks each (the store decodes its
// value and gives its TTL for it) and writes them importWorkers at a time.
func importFrom(ctx context.Context, s rawstore.Store, r io.Reader) (Progress, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	entries := make(chan importEntry)
	var wg sync.WaitGroup
	for range importWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range entries {
				if err := s.Put(ctx, "import", e.key, e.value, e.ttl); err != nil {
					cancel(lineError(e.line, err))
				}
			}
		}()
	}
	p, readErr := readExport(ctx, s, r, entries)
	close(entries)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return p, err
	}
	if readErr != nil {
		return p, readErr
	}
	return p, ctx.Err()
}

// lineError names the input line in err, a write's error.
func lineError(line int, err error) error {
	var e *dokv.Error
	if errors.As(err, &e) && e.Op == "import" {
		e.Detail = fmt.Sprintf("line %d: %s", line, e.Detail)
		return e
	}
	return err
}

// readExport checks the lines of r and sends them to out until r ends, a
// line is refused, or ctx ends.
func readExport(ctx context.Context, s rawstore.Store, r io.Reader, out chan<- importEntry) (Progress, error) {
	var p Progress
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxImportLine)
	now := s.Now()
	n := 1
	for ; sc.Scan(); n++ {
		raw := sc.Bytes()
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		e, live, err := checkLine(raw, s.TTLOf, now)
		if err != nil {
			return p, &dokv.Error{Op: "import", Key: e.key, Err: dokv.ErrInvalidArgument, Detail: fmt.Sprintf("line %d: %v", n, err)}
		}
		e.line = n
		if live {
			select {
			case out <- e:
			case <-ctx.Done():
				return p, nil
			}
		}
		p.Entries++
		p.Bytes += int64(len(raw)) + 1
		p.Last = e.key
	}
	if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		return p, &dokv.Error{Op: "import", Err: dokv.ErrInvalidArgument, Detail: fmt.Sprintf("line %d: longer than %d bytes", n, maxImportLine)}
	} else if err != nil {
		return p, fmt.Errorf("backup: import: %w", err)
	}
	return p, nil
}

// checkLine decodes one line of an export and works out its TTL at now:
// live is false for an entry that expired since the export.
func checkLine(raw []byte, ttlOf func([]byte) (uint64, error), now time.Time) (e importEntry, live bool, err error) {
	var line Line
	if err := json.Unmarshal(raw, &line); err != nil {
		return e, false, err
	}
	e.key = line.Key
	if line.Key == "" || (line.Value != nil && line.Value64 != nil) {
		return e, false, errors.New("a line needs a key and at most one of value and value64")
	}
	e.value = []byte(line.Value)
	if line.Value == nil {
		e.value = line.Value64
		if e.value == nil {
			e.value = []byte{}
		}
	}
	ttl, err := ttlOf(e.value)
	if err != nil {
		return e, false, err
	}
	e.ttl = ttl
	if line.Expires != 0 {
		left := int64(line.Expires) - now.UnixMilli()
		if left <= 0 {
			return e, false, nil // expired since the export
		}
		e.ttl = uint64(left)
	}
	return e, true, nil
}
