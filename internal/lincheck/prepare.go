package lincheck

import (
	"math"
	"slices"

	"github.com/anishathalye/porcupine"
)

// hints are facts about a history that every linearization of it obeys,
// attached to its operations by prepare so that the model can reject a
// wrong order as soon as it is tried, rather than when it runs into a
// contradiction much later. They only prune porcupine's search: the verdict
// is the same (TestLinearizabilityChecker_SameVerdictAsPlainModel checks
// that against the model without hints). The search needs them when many
// clients queue on one key, or a client stalls, and every order of the
// overlapping calls is a candidate.
type hints struct {
	// resolved, of a write with an unknown outcome: it certainly took
	// effect, with version version. A Get returned its value (values
	// identify writes) with that version, or no other write could have
	// made a version that was observed. The model then treats it as a
	// write whose version is known and whose call never returned.
	resolved bool
	version  uint64
	// pred, of a write whose version is known: the largest version below
	// it that another such write of the key got (0 if none). That write
	// must come first, as versions only grow: the write can only be placed
	// once the key's highest version has reached pred.
	pred uint64
	// observers, of an operation that wrote or observed a known version:
	// how many operations of the key observed that version (Gets that
	// returned it, CAS conflicts that reported it). They must all be
	// placed while it is the key's version, since no later state has it.
	observers int32
}

