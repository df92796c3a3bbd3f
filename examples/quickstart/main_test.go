package main

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The quick start's invariants are the point of the program; run each
// scenario several times so that different interleavings are exercised.
func TestScenariosHoldTheirInvariants(t *testing.T) {
	var out strings.Builder
	for range 5 {
		require.NoError(t, trackFlowJob(context.Background(), &out))
		require.NoError(t, coordinateUpload(context.Background(), &out))
		require.NoError(t, comparePartitionings(context.Background(), &out))
	}
}

// What the quick start prints is true: counts are counts (a version, which
// orders writes from the object's clock, is not printed as one), and each
// count agrees with its noun.
func TestScenariosPrintTrueSentences(t *testing.T) {
	ctx := context.Background()
	var jobs, uploads, layouts strings.Builder
	require.NoError(t, trackFlowJob(ctx, &jobs))
	require.NoError(t, coordinateUpload(ctx, &uploads))
	require.NoError(t, comparePartitionings(ctx, &layouts))

	assert.Regexp(t, `(?m)^created job [0-9a-f-]{36}: pending with 4 tasks$`, jobs.String())
	m := regexp.MustCompile(`(?m)^job completed after (\d+) task updates, whose functions ran (\d+) times`).FindStringSubmatch(jobs.String())
	require.NotNil(t, m, jobs.String())
	assert.Equal(t, "8", m[1], "4 tasks, each set running then completed")
	runs, err := strconv.Atoi(m[2])
	require.NoError(t, err)
	assert.GreaterOrEqual(t, runs, 8, "each committed update ran its function at least once")
	assert.NotContains(t, jobs.String(), "version")
	assert.Contains(t, jobs.String(), "a missing job gives ErrNotFound\n")

	assert.Regexp(t, `(?m)^  part +\d+ completed the upload: its arrival is the one to assemble it$`, uploads.String())
	assert.Contains(t, uploads.String(), "offset 62914560 of 62914560 bytes, 12 parts recorded, 4 duplicate deliveries ignored, 1 arrival to assemble\n")

	assert.Regexp(t, `(?m)^  SingleObject\("uploads"\) +1 object, lists all 200 keys in order$`, layouts.String())
	assert.Regexp(t, `(?m)^  PerKey\(\) +200 objects, cannot list \(ErrUnsupported\)$`, layouts.String())
	assert.Regexp(t, `(?m)^  HashShards\(8\) +8 objects, lists all 200 keys in order$`, layouts.String())
}
