package main

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/examples/quickstart/scenarios"
)

// The quick start's invariants are the point of the program; run the
// scenarios several times, on new namespaces as the command does, so that
// different interleavings are exercised.
func TestScenariosHoldTheirInvariants(t *testing.T) {
	for range 5 {
		var out strings.Builder
		require.NoError(t, scenarios.Run(context.Background(), &out, memory), out.String())
	}
}

// What the quick start prints is true: counts are counts (a version, which
// orders writes from the object's clock, is not printed as one), and each
// count agrees with its noun. On new namespaces it says nothing of earlier
// runs: there were none.
func TestScenariosPrintTrueSentences(t *testing.T) {
	var out strings.Builder
	require.NoError(t, scenarios.Run(context.Background(), &out, memory), out.String())
	sections := regexp.MustCompile(`(?m)^== `).Split(out.String(), -1)
	require.Len(t, sections, 4, out.String())
	jobs, uploads, layouts := sections[1], sections[2], sections[3]

	assert.Regexp(t, `(?m)^created job [0-9a-f-]{36}: pending with 4 tasks$`, jobs)
	m := regexp.MustCompile(`(?m)^job completed after (\d+) task updates, whose functions ran (\d+) times`).FindStringSubmatch(jobs)
	require.NotNil(t, m, jobs)
	assert.Equal(t, "8", m[1], "4 tasks, each set running then completed")
	runs, err := strconv.Atoi(m[2])
	require.NoError(t, err)
	assert.GreaterOrEqual(t, runs, 8, "each committed update ran its function at least once")
	assert.NotContains(t, jobs, "version")
	assert.Contains(t, jobs, "a missing job gives ErrNotFound\nok   flow jobs\n")

	assert.Regexp(t, `(?m)^upload upload-[0-9a-f-]{36} expects 12 parts of 5 MiB$`, uploads)
	assert.Regexp(t, `(?m)^  part +\d+ completed the upload: its arrival is the one to assemble it$`, uploads)
	assert.Contains(t, uploads, "offset 62914560 of 62914560 bytes, 12 parts recorded, 4 duplicate deliveries ignored, 1 arrival to assemble\nok   upload coordination\n")

	assert.Regexp(t, `(?m)^  SingleObject\("uploads"\) +1 object, lists all 200 keys in order$`, layouts)
	assert.Regexp(t, `(?m)^  PerKey\(\) +200 objects, cannot list \(ErrUnsupported\)$`, layouts)
	assert.Regexp(t, `(?m)^  HashShards\(8\) +8 objects, lists all 200 keys in order$`, layouts)
	assert.True(t, strings.HasSuffix(layouts, "ok   partitioning\n\n"), layouts)

	for _, word := range []string{"earlier", "found", "FAIL"} {
		assert.NotContains(t, out.String(), word)
	}
}
