package local

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/backup"
	"github.com/dokv/dokv/internal/exactjson"
)

// A store moves between the local namespace and another host with dokv
// export and import, byte for byte: local → memory → local (a new
// directory), over awkward values and random bytes.
func TestLocal_ExportImportAcrossHosts(t *testing.T) {
	ctx := context.Background()
	raw := []dokv.Option{dokv.WithCodec(dokv.Raw()), dokv.WithPartitioning(dokv.HashShards(3))}
	newStore := func(ns dokv.Namespace) *dokv.Store[[]byte] {
		s, err := dokv.New[[]byte](ns, raw...)
		require.NoError(t, err)
		return s
	}
	src := newStore(open(t, t.TempDir()))
	values := exactjson.Corpus(11, 150, 300)
	for i, v := range values {
		require.NoError(t, src.Set(ctx, fmt.Sprint("k", i), v))
	}

	var first bytes.Buffer
	_, err := backup.Export(ctx, src, &first, backup.ExportOptions{})
	require.NoError(t, err)
	mem := newStore(dokv.NewMemoryNamespace())
	_, err = backup.Import(ctx, mem, bytes.NewReader(first.Bytes()))
	require.NoError(t, err)

	var second bytes.Buffer
	_, err = backup.Export(ctx, mem, &second, backup.ExportOptions{})
	require.NoError(t, err)
	dst := newStore(open(t, t.TempDir()))
	_, err = backup.Import(ctx, dst, bytes.NewReader(second.Bytes()))
	require.NoError(t, err)

	for i, v := range values {
		got, err := dst.Get(ctx, fmt.Sprint("k", i))
		require.NoError(t, err)
		assert.Equal(t, v, got, "k%d", i)
	}
	report, err := backup.Verify(ctx, dst, src)
	require.NoError(t, err)
	assert.True(t, report.OK(), "%+v", report)
	assert.Equal(t, int64(len(values)), report.Compared)
}
