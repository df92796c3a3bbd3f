// Package dokvtest is dokv's test kit, as testing/fstest and gocloud's
// drivertest are theirs: RunConformanceTests, the behaviour suite that
// every namespace must pass (dokv's in-memory namespace, the Durable
// Object on workerd, and any driver.Namespace written outside this
// module); WithFaults, which injects the failures of Cloudflare's runtime
// into a namespace's calls; and ManualClock, a clock that moves only when
// told to, for testing expiry without sleeping.
package dokvtest

import (
	"testing"

	"github.com/dokv/dokv/driver"
)

// NewNamespace returns a fresh, empty namespace for one behaviour. It
// registers its own cleanup with t.
type NewNamespace func(t *testing.T) driver.Namespace

// behaviour is one named rule of the suite.
type behaviour struct {
	name string
	run  func(t *testing.T, ns driver.Namespace)
}

// RunConformanceTests runs every behaviour of the suite as a subtest of t,
// each on a fresh namespace from newNamespace: values, versions and
// CompareAndSwap, List, transactions, isolation, limits and contexts, under
// every partitioning. A subtest's name says which rule broke
// ("Txn/AllOrNothing"). The suite fails on namespaces broken in known ways
// (see its tests); it needs a namespace whose objects run dokv's actor, as
// every namespace must.
func RunConformanceTests(t *testing.T, newNamespace NewNamespace) {
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
