package dokv

import (
	"fmt"

	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/internal/workers"
)

// Namespace is a Durable Object namespace: a class of objects addressed by
// name, whose stubs carry a Store's requests to its objects. dokv ships
// NewMemoryNamespace, in process, and WorkersNamespace, the Durable Object
// binding of a Worker; package driver states the contract for others.
type Namespace = driver.Namespace

// ObjectID identifies an object within a namespace: 32 bytes, written as 64
// lowercase hex digits like a Durable Object ID.
type ObjectID = driver.ObjectID

// callError maps the flags of a rejected Workers RPC call to dokv's
// sentinels, following Cloudflare's guidance: an overloaded object must not
// be retried; a retryable failure may be retried if the request is
// idempotent; anything else leaves the outcome unknown.
func callError(ce *workers.CallError) error {
	switch {
	case ce.Overloaded:
		return fmt.Errorf("%w: %s", ErrOverloaded, ce.Message)
	case ce.Retryable:
		return fmt.Errorf("%w: %s", ErrUnavailable, ce.Message)
	default:
		return fmt.Errorf("%w: %s", ErrUnknownOutcome, ce.Message)
	}
}
