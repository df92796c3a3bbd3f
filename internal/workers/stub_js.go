//go:build js && wasm

package workers

import (
	"context"
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
	ch := make(chan result, 1)
	callsMu.Lock()
	nextToken++
	token := nextToken
	calls[token] = ch
	callsMu.Unlock()

	bp, bl := strPtr(binding)
	ip, il := strPtr(id)
	rp, rl := bytesPtr(request)
	stubCall(token, requestID(ctx), bp, bl, ip, il, rp, rl)
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
	data := takeBytes(int(n))
	callsMu.Lock()
	ch, ok := calls[token]
	delete(calls, token)
	callsMu.Unlock()
	if !ok {
		return // the caller gave up
	}
	if bits&1 != 0 {
		ch <- result{reply: data} // buffered: never blocks
		return
	}
	ch <- result{err: &CallError{
		Message:    string(data),
		Retryable:  bits&2 != 0,
		Overloaded: bits&4 != 0,
		Remote:     bits&8 != 0,
		Reset:      bits&16 != 0,
	}}
}

// requestKey marks a context with the fetch request it serves.
type requestKey struct{}

func withRequestID(ctx context.Context, id int32) context.Context {
	return context.WithValue(ctx, requestKey{}, id)
}

func requestID(ctx context.Context) int32 {
	id, _ := ctx.Value(requestKey{}).(int32)
	return id
}
