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
			kind := byte(m.Kind)
			if m.TTL > 0 {
				kind |= kindHasTTL
			}
			buf = append(buf, kind, boolByte(m.HasCondition))
			buf = binary.AppendUvarint(buf, m.Version)
			if m.Kind == KindPut {
				buf = appendBytes(buf, m.Value)
			}
			if m.TTL > 0 {
				buf = binary.AppendUvarint(buf, m.TTL)
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
			kind := d.byte()
			m.Kind = Kind(kind &^ kindHasTTL)
			m.HasCondition = d.bool()
			m.Version = d.uvarint()
			switch {
			case m.Kind == KindPut:
				m.Value = d.bytes()
			case kind&kindHasTTL != 0:
				d.fail("a TTL on a mutation of kind %d", m.Kind)
			case m.Kind == KindCheck, m.Kind == KindDelete:
			default:
				d.fail("unknown mutation kind %d", m.Kind)
			}
			if kind&kindHasTTL != 0 {
				if m.TTL = d.uvarint(); m.TTL == 0 || m.TTL > MaxTTL {
					d.fail("TTL %d ms is not within 1 to %d", m.TTL, MaxTTL)
				}
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

// Flags that extend version 1's messages without changing those that do not
// use them, so that old and new Workers agree on every message both can
// write: a mutation kind with kindHasTTL carries a TTL after its value, a
// get reply's found byte foundExpiring carries the expiry after the value,
// and a list reply's more byte with moreHasExpiries carries its entries'
// expiries after it. An old decoder rejects them as malformed.
const (
	kindHasTTL      = 0x80
	foundExpiring   = 2
	moreHasExpiries = 2
)

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
		switch {
		case !r.Found:
			buf = append(buf, 0)
		case r.Expires == 0:
			buf = append(buf, 1)
		default:
			buf = append(buf, foundExpiring)
		}
		if r.Found {
			buf = binary.AppendUvarint(buf, r.Version)
			buf = appendBytes(buf, r.Value)
			if r.Expires != 0 {
				buf = binary.AppendUvarint(buf, r.Expires)
			}
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
		// Expiries follow the page, only when some entry has one, as
		// (index, expires) pairs.
		expiring := 0
		for i := range r.Entries {
			if r.Entries[i].Expires != 0 {
				expiring++
			}
		}
		if expiring == 0 {
			buf = append(buf, boolByte(r.More))
			break
		}
		buf = append(buf, boolByte(r.More)|moreHasExpiries)
		buf = binary.AppendUvarint(buf, uint64(expiring))
		for i := range r.Entries {
			if e := r.Entries[i].Expires; e != 0 {
				buf = binary.AppendUvarint(buf, uint64(i))
				buf = binary.AppendUvarint(buf, e)
			}
		}
	case OpStats:
		buf = binary.AppendUvarint(buf, r.Version)
		buf = binary.AppendUvarint(buf, r.Stats.Keys)
		buf = binary.AppendUvarint(buf, r.Stats.Bytes)
		buf = binary.AppendUvarint(buf, r.Stats.StorageBytes)
		buf = binary.AppendUvarint(buf, r.Stats.NextAlarm)
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
		found := d.byte()
		if found > foundExpiring {
			d.fail("bad found flag %d", found)
		}
		r.Found = found != 0
		if r.Found {
			r.Version = d.uvarint()
			r.Value = d.bytes()
		}
		if found == foundExpiring {
			r.Expires = d.uvarint()
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
		more := d.byte()
		if more&^(1|moreHasExpiries) != 0 {
			d.fail("bad more flag %d", more)
		}
		r.More = more&1 != 0
		if more&moreHasExpiries != 0 {
			m := d.count(len(r.Entries), 2)
			for range m {
				i := d.int(len(r.Entries) - 1)
				if d.err == nil {
					r.Entries[i].Expires = d.uvarint()
				}
			}
		}
	case OpStats:
		r.Version = d.uvarint()
		r.Stats.Keys = d.uvarint()
		r.Stats.Bytes = d.uvarint()
		r.Stats.StorageBytes = d.uvarint()
		r.Stats.NextAlarm = d.uvarint()
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
