package exactjson

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzAppendValue checks the promise of the package over arbitrary values:
// a document carrying a value, inline when Inlinable and as base64
// otherwise, is one line of valid JSON from which encoding/json gives back
// exactly the value, the empty value included.
func FuzzAppendValue(f *testing.F) {
	for _, v := range AwkwardValues {
		f.Add([]byte(v))
	}
	f.Fuzz(func(t *testing.T, value []byte) {
		doc := []byte(`{"key":"k","at":7}`)
		if Inlinable(value) {
			doc = AppendValue(doc, value, nil)
		} else {
			doc = AppendValue(doc, nil, value)
		}
		require.True(t, json.Valid(doc), "document %q", doc)
		require.False(t, bytes.ContainsAny(doc, "\r\n"), "document %q spans lines", doc)
		var got struct {
			Key     string          `json:"key"`
			At      int             `json:"at"`
			Value   json.RawMessage `json:"value"`
			Value64 []byte          `json:"value64"`
		}
		require.NoError(t, json.Unmarshal(doc, &got))
		assert.Equal(t, "k", got.Key)
		assert.Equal(t, 7, got.At)
		back := []byte(got.Value)
		if got.Value64 != nil {
			require.Nil(t, got.Value, "one of value and value64")
			back = got.Value64
		}
		require.NotNil(t, back, "document %q lost the value", doc)
		assert.Equal(t, value, back, "document %q", doc)
	})
}

func TestInlinable(t *testing.T) {
	for v, want := range map[string]bool{
		`{"a": 1}`:            true, // inner whitespace stays: it is copied verbatim
		`"<b>&</b>"`:          true,
		"\"\u2028\"":          true,
		`{"a":1,"a":2}`:       true,
		`1e999`:               true,
		``:                    false,
		` 1`:                  false,
		`1 `:                  false,
		"{\n\"a\":1}":         false,
		"\"\xff\"":            false,
		`{"a":`:               false,
		`tru`:                 false,
		"\"a\"\"b\"":          false, // two values
		"\"\x01\"":            false, // a control character in a string
		`{"a":"\u0000"}`:      true,
		`[1,2,3]`:             true,
		"\t[1]\t":             false,
		`"\ud800"`:            true, // an escaped lone surrogate is valid JSON text
		"{\"a\":\"\u00e9\"}":  true,
		"[\"\xed\xa0\x80\"]":  false, // a raw surrogate is not UTF-8
		`{"a":[{"b":null}]}`:  true,
		`  `:                  false,
		`0123`:                false,
		`{"a":1}{"b":2}`:      false,
		"{\"a\":1}\u2028":     false,
		`"ok"`:                true,
		`{"k":"v"}`:           true,
		`{"nested":{"x":[]}}`: true,
	} {
		assert.Equal(t, want, Inlinable([]byte(v)), "Inlinable(%q)", v)
	}
}

func TestAppendMember_EmptyObject(t *testing.T) {
	assert.Equal(t, `{"value":1}`, string(AppendMember([]byte(`{}`), "value", []byte(`1`))))
	assert.Equal(t, `{"a":0,"value":[ 1 ]}`, string(AppendMember([]byte(`{"a":0}`), "value", []byte(`[ 1 ]`))))
}
