package lincheck

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/dokvtest"
)

// recordingT is a testing.TB whose errors are recorded instead of failing
// the test, so that a test can check that Run fails when it must.
type recordingT struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recordingT) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	msg := fmt.Sprintf(format, args...)
	r.errors = append(r.errors, msg)
	r.TB.Logf("(expected failure) %s", msg)
}

func (r *recordingT) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.errors) > 0
}

func (r *recordingT) failures() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.errors, "\n")
}

func TestLinearizabilityChecker_MemoryNamespace(t *testing.T) {
	res := Run(t, dokv.NewMemoryNamespace(), Config{Clients: 16, Ops: 4000, Seed: 1})
	assert.Equal(t, porcupine.Ok, res.Verdict.Result)
	assert.Equal(t, 4000, res.Stats.Calls)
	assert.Equal(t, 4000, res.Stats.Recorded)
	assert.Empty(t, res.Artifact)
}

// TestLinearizabilityChecker_FindsBrokenNamespaces shows the check
// failing: each namespace has a bug, and Run must find the history Illegal,
// fail the test and leave the visualization behind.
func TestLinearizabilityChecker_FindsBrokenNamespaces(t *testing.T) {
	cases := []struct {
		name    string
		ns      func() dokv.Namespace
		options []dokv.Option
	}{
		{"StaleReads", func() dokv.Namespace { return newStaleReads(0.05) }, nil},
		{"CASIgnoresVersion", func() dokv.Namespace { return newUnconditional(0.05) }, nil},
		{"VersionsReusedAfterReset", func() dokv.Namespace { return newForgetfulCounter(0.2) }, nil},
		{"StaleReadsSharded", func() dokv.Namespace { return newStaleReads(0.05) },
			[]dokv.Option{dokv.WithPartitioning(dokv.HashShards(2))}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			rt := &recordingT{TB: t}
			res := Run(rt, c.ns(), Config{Clients: 16, Ops: 10_000, Seed: 7, Options: c.options, ArtifactDir: dir})
			require.Equal(t, porcupine.Illegal, res.Verdict.Result, "the broken namespace must be caught")
			assert.True(t, rt.Failed())
			assert.Contains(t, rt.failures(), "NOT linearizable")
			assert.Contains(t, rt.failures(), res.Artifact)
			require.NotEmpty(t, res.Artifact)
			assert.Equal(t, dir, filepath.Dir(res.Artifact))
			info, err := os.Stat(res.Artifact)
			require.NoError(t, err, "the visualization must be written")
			assert.Positive(t, info.Size())
			html, err := os.ReadFile(res.Artifact)
			require.NoError(t, err)
			assert.Contains(t, string(html), "<html")

			// The history is saved too, and checks the same again.
			history, err := ReadHistory(strings.TrimSuffix(res.Artifact, ".html") + ".json")
			require.NoError(t, err)
			assert.Equal(t, res.Operations, history)
			assert.Equal(t, porcupine.Illegal, Check(history, 0).Result)
		})
	}
}

func TestLinearizabilityChecker_ArtifactDirFromEnvironment(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "artifacts")
	t.Setenv(ArtifactsEnv, dir)
	rt := &recordingT{TB: t}
	res := Run(rt, newUnconditional(0.05), Config{Ops: 2000, Seed: 3})
	require.Equal(t, porcupine.Illegal, res.Verdict.Result)
	assert.Equal(t, dir, filepath.Dir(res.Artifact))
	assert.FileExists(t, res.Artifact)
}

func TestLinearizabilityChecker_UnexpectedErrorFails(t *testing.T) {
	rt := &recordingT{TB: t}
	res := Run(rt, failing{dokv.NewMemoryNamespace()}, Config{Ops: 100})
	assert.True(t, rt.Failed())
	assert.Contains(t, rt.failures(), "errors the model does not allow")
	assert.Contains(t, rt.failures(), "protocol error")
	assert.Empty(t, res.Verdict.Result, "no check of an incomplete history")
}

// TestLinearizabilityChecker_TimeoutFails: a check that cannot finish
// proves nothing and must fail rather than pass.
func TestLinearizabilityChecker_TimeoutFails(t *testing.T) {
	rt := &recordingT{TB: t}
	res := Run(rt, dokv.NewMemoryNamespace(), Config{Ops: 2000, Seed: 2, CheckTimeout: time.Nanosecond, ArtifactDir: t.TempDir()})
	require.Equal(t, porcupine.Unknown, res.Verdict.Result)
	assert.Contains(t, rt.failures(), "could not decide")
	assert.FileExists(t, res.Artifact)
}

// TestLinearizabilityChecker_Faults checks how a run records injected
// faults: unknown outcomes are in the history as pending operations,
// refused calls are not.
func TestLinearizabilityChecker_Faults(t *testing.T) {
	ns := dokvtest.WithFaults(dokv.NewMemoryNamespace(), dokvtest.Faults{Seed: 5, Overloaded: 0.1, LostReply: 0.1})
	res := Run(t, ns, Config{Ops: 4000, Seed: 5})
	require.Equal(t, porcupine.Ok, res.Verdict.Result)
	c := ns.Counts()
	st := res.Stats
	assert.Equal(t, int(c.Overloaded), st.Overloaded)
	assert.Equal(t, int(c.LostReplies), st.UnknownWrites+st.UnknownGets)
	assert.Equal(t, st.Calls-st.Overloaded-st.UnknownGets, st.Recorded)
	assert.Positive(t, st.UnknownWritesSeen)
	pending := 0
	for _, op := range res.Operations {
		if op.Output.(Output).Unknown {
			pending++
			assert.Equal(t, int64(1<<63-1), op.Return)
		}
	}
	assert.Equal(t, st.UnknownWrites, pending)
}
