package dokv

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

	"github.com/dokv/dokv/internal/exactjson"
	"github.com/dokv/dokv/internal/listing"
	"github.com/dokv/dokv/internal/protocol"
)

// ExportLine is one entry of an export, one JSON object per line (JSON
// Lines): the key, its version in the exported store, and its value as the
// store's codec wrote it, byte for byte: inline as Value when those bytes
// can stand in the line verbatim (JSON without line breaks or whitespace
// at either end, as the default codec writes), else base64 as Value64.
// Expires is the key's expiry in Unix milliseconds, if it has one.
//
// Export writes the lines itself: encoding/json would compact an inline
// Value and escape <, > and & in it, so a line re-encoded with json.Marshal
// may no longer hold the stored bytes. Decoding one with json.Unmarshal
// gives them back exactly.
type ExportLine struct {
	Key     string          `json:"key"`
	Version uint64          `json:"version"`
	Value   json.RawMessage `json:"value,omitempty"`
	Value64 []byte          `json:"value64,omitempty"`
	Expires uint64          `json:"expires,omitempty"`
}

// appendLine appends the JSON Lines form of rec, newline included.
func appendLine(b []byte, rec protocol.Record) ([]byte, error) {
	head, err := json.Marshal(ExportLine{Key: rec.Key, Version: rec.Version, Expires: rec.Expires})
	if err != nil {
		return b, err
	}
	if exactjson.Inlinable(rec.Value) {
		head = exactjson.AppendValue(head, rec.Value, nil)
	} else {
		head = exactjson.AppendValue(head, nil, rec.Value)
	}
	return append(append(b, head...), '\n'), nil
}

// ExportOptions select what Export writes.
type ExportOptions struct {
	// StartAfter resumes an export after this key (the last key of an
	// interrupted one).
	StartAfter string
	// Limit stops after this many entries; 0 for all.
	Limit int
	// MaxBytes stops after the line that brings the output to this many
	// bytes; 0 for no bound. With Limit, it bounds one page of an export
	// that must fit in memory, such as an admin route's response.
	MaxBytes int64
}

// Progress counts the entries and bytes an export or import has handled.
type Progress struct {
	Entries int64
	Bytes   int64 // of the JSON Lines
	// Last is the key of the last entry handled, to resume after.
	Last string
	// Truncated is set when an export stopped at ExportOptions.MaxBytes.
	Truncated bool
}

// Export writes the store's entries to w as JSON Lines (see ExportLine), in
// ascending key order across all its objects, and reports what it wrote.
// Like List, it pages through the objects and holds one page at a time; it
// is not a snapshot, and needs a listable partitioning (SingleObject or
// HashShards), else ErrUnsupported. The values are exported as the codec's
// bytes, never decoded, so any codec exports, and Import writes back
// exactly those bytes.
func (s *Store[T]) Export(ctx context.Context, w io.Writer, opts ExportOptions) (Progress, error) {
	return s.export(ctx, w, opts)
}

func (s *core) export(ctx context.Context, w io.Writer, opts ExportOptions) (Progress, error) {
	var p Progress
	bw := bufio.NewWriterSize(w, 64<<10)
	var b []byte
	for rec, err := range s.records(ctx, "export", ListOptions{StartAfter: opts.StartAfter, Limit: opts.Limit}) {
		if err != nil {
			return p, err
		}
		b, err = appendLine(b[:0], rec)
		if err != nil {
			return p, &Error{Op: "export", Key: rec.Key, Err: ErrDecode, Detail: err.Error()}
		}
		if _, err := bw.Write(b); err != nil {
			return p, fmt.Errorf("dokv: export: %w", err)
		}
		p.Entries++
		p.Bytes += int64(len(b))
		p.Last = rec.Key
		if opts.MaxBytes > 0 && p.Bytes >= opts.MaxBytes {
			p.Truncated = true
			break
		}
	}
	if err := bw.Flush(); err != nil {
		return p, fmt.Errorf("dokv: export: %w", err)
	}
	return p, nil
}

// importWorkers bounds the writes an import has in flight.
const importWorkers = 16

// maxImportLine bounds one line of an import: the largest entry, base64.
const maxImportLine = 4 * MaxEntryBytes

// Import writes every entry of an export (JSON Lines, see ExportLine) into
// the store, under any partitioning: each entry is set to exactly the bytes
// it was exported with (the versions are the store's own), after they
// decode with the store's codec as a T. An entry keeps what remains of its
// expiry, by the namespace's clock; an entry without one gets the TTL the
// store gives a write of its value (WithTTL, WithTTLFunc, FlowJobRetention);
// an entry whose expiry has passed is skipped.
//
// Importing is idempotent: an import that was interrupted can be run again
// from the start and ends with the same entries. A line that is malformed,
// or whose value does not decode, stops the import with an error wrapping
// ErrInvalidArgument whose detail starts with "line N: ", N counting the
// lines of r from 1; nothing of that line or of any later one is written,
// and the lines before it may have been.
func (s *Store[T]) Import(ctx context.Context, r io.Reader) (Progress, error) {
	return s.importFrom(ctx, r, s.importTTL)
}

