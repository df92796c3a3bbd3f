// Package backup moves a dokv store's entries out and in, byte for byte:
// Export writes them as JSON Lines, Import writes them into any store of
// any partitioning, Verify compares two stores, Reshard moves one to
// another partitioning; AdminHandler serves export and import to `dokv
// export` and `dokv import` from a running Worker. Like etcd's Maintenance
// beside its KV, these are operations on a store, not part of its data path.
package backup

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/internal/exactjson"
	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/rawstore"
)

// Line is one entry of an export, one JSON object per line (JSON
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
type Line struct {
	Key     string          `json:"key"`
	Version uint64          `json:"version"`
	Value   json.RawMessage `json:"value,omitempty"`
	Value64 []byte          `json:"value64,omitempty"`
	Expires uint64          `json:"expires,omitempty"`
}

// appendLine appends the JSON Lines form of rec, newline included.
func appendLine(b []byte, rec protocol.Record) ([]byte, error) {
	head, err := json.Marshal(Line{Key: rec.Key, Version: rec.Version, Expires: rec.Expires})
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

// Export writes the entries of s to w as JSON Lines (see Line), in
// ascending key order across all its objects, and reports what it wrote.
// Like List, it pages through the objects and holds one page at a time; it
// is not a snapshot, and needs a listable partitioning (SingleObject or
// HashShards), else dokv.ErrUnsupported. The values are exported as the
// codec's bytes, never decoded, so any codec exports, and Import writes
// back exactly those bytes.
func Export[T any](ctx context.Context, s *dokv.Store[T], w io.Writer, opts ExportOptions) (Progress, error) {
	return export(ctx, rawstore.Of(s), w, opts)
}

func export(ctx context.Context, s rawstore.Store, w io.Writer, opts ExportOptions) (Progress, error) {
	var p Progress
	bw := bufio.NewWriterSize(w, 64<<10)
	var b []byte
	for rec, err := range s.Records(ctx, "export", opts.StartAfter, opts.Limit) {
		if err != nil {
			return p, err
		}
		b, err = appendLine(b[:0], rec)
		if err != nil {
			return p, &dokv.Error{Op: "export", Key: rec.Key, Err: dokv.ErrDecode, Detail: err.Error()}
		}
		if _, err := bw.Write(b); err != nil {
			return p, fmt.Errorf("backup: export: %w", err)
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
		return p, fmt.Errorf("backup: export: %w", err)
	}
	return p, nil
}
