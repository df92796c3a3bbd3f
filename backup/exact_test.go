package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/internal/exactjson"
	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/rawstore"
)

// recordOf is a stored record as an export reads it.
func recordOf(key string, value []byte) protocol.Record {
	return protocol.Record{Key: key, Version: 7, Value: value}
}

// prefixCodec is a codec of the caller's own, which is neither JSON nor
// raw: a string stored as "v1:" and its bytes, refused without the prefix.
type prefixCodec struct{}

func (prefixCodec) Marshal(v any) ([]byte, error) {
	s, ok := v.(string)
	if !ok {
		return nil, errors.New("prefixCodec stores strings")
	}
	return []byte("v1:" + s), nil
}

func (prefixCodec) Unmarshal(data []byte, v any) error {
	p, ok := v.(*string)
	if !ok || !bytes.HasPrefix(data, []byte("v1:")) {
		return errors.New("not a v1 value")
	}
	*p = string(data[3:])
	return nil
}

// roundTrip exports src (holding value at key "k", written as the codec's
// bytes) and imports the export into a fresh store of the same options,
// then returns the bytes the new store holds.
func roundTrip[T any](t *testing.T, value []byte, opts ...dokv.Option) []byte {
	t.Helper()
	ctx := context.Background()
	opts = append([]dokv.Option{dokv.WithPartitioning(dokv.SingleObject("exact"))}, opts...)
	src, err := dokv.New[T](dokv.NewMemoryNamespace(), opts...)
	require.NoError(t, err)
	dst, err := dokv.New[T](dokv.NewMemoryNamespace(), opts...)
	require.NoError(t, err)
	require.NoError(t, rawstore.Of(src).Put(ctx, "set", "k", value, 0))
	var export bytes.Buffer
	_, err = Export(ctx, src, &export, ExportOptions{})
	require.NoError(t, err)
	require.Equal(t, 1, bytes.Count(export.Bytes(), []byte("\n")), "one line: %q", export.Bytes())
	_, err = Import(ctx, dst, &export)
	require.NoError(t, err, "import of %q", value)
	got, found, err := rawstore.Of(dst).Get(ctx, "get", "k")
	require.NoError(t, err)
	require.True(t, found)
	return got
}

// FuzzExportImport_ByteExact proves, over arbitrary values, that an export
// imported again holds exactly the stored bytes, under every codec the
// library ships and one of a user's own; and that a value the destination's
// codec cannot decode is refused, naming the line, with nothing written.
func FuzzExportImport_ByteExact(f *testing.F) {
	for _, v := range exactjson.AwkwardValues {
		f.Add([]byte(v))
	}
	f.Fuzz(func(t *testing.T, value []byte) {
		if len(value) > 64<<10 {
			return
		}
		assert.Equal(t, value, roundTrip[[]byte](t, value, dokv.WithCodec(dokv.Raw())), "Raw")
		custom := append([]byte("v1:"), value...)
		assert.Equal(t, custom, roundTrip[string](t, custom, dokv.WithCodec(prefixCodec{})), "custom codec")
		// The JSON codec holds what decodes as the store's type: valid JSON
		// that does not (a number beyond float64, such as 1e700, for a
		// Store[any]) is refused like any other undecodable value.
		var v any
		if json.Unmarshal(value, &v) == nil {
			assert.Equal(t, value, roundTrip[any](t, value), "JSON")
		} else {
			assertImportRefused[any](t, []byte(`1`), value)
		}
	})
}

// assertImportRefused imports a line holding value, which does not decode
// under the store's codec, after a good line.
func assertImportRefused[T any](t *testing.T, good, value []byte, opts ...dokv.Option) {
	t.Helper()
	ctx := context.Background()
	dst, err := dokv.New[T](dokv.NewMemoryNamespace(), append([]dokv.Option{dokv.WithPartitioning(dokv.SingleObject("exact"))}, opts...)...)
	require.NoError(t, err)
	var in bytes.Buffer
	for i, rec := range []struct{ key, value string }{{"good", string(good)}, {"bad", string(value)}, {"after", string(good)}} {
		line, err := appendLine(nil, recordOf(rec.key, []byte(rec.value)))
		require.NoError(t, err)
		in.Write(line)
		if i == 0 {
			in.WriteString("\n") // a blank line still counts
		}
	}
	_, err = Import(ctx, dst, &in)
	require.ErrorIs(t, err, dokv.ErrInvalidArgument)
	var e *dokv.Error
	require.ErrorAs(t, err, &e)
	assert.True(t, strings.HasPrefix(e.Detail, "line 3: "), "detail %q names the line", e.Detail)
	_, found, err := rawstore.Of(dst).Get(ctx, "get", "good")
	require.NoError(t, err)
	assert.True(t, found, "the line before the refused one was imported")
	for _, key := range []string{"bad", "after"} {
		_, found, err := rawstore.Of(dst).Get(ctx, "get", key)
		require.NoError(t, err)
		assert.False(t, found, "%s was written", key)
	}
}

func TestImport_RefusesValuesTheCodecCannotDecode(t *testing.T) {
	assertImportRefused[any](t, []byte(`1`), []byte("not json"))
	assertImportRefused[int](t, []byte(`1`), []byte(`"a string"`))
	assertImportRefused[string](t, []byte("v1:good"), []byte("no prefix"), dokv.WithCodec(prefixCodec{}))
}

// TestExport_InlinesOnlyWhatStaysExact shows the form of the lines: JSON
// that can stand verbatim is inline and copied as it is, even with spaces
// and <>&; anything else is base64.
func TestExport_InlinesOnlyWhatStaysExact(t *testing.T) {
	for value, want := range map[string]string{
		`{"a": "<&>"}`: `{"key":"k","version":7,"value":{"a": "<&>"}}`,
		"{\"a\":\n1}":  `{"key":"k","version":7,"value64":"eyJhIjoKMX0="}`,
		` 1`:           `{"key":"k","version":7,"value64":"IDE="}`,
		``:             `{"key":"k","version":7,"value64":""}`,
		"\xff":         `{"key":"k","version":7,"value64":"/w=="}`,
	} {
		line, err := appendLine(nil, recordOf("k", []byte(value)))
		require.NoError(t, err)
		assert.Equal(t, want+"\n", string(line))
	}
}