// importTTL checks that value decodes as a T and returns the wire TTL the
// store gives a write of it.
func (s *Store[T]) importTTL(value []byte) (uint64, error) {
	var v T
	if err := s.codec.Unmarshal(value, &v); err != nil {
		return 0, fmt.Errorf("the value does not decode as the store's %T: %w", v, err)
	}
	return s.ttlFor(v)
}

// importEntry is one line of an import, checked and ready to write.
type importEntry struct {
	line  int // of the input, from 1
	key   string
	value []byte
	ttl   uint64 // wire milliseconds; 0 for none
}

// importFrom reads r's lines in order, checks each (ttlOf decodes its value
// and gives the store's TTL for it) and writes them importWorkers at a time.
func (s *core) importFrom(ctx context.Context, r io.Reader, ttlOf func([]byte) (uint64, error)) (Progress, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	entries := make(chan importEntry)
	var wg sync.WaitGroup
	for range importWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range entries {
				if err := s.putRaw(ctx, "import", e.key, e.value, e.ttl); err != nil {
					cancel(lineError(e.line, err))
				}
			}
		}()
	}
	p, readErr := s.readExport(ctx, r, entries, ttlOf)
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
	var e *Error
	if errors.As(err, &e) && e.Op == "import" {
		e.Detail = fmt.Sprintf("line %d: %s", line, e.Detail)
		return e
	}
	return err
}

// readExport checks the lines of r and sends them to out until r ends, a
// line is refused, or ctx ends.
func (s *core) readExport(ctx context.Context, r io.Reader, out chan<- importEntry, ttlOf func([]byte) (uint64, error)) (Progress, error) {
	var p Progress
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxImportLine)
	now := s.now()
	n := 1
	for ; sc.Scan(); n++ {
		raw := sc.Bytes()
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		e, live, err := s.checkLine(raw, ttlOf, now)
		if err != nil {
			return p, &Error{Op: "import", Key: e.key, Err: ErrInvalidArgument, Detail: fmt.Sprintf("line %d: %v", n, err)}
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
		return p, &Error{Op: "import", Err: ErrInvalidArgument, Detail: fmt.Sprintf("line %d: longer than %d bytes", n, maxImportLine)}
	} else if err != nil {
		return p, fmt.Errorf("dokv: import: %w", err)
	}
	return p, nil
}

// checkLine decodes one line of an export and works out its TTL at now:
// live is false for an entry that expired since the export.
func (s *core) checkLine(raw []byte, ttlOf func([]byte) (uint64, error), now time.Time) (e importEntry, live bool, err error) {
	var line ExportLine
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

// putRaw stores data, already encoded by the codec, at key.
func (s *core) putRaw(ctx context.Context, op, key string, data []byte, ttl uint64) error {
	if err := s.validateKey(op, key); err != nil {
		return err
	}
	object := s.router.ObjectName(key)
	m := protocol.Mutation{Key: s.router.StoredKey(key), Kind: protocol.KindPut, Value: data, TTL: min(ttl, protocol.MaxTTL)}
	if size := len(m.Key) + len(data); size > MaxEntryBytes {
		return &Error{Op: op, Key: key, Object: object, Err: ErrValueTooLarge,
			Detail: fmt.Sprintf("key and value of %d bytes exceed %d", size, MaxEntryBytes)}
	}
	_, err := s.call(ctx, op, key, object, &protocol.Request{Op: protocol.OpWrite, Mutations: []protocol.Mutation{m}})
	return err
}

// getRaw returns the codec's bytes at key; found is false when it is absent.
func (s *core) getRaw(ctx context.Context, key string) (data []byte, found bool, err error) {
	object := s.router.ObjectName(key)
	reply, err := s.call(ctx, "verify", key, object, &protocol.Request{Op: protocol.OpGet, Key: s.router.StoredKey(key)})
	return reply.Value, reply.Found, err
}

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
// order and looks its keys up in dst, 16 at a time.
func Verify[T any](ctx context.Context, src, dst *Store[T]) (Report, error) {
	var rep Report
	var mu sync.Mutex
	batch := make([]protocol.Record, 0, importWorkers)
	check := func() error {
		err := listing.Each(ctx, len(batch), func(ctx context.Context, i int) error {
			data, found, err := dst.getRaw(ctx, batch[i].Key)
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
	for rec, err := range src.records(ctx, "verify", ListOptions{}) {
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
	if dst.router.Objects() == nil {
		return rep, nil
	}
	// Keys only dst holds: walk dst and look each up in src.
	for rec, err := range dst.records(ctx, "verify", ListOptions{}) {
		if err != nil {
			return rep, err
		}
		if _, found, err := src.getRaw(ctx, rec.Key); err != nil {
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
func Reshard[T any](ctx context.Context, dst, src *Store[T]) (Report, error) {
	pr, pw := io.Pipe()
	go func() {
		_, err := src.Export(ctx, pw, ExportOptions{})
		pw.CloseWithError(err)
	}()
	if _, err := dst.Import(ctx, pr); err != nil {
		pr.CloseWithError(err)
		return Report{}, err
	}
	return Verify(ctx, src, dst)
}
