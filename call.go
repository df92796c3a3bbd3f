package dokv

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/router"
)

// decodeError is the error of a stored value the codec could not decode: it
// matches ErrDecode and keeps the codec's error reachable with errors.As.
func decodeError(err error) error { return fmt.Errorf("%w: %w", ErrDecode, err) }

// encode encodes value and checks the entry's size.
func (s *core) encode(op, key, object, storedKey string, value any) ([]byte, error) {
	data, err := s.codec.Marshal(value)
	if err != nil {
		return nil, &Error{Op: op, Key: key, Object: object, Err: fmt.Errorf("%w: encode: %w", ErrDecode, err)}
	}
	if size := len(storedKey) + len(data); size > MaxEntryBytes {
		return nil, &Error{Op: op, Key: key, Object: object, Err: ErrValueTooLarge,
			Detail: fmt.Sprintf("key and value of %d bytes exceed %d", size, MaxEntryBytes)}
	}
	return data, nil
}

// call sends req to the named object and decodes the reply. Failures reported
// by the object come back as *Error wrapping the matching sentinel, with the
// key of the mutation concerned when keys is not nil.
func (s *core) call(ctx context.Context, op, key, object string, req *protocol.Request) (protocol.Reply, error) {
	return s.callKeys(ctx, op, object, req, func(int) string { return key })
}

func (s *core) callKeys(ctx context.Context, op, object string, req *protocol.Request, keyAt func(int) string) (protocol.Reply, error) {
	buf := protocol.AppendRequest(make([]byte, 0, requestSizeHint(req)), req)
	if len(buf) > protocol.MaxRequestBytes {
		return protocol.Reply{}, &Error{Op: op, Key: keyAt(0), Object: object, Err: ErrValueTooLarge,
			Detail: fmt.Sprintf("request of %d bytes exceeds %d", len(buf), protocol.MaxRequestBytes)}
	}
	raw, sent, err := s.send(ctx, object, req, buf)
	if err != nil {
		return protocol.Reply{}, callFailure(ctx, op, keyAt(0), object, req, sent, err)
	}
	reply, err := protocol.DecodeReply(req.Op, raw)
	if err != nil {
		return reply, &Error{Op: op, Key: keyAt(0), Object: object, Err: ErrProtocol, Detail: err.Error()}
	}
	if reply.Status == protocol.StatusOK {
		return reply, nil
	}
	return reply, &Error{
		Op:      op,
		Key:     keyAt(reply.Index),
		Object:  object,
		Current: reply.Current,
		Detail:  reply.Message,
		Err:     statusError(reply.Status),
	}
}

// send calls the object with buf, retrying an idempotent request that failed
// with ErrUnavailable under the store's RetryPolicy, each time with a new
// stub.
//
// sent reports whether any attempt reached a stub: a request refused before
// sending, because ctx had ended, cannot have run.
func (s *core) send(ctx context.Context, object string, req *protocol.Request, buf []byte) (raw []byte, sent bool, err error) {
	id := s.objectID(object)
	attempts := 1
	if idempotent(req) {
		attempts = s.retry.MaxAttempts
	}
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, sent, err // never send for a caller that has gone
		}
		raw, err := s.ns.Get(id).Call(ctx, buf)
		sent = true
		if err == nil || attempt >= attempts || !errors.Is(err, ErrUnavailable) {
			return raw, sent, err
		}
		if err := sleep(ctx, rand.N(s.retry.ceiling(attempt)+1)); err != nil {
			return nil, sent, err
		}
	}
}

// callFailure turns the error of a call that failed into what the caller
// gets. A request refused before sending returns the context's error as it
// is. Otherwise the request may have run: a write cut off by its context
// gets an *Error matching both ErrUnknownOutcome and the context's error; a
// read, whose outcome does not matter, the context's error; an error from a
// Stub that names no dokv sentinel (a Stub implemented elsewhere) is an
// unknown outcome wrapping it, as the Stub contract says.
func callFailure(ctx context.Context, op, key, object string, req *protocol.Request, sent bool, err error) error {
	ctxErr := ctx.Err()
	canceled := errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
	switch {
	case canceled && ctxErr != nil && (!sent || req.Op != protocol.OpWrite):
		return ctxErr
	case canceled && ctxErr != nil:
		err = fmt.Errorf("%w: %w", ErrUnknownOutcome, ctxErr)
	case !isSentinel(err):
		err = fmt.Errorf("%w: %w", ErrUnknownOutcome, err)
	}
	return &Error{Op: op, Key: key, Object: object, Err: err}
}

// idempotent reports whether sending req twice has the same effect as once:
// reads, and writes without conditions.
func idempotent(req *protocol.Request) bool {
	for i := range req.Mutations {
		if req.Mutations[i].HasCondition {
			return false
		}
	}
	return true
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// requestSizeHint estimates the encoded size of req, so that encoding
// allocates once.
func requestSizeHint(req *protocol.Request) int {
	n := 16 + len(req.Key) + len(req.List.Prefix) + len(req.List.StartAfter)
	for i := range req.Mutations {
		n += 16 + len(req.Mutations[i].Key) + len(req.Mutations[i].Value)
	}
	return n
}

func statusError(s protocol.Status) error {
	switch s {
	case protocol.StatusConflict:
		return ErrConflict
	case protocol.StatusInvalidKey:
		return ErrInvalidKey
	case protocol.StatusTooLarge:
		return ErrValueTooLarge
	case protocol.StatusTooMany:
		return ErrTooManyKeys
	case protocol.StatusBadRequest:
		return ErrProtocol
	default:
		return ErrObject
	}
}

// validateKey validates a user key for the store before anything is sent:
// the rules of every key, and none that the partitioning reserves.
func (s *core) validateKey(op, key string) error {
	if err := checkKey(op, key); err != nil {
		return err
	}
	if s.router.Reserved(key) {
		return &Error{Op: op, Key: key, Err: ErrInvalidKey,
			Detail: "under ObjectNamedByKey a key may not start with " + strconv.Quote(router.OwnNamePrefix) + ", which names dokv's own objects"}
	}
	return nil
}

// checkKey validates a user key before anything is sent.
func checkKey(op, key string) error {
	var detail string
	switch {
	case key == "":
		detail = "empty key"
	case len(key) > MaxKeyBytes:
		detail = fmt.Sprintf("key of %d bytes exceeds %d", len(key), MaxKeyBytes)
	case !utf8.ValidString(key):
		detail = "key is not valid UTF-8"
	default:
		return nil
	}
	return &Error{Op: op, Key: key, Err: ErrInvalidKey, Detail: detail}
}
