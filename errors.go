package dokv

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors. Every error a Store returns, except the context's own
// errors, is an *Error that wraps one of these; test with errors.Is.
var (
	// ErrNotFound: Get or GetEntry found no value at the key.
	ErrNotFound = errors.New("dokv: not found")
	// ErrConflict: a version condition (CompareAndSwap, a transaction's
	// check) did not hold. Nothing was written. Error.Current holds the
	// version the object found.
	ErrConflict = errors.New("dokv: version conflict")
	// ErrInvalidKey: a key is empty, longer than MaxKeyBytes, not valid
	// UTF-8, or, under ObjectNamedByKey, starts with "dokv/", the form of
	// the names of dokv's own objects. Nothing was sent.
	ErrInvalidKey = errors.New("dokv: invalid key")
	// ErrValueTooLarge: an encoded key plus value exceeds MaxEntryBytes, or
	// a request exceeds what one call may carry. Nothing was written.
	ErrValueTooLarge = errors.New("dokv: value too large")
	// ErrTooManyKeys: a transaction names more than MaxTxnKeys keys.
	// Nothing was sent.
	ErrTooManyKeys = errors.New("dokv: too many keys")
	// ErrCrossObject: the keys of one transaction route to different
	// objects. Nothing was sent. Hash tags ({tag}) colocate keys.
	ErrCrossObject = errors.New("dokv: keys route to different objects")
	// ErrUnsupported: the operation is not possible under the store's
	// partitioning, such as List under PerKey, or without the option it
	// needs, such as WatchToken without WithWatchTokens.
	ErrUnsupported = errors.New("dokv: unsupported")
	// ErrInvalidArgument: an option or argument other than a key is out of
	// range. Nothing was sent.
	ErrInvalidArgument = errors.New("dokv: invalid argument")
	// ErrDecode: a stored value could not be decoded into the store's type,
	// or a value could not be encoded.
	ErrDecode = errors.New("dokv: cannot decode value")
	// ErrProtocol: a reply or request did not follow the wire protocol, for
	// example an object that speaks an unknown protocol version.
	ErrProtocol = errors.New("dokv: protocol error")
	// ErrObject: the object failed while running the request and applied
	// nothing.
	ErrObject = errors.New("dokv: object failed")

	// ErrUnknownOutcome: the call to the object failed in a way that leaves
	// open whether the object ran the request. A write may or may not have
	// been applied; read the key to find out.
	ErrUnknownOutcome = errors.New("dokv: outcome unknown")
	// ErrOverloaded: the object is overloaded and refused the request.
	// Retrying makes it worse; back off or spread the load.
	ErrOverloaded = errors.New("dokv: object overloaded")
	// ErrUnavailable: the call failed in a way the runtime judged
	// transient, so an idempotent request may be retried with a new stub.
	// The outcome is still unknown: errors.Is(err, ErrUnknownOutcome) holds
	// too.
	ErrUnavailable error = &impliedError{msg: "dokv: object unavailable", implies: ErrUnknownOutcome}

	// ErrLagging: a watcher fell more than MaxWatchLag messages behind and
	// the object dropped it, so that it never holds up writers. Watch again
	// with WithResumeAfter and the At of the last event received.
	ErrLagging = errors.New("dokv: watcher fell behind")

	// ErrWatchToken: a watch token was refused (CheckWatchToken, or
	// ServeWatch's 401): none was given, or it is malformed, expired,
	// issued for another key or store or with another secret, or altered.
	ErrWatchToken = errors.New("dokv: watch token refused")
)

// sentinels are the errors an *Error may wrap.
var sentinels = []error{
	ErrNotFound, ErrConflict, ErrInvalidKey, ErrValueTooLarge, ErrTooManyKeys, ErrCrossObject, ErrUnsupported,
	ErrInvalidArgument, ErrDecode, ErrProtocol, ErrObject, ErrUnknownOutcome, ErrOverloaded, ErrUnavailable, ErrLagging,
	ErrWatchToken,
}

// isSentinel reports whether err matches one of dokv's sentinels.
func isSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// impliedError is a sentinel that also matches a more general one.
type impliedError struct {
	msg     string
	implies error
}

func (e *impliedError) Error() string        { return e.msg }
func (e *impliedError) Is(target error) bool { return target == e.implies }

// Error is the error type of dokv operations. It names what failed and wraps
// one sentinel error, so errors.Is(err, ErrConflict) and errors.As(err,
// &dokvErr) both work.
type Error struct {
	Op     string // the operation: "get", "set", "delete", "cas", "txn", "list", ...
	Key    string // the key concerned, if any
	Object string // the name of the object the key routes to, if known
	// Current is the stored version an object reported with ErrConflict.
	Current uint64
	// Detail adds the object's or the codec's explanation, if any.
	Detail string
	// Err is the sentinel error, or an error that wraps it: the codec's
	// error with ErrDecode, the context's or the Stub's error with
	// ErrUnknownOutcome.
	Err error
}

// Error formats the error as
// `dokv: op "key" (object NAME): reason: detail`.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("dokv: ")
	b.WriteString(e.Op)
	if e.Key != "" {
		b.WriteByte(' ')
		b.WriteString(strconv.Quote(e.Key))
	}
	if e.Object != "" {
		b.WriteString(" (object ")
		b.WriteString(e.Object)
		b.WriteByte(')')
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "dokv: "))
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Unwrap returns the wrapped sentinel.
func (e *Error) Unwrap() error { return e.Err }
