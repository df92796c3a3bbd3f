package protocol

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// AppendRequest appends the encoding of r to buf.
func AppendRequest(buf []byte, r *Request) []byte {
	buf = append(buf, Version, byte(r.Op))
	switch r.Op {
	case OpGet, OpStats:
		buf = appendString(buf, r.Key)
	case OpWrite:
		buf = binary.AppendUvarint(buf, uint64(len(r.Mutations)))
		for i := range r.Mutations {
			m := &r.Mutations[i]
			buf = appendString(buf, m.Key)
			buf = append(buf, byte(m.Kind), boolByte(m.HasCondition))
			buf = binary.AppendUvarint(buf, m.Version)
			if m.Kind == KindPut {
				buf = appendBytes(buf, m.Value)
			}
		}
	case OpList:
		buf = appendString(buf, r.List.Prefix)
		buf = appendString(buf, r.List.StartAfter)
		buf = binary.AppendUvarint(buf, uint64(r.List.Limit))
	}
	return buf
}

// DecodeRequest decodes a request. Strings are copied; Mutation values alias
// data, so the caller must not change data while it uses the request.
func DecodeRequest(data []byte) (Request, error) {
	d := decoder{data: data}
	var r Request
	if err := d.header(); err != nil {
		return r, err
	}
	r.Op = Op(d.byte())
	switch r.Op {
	case OpGet, OpStats:
		r.Key = d.string()
	case OpWrite:
		n := d.count(MaxMutations, minMutationBytes)
		if d.err == nil {
			r.Mutations = make([]Mutation, n)
		}
		for i := 0; i < n && d.err == nil; i++ {
			m := &r.Mutations[i]
			m.Key = d.string()
			m.Kind = Kind(d.byte())
			m.HasCondition = d.bool()
			m.Version = d.uvarint()
			switch m.Kind {
			case KindPut:
				m.Value = d.bytes()
			case KindCheck, KindDelete:
			default:
				d.fail("unknown mutation kind %d", m.Kind)
			}
		}
	case OpList:
		r.List.Prefix = d.string()
		r.List.StartAfter = d.string()
		r.List.Limit = d.int(MaxListLimit)
	default:
		d.fail("unknown op %d", byte(r.Op))
	}
	return r, d.finish()
}

// AppendReply appends the encoding of r, the reply to an op, to buf.
func AppendReply(buf []byte, op Op, r *Reply) []byte {
	buf = append(buf, Version, byte(r.Status))
	if r.Status != StatusOK {
		buf = binary.AppendUvarint(buf, uint64(r.Index))
		buf = binary.AppendUvarint(buf, r.Current)
		msg := r.Message
		if len(msg) > maxMessageBytes {
			msg = strings.ToValidUTF8(msg[:maxMessageBytes], "")
		}
		return appendString(buf, msg)
	}
	switch op {
	case OpGet:
		buf = append(buf, boolByte(r.Found))
		if r.Found {
			buf = binary.AppendUvarint(buf, r.Version)
			buf = appendBytes(buf, r.Value)
		}
	case OpWrite:
		buf = binary.AppendUvarint(buf, uint64(len(r.Versions)))
		for _, v := range r.Versions {
			buf = binary.AppendUvarint(buf, v)
		}
	case OpList:
		buf = binary.AppendUvarint(buf, uint64(len(r.Entries)))
		for i := range r.Entries {
			e := &r.Entries[i]
			buf = appendString(buf, e.Key)
			buf = binary.AppendUvarint(buf, e.Version)
			buf = appendBytes(buf, e.Value)
		}
		buf = append(buf, boolByte(r.More))
	case OpStats:
		buf = binary.AppendUvarint(buf, r.Version)
		buf = binary.AppendUvarint(buf, r.Stats.Keys)
		buf = binary.AppendUvarint(buf, r.Stats.Bytes)
		buf = binary.AppendUvarint(buf, r.Stats.StorageBytes)
	}
	return buf
}

