package backup_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/backup"
	"github.com/dokv/dokv/dokvtest"
)

type record struct {
	N    int    `json:"n"`
	Name string `json:"name"`
}

func fillRecords(t *testing.T, s *dokv.Store[record], n int) {
	t.Helper()
	for i := range n {
		require.NoError(t, s.Set(t.Context(), fmt.Sprintf("k/%03d", i), record{N: i, Name: strings.Repeat("ü", i%5)}))
	}
	_, err := s.SetWithTTL(t.Context(), "with-ttl", record{N: -1}, time.Hour)
	require.NoError(t, err)
}

func exportLines(t *testing.T, data []byte) []backup.Line {
	t.Helper()
	var lines []backup.Line
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var l backup.Line
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l), sc.Text())
		lines = append(lines, l)
	}
	return lines
}

var partitionings = map[string]dokv.Partitioning{
	"PerKey":           dokv.PerKey(),
	"ObjectNamedByKey": dokv.ObjectNamedByKey(),
	"SingleObject":     dokv.SingleObject("main"),
	"HashShards(3)":    dokv.HashShards(3),
	"HashShards(7)":    dokv.HashShards(7),
}

// Every listable store exports, and every store imports what it exported:
// the same entries under any partitioning, checked key by key.
func TestExportImport_EveryPartitioningPair(t *testing.T) {
	ctx := t.Context()
	for srcName, srcP := range partitionings {
		src, err := dokv.New[record](dokv.NewMemoryNamespace(), dokv.WithPartitioning(srcP))
		require.NoError(t, err)
		fillRecords(t, src, 40)
		var buf bytes.Buffer
		p, err := backup.Export(ctx, src, &buf, backup.ExportOptions{})
		if srcName == "PerKey" || srcName == "ObjectNamedByKey" {
			require.ErrorIs(t, err, dokv.ErrUnsupported, srcName)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, int64(41), p.Entries)
		assert.Equal(t, int64(buf.Len()), p.Bytes)
		lines := exportLines(t, buf.Bytes())
		require.Len(t, lines, 41)
		for i := 1; i < len(lines); i++ {
			require.Less(t, lines[i-1].Key, lines[i].Key, "key order across objects")
		}
		assert.JSONEq(t, `{"n":3,"name":"üüü"}`, string(lines[3].Value), "JSON values are inline")
		assert.NotZero(t, lines[40].Expires, "the TTL travels")

		for dstName, dstP := range partitionings {
			t.Run(srcName+" to "+dstName, func(t *testing.T) {
				dst, err := dokv.New[record](dokv.NewMemoryNamespace(), dokv.WithPartitioning(dstP))
				require.NoError(t, err)
				p, err := backup.Import(ctx, dst, bytes.NewReader(buf.Bytes()))
				require.NoError(t, err)
				assert.Equal(t, int64(41), p.Entries)
				rep, err := backup.Verify(ctx, dst, src)
				require.NoError(t, err)
				assert.True(t, rep.OK(), "%+v", rep)
				assert.Equal(t, int64(41), rep.Compared)
				got, err := dst.GetEntry(ctx, "k/007")
				require.NoError(t, err)
				assert.Equal(t, record{N: 7, Name: "üü"}, got.Value)
				e, err := dst.GetEntry(ctx, "with-ttl")
				require.NoError(t, err)
				assert.WithinDuration(t, time.Now().Add(time.Hour), e.ExpiresAt, time.Minute)
			})
		}
	}
}

func TestReshard_AndVerifyReportsDifferences(t *testing.T) {
	ctx := t.Context()
	ns := dokv.NewMemoryNamespace()
	for _, pair := range [][2]dokv.Partitioning{
		{dokv.HashShards(2), dokv.HashShards(5)},
		{dokv.SingleObject("one"), dokv.HashShards(4)},
		{dokv.HashShards(4), dokv.SingleObject("one")},
	} {
		src, err := dokv.New[record](ns, dokv.WithPrefix(fmt.Sprintf("v1-%s", pair[0])), dokv.WithPartitioning(pair[0]))
		require.NoError(t, err)
		dst, err := dokv.New[record](ns, dokv.WithPrefix(fmt.Sprintf("v2-%s", pair[1])), dokv.WithPartitioning(pair[1]))
		require.NoError(t, err)
		fillRecords(t, src, 30)
		rep, err := backup.Reshard(ctx, dst, src)
		require.NoError(t, err)
		assert.True(t, rep.OK(), "%s to %s: %+v", pair[0], pair[1], rep)
		assert.Equal(t, int64(31), rep.Compared)
		rep, err = backup.Reshard(ctx, dst, src)
		require.NoError(t, err)
		assert.True(t, rep.OK(), "resharding again changes nothing")

		require.NoError(t, dst.Set(ctx, "k/001", record{N: 99}))
		require.NoError(t, dst.Delete(ctx, "k/002"))
		require.NoError(t, dst.Set(ctx, "only-in-dst", record{}))
		rep, err = backup.Verify(ctx, dst, src)
		require.NoError(t, err)
		assert.False(t, rep.OK())
		assert.Equal(t, int64(3), rep.Different)
		assert.ElementsMatch(t, []backup.Difference{{Key: "k/001", Problem: "different"}, {Key: "k/002", Problem: "missing"}, {Key: "only-in-dst", Problem: "extra"}}, rep.Differences)
	}
}

// failingReader fails after n lines, as an import cut off midway.
type failingReader struct {
	r *bufio.Reader
	n int
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("connection lost")
	}
	line, err := f.r.ReadBytes('\n')
	f.n--
	return copy(p, line), err
}

