package scenarios

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
)

// kept returns an open that gives the same memory namespace for a name on
// every call, as a directory does on every run: the data of one Run is
// there for the next.
func kept() func(string) (dokv.Namespace, error) {
	namespaces := map[string]*dokv.MemoryNamespace{}
	return func(name string) (dokv.Namespace, error) {
		if namespaces[name] == nil {
			namespaces[name] = dokv.NewMemoryNamespace()
		}
		return namespaces[name], nil
	}
}

// Runs over kept data find what the earlier ones made, check it, and still
// hold their own invariants; the first finds nothing and says nothing of
// it.
func TestRun_FindsEarlierRunsData(t *testing.T) {
	ctx := context.Background()
	open := kept()
	var outs []string
	for range 3 {
		var out strings.Builder
		require.NoError(t, Run(ctx, &out, open), out.String())
		outs = append(outs, out.String())
	}
	assert.NotContains(t, outs[0], "earlier")

	second := outs[1]
	assert.Contains(t, second, "found 1 flow job from an earlier run, still completed with its 4 tasks\n")
	m := regexp.MustCompile(`part +(\d+) completed the upload`).FindStringSubmatch(outs[0])
	require.NotNil(t, m, outs[0])
	assert.Contains(t, second, "found 1 upload from an earlier run, still complete (12 parts), assembled on part "+m[1]+"'s arrival\n")
	assert.Regexp(t, `(?m)^part `+m[1]+` delivered again to upload-[0-9a-f-]{36} now is ignored as a duplicate: it is not assembled twice$`, second)
	assert.Contains(t, second, "1 arrival to assemble\n", "this run's own upload is assembled once")
	assert.Regexp(t, `(?m)^  SingleObject\("uploads"\) +1 object, lists all 200 keys in order; each key written by this run and 1 earlier one$`, second)
	assert.Regexp(t, `(?m)^  PerKey\(\) +200 objects, cannot list \(ErrUnsupported\); each key written by this run and 1 earlier one$`, second)
	assert.Regexp(t, `(?m)^  HashShards\(8\) +8 objects, lists all 200 keys in order; each key written by this run and 1 earlier one$`, second)

	third := outs[2]
	assert.Contains(t, third, "found 2 flow jobs from earlier runs, all still completed with their 4 tasks\n")
	assert.Regexp(t, `(?m)^found 2 uploads from earlier runs, all still complete \(12 parts\); the last was assembled on part \d+'s arrival$`, third)
	assert.Contains(t, third, "each key written by this run and 2 earlier ones\n")
}

// Data an earlier run left that breaks an invariant fails the scenario,
// which says so, and the other scenarios still run.
func TestRun_FailsOnBrokenEarlierData(t *testing.T) {
	ctx := context.Background()
	open := kept()
	var out strings.Builder
	require.NoError(t, Run(ctx, &out, open), out.String())
	ns, err := open(FlowJobs)
	require.NoError(t, err)
	runs, err := history[string](ns, "flow-jobs")
	require.NoError(t, err)
	require.NoError(t, runs.Set(ctx, "0", "a-job-that-never-was"))

	out.Reset()
	err = Run(ctx, &out, open)
	require.ErrorIs(t, err, dokv.ErrNotFound)
	assert.ErrorContains(t, err, "flow jobs: ")
	assert.Contains(t, out.String(), "FAIL flow jobs: job a-job-that-never-was of an earlier run: ")
	assert.Contains(t, out.String(), "ok   upload coordination\n")
	assert.Contains(t, out.String(), "ok   partitioning\n")
}

// A namespace that cannot be opened fails the run before any scenario
// runs.
func TestRun_StopsWhenANamespaceCannotOpen(t *testing.T) {
	refused := errors.New("refused")
	var opened []string
	var out strings.Builder
	err := Run(context.Background(), &out, func(name string) (dokv.Namespace, error) {
		opened = append(opened, name)
		if name == PartitioningHashShards {
			return nil, refused
		}
		return dokv.NewMemoryNamespace(), nil
	})
	require.ErrorIs(t, err, refused)
	assert.ErrorContains(t, err, "opening the namespace partitioning-hash-shards: refused")
	assert.Equal(t, Names, opened)
	assert.Empty(t, out.String())
}
