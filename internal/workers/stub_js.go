//go:build js && wasm

package workers

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// IDFromName returns the hex ID of the object named name in the Durable
// Object namespace bound as binding.
func IDFromName(binding, name string) (string, error) {
	bp, bl := strPtr(binding)
	np, nl := strPtr(name)
	n := idFromName(bp, bl, np, nl)
	if n < 0 {
		return "", &CallError{Message: string(takeBytes(int(-n)))}
	}
	return string(takeBytes(int(n))), nil
}

type result struct {
	reply []byte
	err   error
}

var (
	callsMu   sync.Mutex
	calls     = map[int32]chan result{}
	nextToken int32
)

// Call sends request to the object with the hex ID id over Workers RPC and
// waits for its reply. If ctx ends first, Call returns ctx.Err() and the
// call's result is discarded when it arrives. When ctx descends from a
// request that Serve is serving, the call is made in that request's JS
// context, as workerd requires of I/O.
func Call(ctx context.Context, binding, id string, request []byte) ([]byte, error) {
	bp, bl := strPtr(binding)
	ip, il := strPtr(id)
	rp, rl := bytesPtr(request)
	return roundTrip(ctx, func(token, rid int32) { stubCall(token, rid, bp, bl, ip, il, rp, rl) })
}

// roundTrip starts an asynchronous JS operation with start, on behalf of
// the request ctx serves, and waits for its settlement (dokvSettle) or for
// ctx to end.
func roundTrip(ctx context.Context, start func(token, requestID int32)) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err // never start anything for a caller that has gone
	}
	rid := requestID(ctx)
	if rid == 0 {
		return nil, ErrNoRequest
	}
	ch := make(chan result, 1)
	callsMu.Lock()
	nextToken++
	token := nextToken
	calls[token] = ch
	callsMu.Unlock()

	start(token, rid)
	select {
	case r := <-ch:
		return r.reply, r.err
	case <-ctx.Done():
		callsMu.Lock()
		delete(calls, token)
		callsMu.Unlock()
		return nil, ctx.Err()
	}
}

// dokvSettle(token, bits, length) receives the outcome of a call; take
// copies its bytes. The waiting goroutine runs when JS resumes Go.
//
//go:wasmexport dokvSettle
func dokvSettle(token, bits, n int32) {
	defer func() {
		if p := recover(); p != nil { // the staging check failed: fail the call
			deliver(token, result{err: &CallError{Message: fmt.Sprint("dokv: ", p)}})
		}
	}()
	data := takeBytes(int(n))
	if bits&1 != 0 {
		deliver(token, result{reply: data})
		return
	}
	deliver(token, result{err: &CallError{
		Message:    string(data),
		Retryable:  bits&2 != 0,
		Overloaded: bits&4 != 0,
		Remote:     bits&8 != 0,
		Reset:      bits&16 != 0,
	}})
}

// deliver hands r to the caller waiting on token, if it still waits.
func deliver(token int32, r result) {
	callsMu.Lock()
	ch, ok := calls[token]
	delete(calls, token)
	callsMu.Unlock()
	if ok {
		ch <- r // buffered: never blocks
	}
}

// ErrNoRequest is the error of a call whose context does not descend from
// a request that Serve is serving (context.Background(), say). The Workers
// runtime ties every I/O to the request that made it, so such a call could
// not be routed safely: it is refused before anything is sent.
var ErrNoRequest = errors.New("dokv: a Durable Object call on Workers needs the context of the request being served " +
	"(the handler's request context, or one derived from it)")

// requestKey marks a context with the fetch request it serves.
type requestKey struct{}

func withRequestID(ctx context.Context, id int32) context.Context {
	return context.WithValue(ctx, requestKey{}, id)
}

func requestID(ctx context.Context) int32 {
	id, _ := ctx.Value(requestKey{}).(int32)
	return id
}
