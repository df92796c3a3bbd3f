// Package conformance is the behaviour suite that every dokv Namespace must
// pass: the in-memory namespace, and the real Durable Object on workerd.
//
// It follows gocloud.dev's drivertest and testing/fstest: one entry point,
// a fresh namespace per behaviour, and behaviours named after the rule they
// check, so a failure says which guarantee broke.
package conformance

import (
	"testing"

	"github.com/dokv/dokv"
)

// NewNamespace returns a fresh, empty namespace for one behaviour. It
// registers its own cleanup with t.
type NewNamespace func(t *testing.T) dokv.Namespace

// behaviour is one named rule of the suite.
type behaviour struct {
	name string
	run  func(t *testing.T, ns dokv.Namespace)
}

// Run runs every behaviour of the suite as a subtest of t, each on a
// namespace of its own.
func Run(t *testing.T, newNamespace NewNamespace) {
	for _, b := range behaviours() {
		t.Run(b.name, func(t *testing.T) {
			b.run(t, newNamespace(t))
		})
	}
}

func behaviours() []behaviour {
	var all []behaviour
	all = append(all, valueBehaviours()...)
	all = append(all, versionBehaviours()...)
	all = append(all, listBehaviours()...)
	all = append(all, txnBehaviours()...)
	all = append(all, isolationBehaviours()...)
	all = append(all, limitBehaviours()...)
	all = append(all, contextBehaviours()...)
	return all
}