func TestImport_InterruptedAndRunAgain(t *testing.T) {
	ctx := t.Context()
	src, err := dokv.New[record](dokv.NewMemoryNamespace(), dokv.WithPartitioning(dokv.HashShards(3)))
	require.NoError(t, err)
	fillRecords(t, src, 50)
	var buf bytes.Buffer
	_, err = backup.Export(ctx, src, &buf, backup.ExportOptions{})
	require.NoError(t, err)

	dst, err := dokv.New[record](dokv.NewMemoryNamespace(), dokv.WithPartitioning(dokv.SingleObject("x")))
	require.NoError(t, err)
	_, err = backup.Import(ctx, dst, &failingReader{r: bufio.NewReader(bytes.NewReader(buf.Bytes())), n: 20})
	require.ErrorContains(t, err, "connection lost")
	rep, err := backup.Verify(ctx, dst, src)
	require.NoError(t, err)
	assert.False(t, rep.OK(), "the import stopped midway")

	_, err = backup.Import(ctx, dst, bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	rep, err = backup.Verify(ctx, dst, src)
	require.NoError(t, err)
	assert.True(t, rep.OK(), "%+v", rep)
}

func TestExport_ResumesAfterAKeyAndRawValues(t *testing.T) {
	ctx := t.Context()
	s, err := dokv.New[[]byte](dokv.NewMemoryNamespace(), dokv.WithCodec(dokv.Raw()), dokv.WithPartitioning(dokv.HashShards(2)))
	require.NoError(t, err)
	values := map[string][]byte{"a": {0xff, 0, 1}, "b": []byte(`{"json":true}`), "c": []byte("not json"), "d": {}}
	for k, v := range values {
		require.NoError(t, s.Set(ctx, k, v))
	}
	var first, rest bytes.Buffer
	p, err := backup.Export(ctx, s, &first, backup.ExportOptions{Limit: 2})
	require.NoError(t, err)
	assert.Equal(t, "b", p.Last)
	_, err = backup.Export(ctx, s, &rest, backup.ExportOptions{StartAfter: p.Last})
	require.NoError(t, err)
	lines := exportLines(t, append(first.Bytes(), rest.Bytes()...))
	require.Len(t, lines, 4)
	assert.Equal(t, []byte{0xff, 0, 1}, lines[0].Value64)
	assert.JSONEq(t, `{"json":true}`, string(lines[1].Value))
	assert.Equal(t, []byte("not json"), lines[2].Value64)

	dst, err := dokv.New[[]byte](dokv.NewMemoryNamespace(), dokv.WithCodec(dokv.Raw()))
	require.NoError(t, err)
	_, err = backup.Import(ctx, dst, io.MultiReader(&first, &rest))
	require.NoError(t, err)
	for k, v := range values {
		got, err := dst.Get(ctx, k)
		require.NoError(t, err)
		assert.Equal(t, v, got, k)
	}
}

func TestImport_BadLines(t *testing.T) {
	ctx := t.Context()
	dst, err := dokv.New[record](dokv.NewMemoryNamespace(), dokv.WithPartitioning(dokv.SingleObject("x")))
	require.NoError(t, err)
	for _, bad := range []string{`not json`, `{"value":1}`, `{"key":"k","value":1,"value64":"AA=="}`, `{"key":""}`} {
		_, err := backup.Import(ctx, dst, strings.NewReader(`{"key":"ok","value":{"n":1}}`+"\n"+bad+"\n"))
		require.ErrorIs(t, err, dokv.ErrInvalidArgument, bad)
		assert.ErrorContains(t, err, "line 2")
	}
	_, err = backup.Import(ctx, dst, strings.NewReader(`{"key":"gone","value":{"n":1},"expires":1000}`+"\n"))
	require.NoError(t, err)
	_, err = dst.Get(ctx, "gone")
	require.ErrorIs(t, err, dokv.ErrNotFound, "an entry that expired since the export is skipped")
}

func TestExport_MaxBytesBoundsAPage(t *testing.T) {
	ctx := t.Context()
	s, err := dokv.New[[]byte](dokv.NewMemoryNamespace(), dokv.WithCodec(dokv.Raw()), dokv.WithPartitioning(dokv.SingleObject("o")))
	require.NoError(t, err)
	for i := range 10 {
		require.NoError(t, s.Set(ctx, fmt.Sprint("k", i), bytes.Repeat([]byte{0xfe}, 1000)))
	}
	var all bytes.Buffer
	after := ""
	pages := 0
	for {
		p, err := backup.Export(ctx, s, &all, backup.ExportOptions{StartAfter: after, MaxBytes: 3000})
		require.NoError(t, err)
		pages++
		if !p.Truncated {
			break
		}
		assert.LessOrEqual(t, p.Entries, int64(3), "a page ends with the line that crosses MaxBytes")
		after = p.Last
	}
	assert.Greater(t, pages, 3)
	assert.Len(t, exportLines(t, all.Bytes()), 10, "the pages together hold every entry once")
}

func TestImport_AppliesTheStoresDefaultTTL(t *testing.T) {
	ctx := t.Context()
	clock := dokvtest.NewManualClock(epoch)
	dst, err := dokv.New[record](dokv.NewMemoryNamespace(dokv.WithClock(clock)), dokv.WithTTL(time.Minute))
	require.NoError(t, err)
	_, err = backup.Import(ctx, dst, strings.NewReader(`{"key":"k","value":{"n":1}}`+"\n"))
	require.NoError(t, err)
	e, err := dst.GetEntry(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, epoch.Add(time.Minute), e.ExpiresAt)
}

// epoch is where the tests' manual clocks start.
var epoch = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