// DecodeReply decodes the reply to a request with the given op. Values alias
// data.
func DecodeReply(op Op, data []byte) (Reply, error) {
	d := decoder{data: data}
	var r Reply
	if err := d.header(); err != nil {
		return r, err
	}
	r.Status = Status(d.byte())
	if r.Status != StatusOK {
		if r.Status >= statusUpperBound {
			d.fail("unknown status %d", byte(r.Status))
		}
		r.Index = d.int(MaxMutations)
		r.Current = d.uvarint()
		r.Message = d.string()
		return r, d.finish()
	}
	switch op {
	case OpGet:
		r.Found = d.bool()
		if r.Found {
			r.Version = d.uvarint()
			r.Value = d.bytes()
		}
	case OpWrite:
		n := d.count(MaxMutations, 1)
		if d.err == nil {
			r.Versions = make([]uint64, n)
		}
		for i := 0; i < n && d.err == nil; i++ {
			r.Versions[i] = d.uvarint()
		}
	case OpList:
		n := d.count(MaxListLimit, minListEntryBytes)
		if d.err == nil {
			r.Entries = make([]Record, n)
		}
		for i := 0; i < n && d.err == nil; i++ {
			e := &r.Entries[i]
			e.Key = d.string()
			e.Version = d.uvarint()
			e.Value = d.bytes()
		}
		r.More = d.bool()
	case OpStats:
		r.Version = d.uvarint()
		r.Stats.Keys = d.uvarint()
		r.Stats.Bytes = d.uvarint()
		r.Stats.StorageBytes = d.uvarint()
	default:
		d.fail("unknown op %d", byte(op))
	}
	return r, d.finish()
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

func appendBytes(buf []byte, b []byte) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(b)))
	return append(buf, b...)
}

// decoder reads a message front to back. The first error sticks; later reads
// return zero values, so decode functions check d.err only where they
// allocate or loop.
type decoder struct {
	data []byte
	err  error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
}

func (d *decoder) header() error {
	if len(d.data) < 2 {
		return fmt.Errorf("%w: %d bytes is too short", ErrMalformed, len(d.data))
	}
	if d.data[0] != Version {
		return fmt.Errorf("%w: protocol version %d, want %d", ErrMalformed, d.data[0], Version)
	}
	d.data = d.data[1:]
	return nil
}

func (d *decoder) finish() error {
	if d.err == nil && len(d.data) != 0 {
		d.fail("%d trailing bytes", len(d.data))
	}
	return d.err
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.data) == 0 {
		d.fail("unexpected end of message")
		return 0
	}
	b := d.data[0]
	d.data = d.data[1:]
	return b
}

func (d *decoder) bool() bool {
	switch b := d.byte(); b {
	case 0:
		return false
	case 1:
		return true
	default:
		d.fail("bad boolean %d", b)
		return false
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.data)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.data = d.data[n:]
	return v
}

// int reads a non-negative integer no larger than max.
func (d *decoder) int(max int) int {
	v := d.uvarint()
	if v > uint64(max) {
		d.fail("%d exceeds the limit of %d", v, max)
		return 0
	}
	return int(v)
}

// count reads an element count no larger than max, and checks that the rest
// of the message is long enough for that many elements of at least minSize
// bytes, so a forged count cannot force a large allocation.
func (d *decoder) count(max, minSize int) int {
	v := d.uvarint()
	if d.err == nil && v > uint64(max) {
		d.err = fmt.Errorf("%w: count %d exceeds the limit of %d", ErrTooMany, v, max)
		return 0
	}
	n := int(v)
	if d.err == nil && n*minSize > len(d.data) {
		d.fail("count %d exceeds the message", n)
		return 0
	}
	return n
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.data)) {
		d.fail("length %d exceeds the message", n)
		return nil
	}
	b := d.data[:n:n]
	d.data = d.data[n:]
	return b
}

func (d *decoder) string() string {
	return string(d.bytes())
}
