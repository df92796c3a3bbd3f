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
	"unicode/utf8"

	"github.com/dokv/dokv/internal/listing"
	"github.com/dokv/dokv/internal/protocol"
)

// ExportLine is one entry of an export, one JSON object per line (JSON
// Lines): the key, its version in the exported store, and its value as the
// store's codec wrote it: inline as Value when those bytes are JSON (as
// with the default codec), else base64 as Value64. Expires is the key's
// expiry in Unix milliseconds, if it has one.
type ExportLine struct {
	Key     string          `json:"key"`
	Version uint64          `json:"version"`
	Value   json.RawMessage `json:"value,omitempty"`
	Value64 []byte          `json:"value64,omitempty"`
	Expires uint64          `json:"expires,omitempty"`
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
// bytes, never decoded, so any codec exports.
func (s *Store[T]) Export(ctx context.Context, w io.Writer, opts ExportOptions) (Progress, error) {
	return s.export(ctx, w, opts)
}

func (s *core) export(ctx context.Context, w io.Writer, opts ExportOptions) (Progress, error) {
	var p Progress
	bw := bufio.NewWriterSize(w, 64<<10)
	for rec, err := range s.records(ctx, "export", ListOptions{StartAfter: opts.StartAfter, Limit: opts.Limit}) {
		if err != nil {
			return p, err
		}
		line := ExportLine{Key: rec.Key, Version: rec.Version, Expires: rec.Expires}
		if utf8.Valid(rec.Value) && json.Valid(rec.Value) {
			line.Value = compactJSON(rec.Value)
		} else {
			line.Value64 = rec.Value
		}
		b, err := json.Marshal(line)
		if err != nil {
			return p, &Error{Op: "export", Key: rec.Key, Err: ErrDecode, Detail: err.Error()}
		}
		b = append(b, '\n')
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

// compactJSON returns JSON on one line, so that it fits in JSON Lines.
func compactJSON(b []byte) json.RawMessage {
	if !bytes.ContainsAny(b, "\n\r") {
		return b
	}
	var buf bytes.Buffer
	_ = json.Compact(&buf, b) // b is valid JSON
	return buf.Bytes()
}

// importWorkers bounds the writes an import has in flight.
const importWorkers = 16

// maxImportLine bounds one line of an import: the largest entry, base64.
const maxImportLine = 4 * MaxEntryBytes

// Import writes every entry of an export (JSON Lines, see ExportLine) into
// the store, under any partitioning: each entry is set to its value (the
// codec's bytes as exported; the versions are the store's own) with what
// remains of its TTL (the store's WithTTL for an entry without one), and an
// entry whose expiry has passed is skipped.
// Importing is idempotent: an import that was interrupted can be run again
// from the start and ends with the same entries. A malformed line stops the
// import with ErrInvalidArgument, naming the line; the lines before it may
// have been imported.
func (s *Store[T]) Import(ctx context.Context, r io.Reader) (Progress, error) {
	return s.importFrom(ctx, r)
}

func (s *core) importFrom(ctx context.Context, r io.Reader) (Progress, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	lines := make(chan ExportLine)
	var wg sync.WaitGroup
	for range importWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for line := range lines {
				if err := s.importLine(ctx, line); err != nil {
					cancel(err)
				}
			}
		}()
	}
	p, readErr := readExport(ctx, r, lines)
	close(lines)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return p, err
	}
	if readErr != nil {
		return p, readErr
	}
	return p, ctx.Err()
}

// readExport decodes the lines of r into out until r ends or ctx does.
func readExport(ctx context.Context, r io.Reader, out chan<- ExportLine) (Progress, error) {
	var p Progress
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxImportLine)
	for n := 1; sc.Scan(); n++ {
		raw := sc.Bytes()
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		var line ExportLine
		if err := json.Unmarshal(raw, &line); err != nil || line.Key == "" || (line.Value != nil && line.Value64 != nil) {
			detail := "a line needs a key and one of value and value64"
			if err != nil {
				detail = err.Error()
			}
			return p, &Error{Op: "import", Err: ErrInvalidArgument, Detail: fmt.Sprintf("line %d: %s", n, detail)}
		}
		select {
		case out <- line:
		case <-ctx.Done():
			return p, nil
		}
		p.Entries++
		p.Bytes += int64(len(raw)) + 1
		p.Last = line.Key
	}
	if err := sc.Err(); err != nil {
		return p, fmt.Errorf("dokv: import: %w", err)
	}
	return p, nil
}

// importLine writes one imported entry.
func (s *core) importLine(ctx context.Context, line ExportLine) error {
	value := []byte(line.Value)
	if line.Value == nil {
		value = line.Value64
		if value == nil {
			value = []byte{}
		}
	}
	ttl := ttlMillis(s.ttl)
	if line.Expires != 0 {
		left := int64(line.Expires) - time.Now().UnixMilli()
		if left <= 0 {
			return nil // expired since the export
		}
		ttl = uint64(left)
	}
	return s.putRaw(ctx, "import", line.Key, value, ttl)
}

// putRaw stores data, already encoded by the codec, at key.
func (s *core) putRaw(ctx context.Context, op, key string, data []byte, ttl uint64) error {
	if err := checkKey(op, key); err != nil {
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
