// Package e2e runs dokv against real workerd: the conformance suite on the
// Durable Object's SQLite storage through a test-only bridge Worker, and the
// example Worker over HTTP, including a crash and restart.
package e2e

import (
	"os"
	"sync"
	"testing"

	"github.com/dokv/dokv/internal/workerdtest"
	"github.com/dokv/dokv/internal/workerfiles"
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, s := range []*sharedWorker{bridge, glue, interop} {
		s.stop(code != 0)
	}
	os.Exit(code)
}

// sharedWorker is a test Worker that the package's tests share: built and
// started by the first test that needs it, removed after the last.
type sharedWorker struct {
	pkg    string
	config workerfiles.Config
	// prepare, if set, changes the built Worker's files before it starts.
	prepare func(w *workerdtest.Worker) error

	once sync.Once
	w    *workerdtest.Worker
	err  error
}

// start returns the running Worker, building and starting it on first use;
// it fails the test if workerd cannot run it.
func (s *sharedWorker) start(t *testing.T) *workerdtest.Worker {
	t.Helper()
	bin := workerdtest.Require(t)
	s.once.Do(func() {
		s.w, s.err = workerdtest.Build(bin, s.pkg, s.config)
		if s.err == nil && s.prepare != nil {
			s.err = s.prepare(s.w)
		}
		if s.err == nil {
			s.err = s.w.Start()
		}
	})
	if s.err != nil {
		t.Fatalf("starting %s on workerd: %v", s.pkg, s.err)
	}
	return s.w
}

// stop removes the Worker if it was built, printing workerd's log first
// when showLog is set.
func (s *sharedWorker) stop(showLog bool) {
	if s.w == nil {
		return
	}
	if showLog {
		os.Stderr.WriteString("workerd log of " + s.pkg + ":\n" + s.w.Log())
	}
	s.w.Remove()
}