// prepare readies a history for the check: it resolves the writes with an
// unknown outcome that certainly took effect, leaves out those that no
// operation could have observed, and fills in the hints of every operation
// (see hints). It returns a new history; the operations left out and
// resolved are counted.
//
// A pending write P that took effect is observable only through its value
// (a Get that returns it) or its version (a Get's version, a conflict's
// Current, a successful CAS's Expected): being present or raising the
// highest version never lets an operation succeed that could not without
// it. So P is left out, which the model's not-applied branch makes
// equivalent, unless a Get returned its value (then P is resolved) or an
// operation that returned after P's call observed an orphan version, one
// that no write with a known version got, that P could have had: larger
// than the version of every known write that returned before P's call
// (those ran first) and, for a CAS, larger than the version e it expected
// and, if a write with a known version got e, smaller than the next version
// such a write got (the CAS could only apply while e was the key's version,
// so every later write came after it). An orphan version that only one
// pending write could have had resolves that write. Pending Deletes are
// always kept: the absence they cause is not attributable.
func prepare(history []porcupine.Operation) (prepared []porcupine.Operation, leftOut, resolvedCount int) {
	type orphan struct {
		version uint64
		ret     int64 // the observation returned then
		// certain: observed by an operation that certainly ran. Only
		// certain orphans resolve writes; the others, added once
		// resolution is done, only keep writes.
		certain bool
	}
	type write struct {
		ret     int64
		version uint64
	}
	type keyFacts struct {
		known    map[uint64]bool   // versions of known and resolved writes
		sorted   []uint64          // the same, in order
		writes   []write           // known writes by return; version: the maximum so far
		readAt   map[uint64]uint64 // value -> the version a Get returned it with
		writers  map[uint64]int    // value -> the writes that wrote it
		observed []orphan          // every version observed by an operation that returned, with when
		orphans  []orphan
	}
	facts := make(map[string]*keyFacts)
	factsOf := func(key string) *keyFacts {
		f, ok := facts[key]
		if !ok {
			f = &keyFacts{known: make(map[uint64]bool), readAt: make(map[uint64]uint64), writers: make(map[uint64]int)}
			facts[key] = f
		}
		return f
	}
	isWrite := func(in Input) bool { return in.Kind == Set || in.Kind == CAS }
	pending := func(op porcupine.Operation) bool { return op.Output.(Output).Unknown }

	for _, op := range history {
		in, out := op.Input.(Input), op.Output.(Output)
		f := factsOf(in.Key)
		if isWrite(in) {
			f.writers[in.Value]++
		}
		switch {
		case out.Unknown:
		case in.Kind == Get && out.Found:
			if _, ok := f.readAt[out.Value]; !ok {
				f.readAt[out.Value] = out.Version
			}
			f.observed = append(f.observed, orphan{out.Version, op.Return, true})
		case in.Kind == CAS && out.Conflict:
			if out.Current != 0 {
				f.observed = append(f.observed, orphan{out.Current, op.Return, true})
			}
		case isWrite(in):
			f.known[out.Version] = true
			f.writes = append(f.writes, write{op.Return, out.Version})
			if in.Kind == CAS && in.Expected != 0 {
				f.observed = append(f.observed, orphan{in.Expected, op.Return, true})
			}
		}
	}
	for _, f := range facts {
		slices.SortFunc(f.writes, func(a, b write) int {
			switch {
			case a.ret < b.ret:
				return -1
			case a.ret > b.ret:
				return 1
			}
			return 0
		})
		for i := 1; i < len(f.writes); i++ {
			f.writes[i].version = max(f.writes[i].version, f.writes[i-1].version)
		}
	}
	// floor is the highest version of a known write of f that returned
	// before t.
	floor := func(f *keyFacts, t int64) uint64 {
		i, _ := slices.BinarySearchFunc(f.writes, t, func(w write, t int64) int {
			if w.ret < t {
				return -1
			}
			return 1
		})
		if i == 0 {
			return 0
		}
		return f.writes[i-1].version
	}

	// Writes whose value a Get returned are resolved, if no other write
	// wrote it (Record makes every value unique; a history from elsewhere
	// may not).
	resolved := make([]bool, len(history))
	version := make([]uint64, len(history))
	for i, op := range history {
		in := op.Input.(Input)
		if !pending(op) || !isWrite(in) {
			continue
		}
		f := facts[in.Key]
		if v, ok := f.readAt[in.Value]; ok && f.writers[in.Value] == 1 {
			resolved[i], version[i] = true, v
			f.known[v] = true
		}
	}
	// could reports whether pending write i could have had version v, seen
	// by an observation that returned at ret.
	could := func(i int, v uint64, ret int64) bool {
		op := history[i]
		in := op.Input.(Input)
		f := facts[in.Key]
		if ret < op.Call || v <= floor(f, op.Call) {
			return false
		}
		if in.Kind == CAS {
			if v <= in.Expected {
				return false
			}
			if in.Expected != 0 && f.known[in.Expected] {
				if j, _ := slices.BinarySearch(f.sorted, in.Expected+1); j < len(f.sorted) && v >= f.sorted[j] {
					return false
				}
			}
		}
		return true
	}
	// Resolve the writes that are the only possible source of an orphan
	// version, until there are no more.
	for changed := true; changed; {
		changed = false
		for _, f := range facts {
			f.sorted = f.sorted[:0]
			for v := range f.known {
				f.sorted = append(f.sorted, v)
			}
			slices.Sort(f.sorted)
			f.orphans = f.orphans[:0]
			for _, o := range f.observed {
				if !f.known[o.version] {
					f.orphans = append(f.orphans, o)
				}
			}
		}
		for i, op := range history {
			in := op.Input.(Input)
			if resolved[i] && in.Kind == CAS && in.Expected != 0 {
				// It took effect, so the version it expected was the
				// key's.
				f := facts[in.Key]
				if !f.known[in.Expected] && !slices.Contains(f.orphans, orphan{in.Expected, math.MaxInt64, true}) {
					f.observed = append(f.observed, orphan{in.Expected, math.MaxInt64, true})
					f.orphans = append(f.orphans, orphan{in.Expected, math.MaxInt64, true})
				}
			}
		}
		for key, f := range facts {
			done := make(map[uint64]bool)
			for _, o := range f.orphans {
				if done[o.version] || f.known[o.version] {
					continue
				}
				done[o.version] = true
				source, sources := -1, 0
				for i, op := range history {
					in := op.Input.(Input)
					if !pending(op) || !isWrite(in) || resolved[i] || in.Key != key {
						continue
					}
					for _, p := range f.orphans {
						if p.version == o.version && could(i, p.version, p.ret) {
							source = i
							sources++
							break
						}
					}
				}
				if sources == 1 {
					resolved[source], version[source] = true, o.version
					f.known[o.version] = true
					changed = true
				}
			}
		}
	}

	// Keep the unresolved pending writes that could be the source of an
	// orphan version. A kept pending CAS may have taken effect, so the
	// version it expected may have been the key's: if no write with a
	// known version got it, it is an orphan too (observed some time after
	// the CAS's call), which may keep more pending writes.
	keep := make([]bool, len(history))
	for changed := true; changed; {
		changed = false
		for i, op := range history {
			in := op.Input.(Input)
			if keep[i] || !pending(op) {
				continue
			}
			f := facts[in.Key]
			_, read := f.readAt[in.Value]
			k := resolved[i] || read || !isWrite(in)
			for _, o := range f.orphans {
				if !k && could(i, o.version, o.ret) {
					k = true
				}
			}
			if !k {
				continue
			}
			keep[i], changed = true, true
			if in.Kind == CAS && in.Expected != 0 && !f.known[in.Expected] {
				f.orphans = append(f.orphans, orphan{in.Expected, math.MaxInt64, false})
			}
		}
	}

	// Hints.
	observers := make(map[string]map[uint64]int32)
	for _, op := range history {
		in, out := op.Input.(Input), op.Output.(Output)
		if observers[in.Key] == nil {
			observers[in.Key] = make(map[uint64]int32)
		}
		switch {
		case out.Unknown:
		case in.Kind == Get && out.Found:
			observers[in.Key][out.Version]++
		case in.Kind == CAS && out.Conflict && out.Current != 0:
			observers[in.Key][out.Current]++
		}
	}
	pred := func(key string, v uint64) uint64 {
		sorted := facts[key].sorted
		if j, _ := slices.BinarySearch(sorted, v); j > 0 {
			return sorted[j-1]
		}
		return 0
	}
	prepared = make([]porcupine.Operation, 0, len(history))
	for i, op := range history {
		in, out := op.Input.(Input), op.Output.(Output)
		if pending(op) && !keep[i] {
			leftOut++
			continue
		}
		switch {
		case resolved[i]:
			resolvedCount++
			out.hints = hints{resolved: true, version: version[i], pred: pred(in.Key, version[i]), observers: observers[in.Key][version[i]]}
		case out.Unknown:
		case in.Kind == Get && out.Found:
			out.hints.observers = observers[in.Key][out.Version]
		case in.Kind == CAS && out.Conflict:
			out.hints.observers = observers[in.Key][out.Current]
		case isWrite(in):
			out.hints.pred = pred(in.Key, out.Version)
			out.hints.observers = observers[in.Key][out.Version]
		}
		op.Output = out
		prepared = append(prepared, op)
	}
	return prepared, leftOut, resolvedCount
}
