package lincheck

import (
	"fmt"
	"hash/maphash"
	"math"
	"sort"

	"github.com/anishathalye/porcupine"
)

// Kind is the kind of an operation in a history.
type Kind uint8

// The operations the workload runs against one key.
const (
	Get    Kind = iota + 1 // Store.GetEntry
	Set                    // Store.SetEntry
	Delete                 // Store.Delete
	CAS                    // Store.CompareAndSwap
)

func (k Kind) String() string {
	switch k {
	case Get:
		return "get"
	case Set:
		return "set"
	case Delete:
		return "delete"
	case CAS:
		return "cas"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Input is what a client asked for: porcupine.Operation.Input.
type Input struct {
	Kind Kind
	Key  string
	// Value is the value a Set or CAS writes. Every write of a history
	// writes a value of its own, so a value read identifies the write.
	Value uint64
	// Expected is the version a CAS requires (0: the key is absent).
	Expected uint64
}

// Output is what a client got back: porcupine.Operation.Output.
type Output struct {
	// Unknown: the call failed with an unknown outcome (ErrUnknownOutcome,
	// or ErrUnavailable once retries ran out). It may or may not have
	// taken effect, and its Return is math.MaxInt64. The other fields are
	// unset.
	Unknown bool
	// Found, Value and Version: a Get's result (Found false: ErrNotFound).
	Found bool
	Value uint64
	// Version: the version a Get found, or the new version a Set or a
	// successful CAS returned.
	Version uint64
	// Conflict: a CAS failed with ErrConflict; Current is the version the
	// object reported finding ((*dokv.Error).Current, 0 for absent).
	Conflict bool
	Current  uint64

	// hints, derived from the whole history by prepare before a check.
	hints hints
}

// State is the model's state of one key.
//
// Version is the key's highest version so far: while the key is present,
// the version of its current value (the latest write made it and no write
// since), and after a delete, the version the key had, which a re-created
// key must exceed. AtLeast says Version is only a lower bound: the last
// write that raised it had an unknown outcome, so the version it got is
// unknown, except that it is at least Version (one more than the highest
// version before it). A Get or a CAS conflict that reports the version
// resolves it, and a later write needs only to exceed the bound.
//
// Observers and Seen serve the search, not the semantics (see hints): while
// the key holds a known version, Observers is how many operations of the
// history observed it and Seen how many of them are placed; the key may
// change only once all are. Observers is -1 when there is nothing to count
// (the key is absent, or its version is still unknown).
type State struct {
	Present bool
	Value   uint64 // 0 when absent
	Version uint64
	AtLeast bool

	Observers, Seen int32
}

// initial is the state of a key never written.
var initial = State{Observers: -1}

// changeable reports whether the key's state may change: every observer of
// its current version has been placed.
func (s State) changeable() bool { return s.Observers < 0 || s.Seen >= s.Observers }

// current reports whether the key's current version (0 when absent) can be
// v.
func (s State) current(v uint64) bool {
	switch {
	case !s.Present:
		return v == 0
	case s.AtLeast:
		return v >= s.Version
	default:
		return v == s.Version
	}
}

// observed is s after an operation observed its current version v, where
// s.current(v); observers is the operation's hint. It resolves a version
// that was unknown.
func (s State) observed(v uint64, observers int32) State {
	if !s.Present {
		return s
	}
	if s.AtLeast {
		s.Version, s.AtLeast = v, false
		s.Observers, s.Seen = observers, 0
	}
	s.Seen++
	return s
}

// written is the state after a write of value with a known version.
func written(value, version uint64, h hints) State {
	return State{Present: true, Value: value, Version: version, Observers: h.observers}
}

// writable reports whether a write can give the key version v now:
// larger than its highest (if that is only a lower bound, some value in
// [s.Version, v) explains it), after the write with the next smaller known
// version, and once every observer of the current version is placed.
func (s State) writable(v uint64, h hints) bool {
	return v > s.Version && s.Version >= h.pred && s.changeable()
}

// writtenUnknown is the state after a write of value with an unknown
// version of at least floor.
func writtenUnknown(value, floor uint64) State {
	return State{Present: true, Value: value, Version: floor, AtLeast: true, Observers: -1}
}

// deleted is s after a delete.
func (s State) deleted() State {
	if !s.Present {
		return s
	}
	return State{Version: s.Version, AtLeast: s.AtLeast, Observers: -1}
}

// step returns the states the key can be in after the operation, starting
// from s: none if the output is impossible from s, two for a write with an
// unknown outcome (not applied; applied with a version that is not known).
func step(s State, in Input, out Output) []State {
	switch in.Kind {
	case Get:
		switch {
		case out.Unknown:
			return []State{s}
		case !out.Found:
			if s.Present {
				return nil
			}
			return []State{s}
		case !s.Present || s.Value != out.Value || !s.current(out.Version):
			return nil
		}
		return []State{s.observed(out.Version, out.hints.observers)}

	case Set:
		switch {
		case out.Unknown && out.hints.resolved:
			// It took effect, with this version.
			if !s.writable(out.hints.version, out.hints) {
				return nil
			}
			return []State{written(in.Value, out.hints.version, out.hints)}
		case out.Unknown:
			if !s.changeable() || s.Version == math.MaxUint64 {
				return []State{s}
			}
			return []State{s, writtenUnknown(in.Value, s.Version+1)}
		}
		// Every write gives a version larger than any the key had.
		if !s.writable(out.Version, out.hints) {
			return nil
		}
		return []State{written(in.Value, out.Version, out.hints)}

	case Delete:
		if s.Present && !s.changeable() {
			if out.Unknown {
				return []State{s}
			}
			return nil
		}
		if out.Unknown && s.Present {
			return []State{s, s.deleted()}
		}
		return []State{s.deleted()}

	case CAS:
		match := s.current(in.Expected)
		switch {
		case out.Unknown && out.hints.resolved:
			// It took effect, with this version.
			v := out.hints.version
			if !match || v <= in.Expected || !s.writable(v, out.hints) {
				return nil
			}
			return []State{written(in.Value, v, out.hints)}
		case out.Unknown:
			// Applied: the new version exceeds the one matched and the
			// key's highest (and there is one).
			above := max(in.Expected, s.Version)
			if !match || !s.changeable() || above == math.MaxUint64 {
				return []State{s}
			}
			return []State{s, writtenUnknown(in.Value, above+1)}
		case out.Conflict:
			// The object found version out.Current, which is not the
			// expected one, and wrote nothing.
			if out.Current == in.Expected || !s.current(out.Current) {
				return nil
			}
			return []State{s.observed(out.Current, out.hints.observers)}
		}
		if !match || out.Version <= in.Expected || !s.writable(out.Version, out.hints) {
			return nil
		}
		return []State{written(in.Value, out.Version, out.hints)}
	}
	return nil
}

var hashSeed = maphash.MakeSeed()

func hashState(s State) uint64 {
	var h maphash.Hash
	h.SetSeed(hashSeed)
	var b [26]byte
	for i := range 8 {
		b[i] = byte(s.Value >> (8 * i))
		b[8+i] = byte(s.Version >> (8 * i))
	}
	for i := range 4 {
		b[18+i] = byte(s.Observers >> (8 * i))
		b[22+i] = byte(s.Seen >> (8 * i))
	}
	if s.Present {
		b[16] = 1
	}
	if s.AtLeast {
		b[17] = 1
	}
	h.Write(b[:])
	return h.Sum64()
}

// NondeterministicModel is the per-key model of a dokv key as a porcupine
// NondeterministicModel: a register with versions, whose writes with an
// unknown outcome step to two states. Its Partition splits a history by
// key.
func NondeterministicModel() *porcupine.NondeterministicModel {
	return &porcupine.NondeterministicModel{
		Partition: partitionByKey,
		Init:      func() []any { return []any{initial} },
		Step: func(state, input, output any) []any {
			next := step(state.(State), input.(Input), output.(Output))
			states := make([]any, len(next))
			for i, s := range next {
				states[i] = s
			}
			return states
		},
		Equal:                     func(a, b any) bool { return a.(State) == b.(State) },
		Hash:                      func(s any) uint64 { return hashState(s.(State)) },
		DescribeOperation:         describeOperation,
		DescribeState:             func(s any) string { return describeState(s.(State)) },
		DescribeOperationMetadata: describeMetadata,
	}
}

// Model is NondeterministicModel converted for porcupine's checker: its
// state is the set of states the key may be in.
func Model() porcupine.Model {
	return NondeterministicModel().ToModel()
}

// partitionByKey splits a history into one history per key, in order of
// first appearance; a key's history is linearizable on its own, as every
// operation touches one key.
func partitionByKey(history []porcupine.Operation) [][]porcupine.Operation {
	index := make(map[string]int)
	var parts [][]porcupine.Operation
	for _, op := range history {
		key := op.Input.(Input).Key
		i, ok := index[key]
		if !ok {
			i = len(parts)
			index[key] = i
			parts = append(parts, nil)
		}
		parts[i] = append(parts[i], op)
	}
	return parts
}

func describeCall(in Input) string {
	switch in.Kind {
	case Get:
		return fmt.Sprintf("get(%s)", in.Key)
	case Set:
		return fmt.Sprintf("set(%s, %#x)", in.Key, in.Value)
	case Delete:
		return fmt.Sprintf("delete(%s)", in.Key)
	case CAS:
		return fmt.Sprintf("cas(%s, v%d, %#x)", in.Key, in.Expected, in.Value)
	}
	return in.Kind.String()
}

func describeOperation(input, output any) string {
	in, out := input.(Input), output.(Output)
	call := describeCall(in)
	switch {
	case out.Unknown && out.hints.resolved:
		return fmt.Sprintf("%s -> unknown outcome (took effect: v%d)", call, out.hints.version)
	case out.Unknown:
		return call + " -> unknown outcome"
	case in.Kind == Get && !out.Found:
		return call + " -> not found"
	case in.Kind == Get:
		return fmt.Sprintf("%s -> %#x v%d", call, out.Value, out.Version)
	case in.Kind == Delete:
		return call + " -> ok"
	case out.Conflict:
		return fmt.Sprintf("%s -> conflict (found v%d)", call, out.Current)
	}
	return fmt.Sprintf("%s -> v%d", call, out.Version)
}

func describeState(s State) string {
	v := fmt.Sprintf("v%d", s.Version)
	if s.AtLeast {
		v = fmt.Sprintf("v>=%d", s.Version)
	}
	if !s.Present {
		return "absent (highest " + v + ")"
	}
	return fmt.Sprintf("%#x %s", s.Value, v)
}

func describeMetadata(m any) string {
	if m == nil {
		return ""
	}
	return fmt.Sprint(m)
}

// sortByCall orders a history by call time, for stable artifacts.
func sortByCall(history []porcupine.Operation) {
	sort.SliceStable(history, func(i, j int) bool { return history[i].Call < history[j].Call })
}
