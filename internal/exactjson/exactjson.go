// Package exactjson carries stored values inside JSON documents (export
// lines, watch messages) so that a reader gets back exactly the stored
// bytes.
//
// encoding/json cannot do that on its own: it compacts a json.RawMessage
// and escapes <, > and & in it, even inside a Marshaler's output. So a
// value is inlined only when it can stand in the document verbatim, and the
// document is assembled here with the value's bytes copied as they are;
// every other value goes as base64.
package exactjson

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"unicode/utf8"
)

// Inlinable reports whether value can stand verbatim as a JSON value in a
// one-line JSON document, such that decoding the document into a
// json.RawMessage gives back exactly value: it is valid UTF-8 and valid
// JSON, does not start or end with whitespace (a decoder drops it), and
// holds no line break (which only whitespace can be in JSON, and which
// would split a JSON Lines file).
func Inlinable(value []byte) bool {
	if len(value) == 0 || isSpace(value[0]) || isSpace(value[len(value)-1]) {
		return false
	}
	return bytes.IndexAny(value, "\r\n") < 0 && utf8.Valid(value) && json.Valid(value)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// AppendMember adds the member "name": raw to doc, the JSON text of an
// object, just before its closing brace, copying raw as it is. raw must be
// Inlinable (or any JSON the caller wants verbatim); name must need no
// escaping.
func AppendMember(doc []byte, name string, raw []byte) []byte {
	end := len(doc) - 1 // the closing brace
	closing := doc[end]
	doc = doc[:end]
	if end > 1 { // not "{}"
		doc = append(doc, ',')
	}
	doc = append(doc, '"')
	doc = append(doc, name...)
	doc = append(doc, '"', ':')
	doc = append(doc, raw...)
	return append(doc, closing)
}

// AppendValue adds a stored value to doc, a JSON object, as the member
// "value" (inline, verbatim) or "value64" (base64, empty included): at most
// one of inline and b64 is non-nil, and doc is returned as it is when both
// are nil.
func AppendValue(doc []byte, inline json.RawMessage, b64 []byte) []byte {
	switch {
	case inline != nil:
		return AppendMember(doc, "value", inline)
	case b64 != nil:
		enc := make([]byte, 0, base64.StdEncoding.EncodedLen(len(b64))+2)
		enc = append(enc, '"')
		enc = base64.StdEncoding.AppendEncode(enc, b64)
		return AppendMember(doc, "value64", append(enc, '"'))
	}
	return doc
}
