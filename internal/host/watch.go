package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/internal/object"
	"github.com/dokv/dokv/internal/watch"
)

// watcher is one Go watcher of a resident object. The object hands
// it messages without ever waiting: one that falls MaxWatchLag messages
// behind is dropped.
type watcher struct {
	o       *resident
	key     string // the stored key
	keyJSON []byte // the key its messages carry: the stored key's JSON, or a browser's own
	pending chan []byte
	done    chan struct{} // closed when the watcher is dropped or closed
	last    []byte        // the close message, once done
	once    sync.Once
}

// Watch implements driver.Watcher: under the object's turn, so that the start
// message and the changes that follow it are in order.
func (s *Stub) Watch(ctx context.Context, key string, after uint64, resume bool) (driver.WatchStream, error) {
	w, err := s.watch(ctx, key, watch.KeyJSON(key), after, resume)
	if err != nil {
		return nil, err
	}
	return w, nil
}

// watch starts a watch of the stored key whose messages carry keyJSON: the
// stored key's for a Go watcher, the key a browser asked for for its
// WebSocket (see ForwardWebSocket).
func (s *Stub) watch(ctx context.Context, key string, keyJSON []byte, after uint64, resume bool) (*watcher, error) {
	o, err := s.ns.turn(ctx, s.id, true)
	if err != nil {
		return nil, err
	}
	defer o.release()
	messages, err := o.actor.Watch(key, after, resume, o.watcherCount)
	if err != nil {
		return nil, s.ns.objectError(err)
	}
	w := &watcher{o: o, key: key, keyJSON: keyJSON, pending: make(chan []byte, watch.MaxLag), done: make(chan struct{})}
	for _, m := range messages {
		w.send(watch.WithKey(m, w.keyJSON))
	}
	if o.watchers == nil {
		o.watchers = make(map[string]map[*watcher]struct{})
	}
	if o.watchers[key] == nil {
		o.watchers[key] = make(map[*watcher]struct{})
	}
	o.watchers[key][w] = struct{}{}
	o.watcherCount++
	return w, nil
}

// Emit implements driver.Watcher.
func (s *Stub) Emit(ctx context.Context, key string, event []byte) error {
	o, err := s.ns.turn(ctx, s.id, true)
	if err != nil {
		return err
	}
	defer o.release()
	m, err := o.actor.Emit(key, event)
	if err != nil {
		return s.ns.objectError(err)
	}
	sendAll(o.watchers[key], m, key)
	return nil
}

// objectError maps an object's refusal of a watch or an event.
func (ns *Namespace) objectError(err error) error {
	switch {
	case errors.Is(err, object.ErrBadWatch):
		return fmt.Errorf("%w: %w", ns.cfg.ErrInvalidArgument, err)
	case errors.Is(err, object.ErrTooManyWatchers):
		return fmt.Errorf("%w: %w", ns.cfg.ErrOverloaded, err)
	}
	return fmt.Errorf("%w: %w", ns.cfg.ErrObject, err)
}

// notify hands the changes of the request the object just ran to their
// watchers, with the stored key, as a Go watcher on Workers gets them. The
// caller holds the object's turn.
func (o *resident) notify() {
	if o.watcherCount == 0 {
		return
	}
	for _, c := range o.actor.Changes() {
		if ws := o.watchers[c.Key]; len(ws) > 0 {
			sendAll(ws, watch.ChangeMessage(&c), c.Key)
		}
	}
}

// sendAll sends m, a message without a key, to the watchers of the stored
// key, each with the key it carries: Go watchers share one copy with the
// stored key; a browser's watch of another key gets its own. The caller
// holds the object's turn.
func sendAll(ws map[*watcher]struct{}, m []byte, key string) {
	if len(ws) == 0 {
		return
	}
	stored := watch.KeyJSON(key)
	shared := watch.WithKey(m, stored)
	for w := range ws {
		if bytes.Equal(w.keyJSON, stored) {
			w.send(shared)
		} else {
			w.send(watch.WithKey(m, w.keyJSON))
		}
	}
}

// send queues m, or drops the watcher if it is MaxWatchLag behind. The
// caller holds the object's turn.
func (w *watcher) send(m []byte) {
	select {
	case w.pending <- m:
	default:
		w.end(watch.CloseMessage(watch.ReasonLagging))
	}
}

// end unregisters the watcher; last is the message its stream ends with.
// The caller holds the object's turn.
func (w *watcher) end(last []byte) {
	w.once.Do(func() {
		if ws := w.o.watchers[w.key]; ws != nil {
			if _, ok := ws[w]; ok {
				delete(ws, w)
				w.o.watcherCount--
				if len(ws) == 0 {
					delete(w.o.watchers, w.key)
				}
			}
		}
		w.last = last
		close(w.done)
	})
}

// Next implements watchStream: the queued messages, then the close
// message, then errWatchClosed.
func (w *watcher) Next(ctx context.Context) ([]byte, error) {
	select {
	case m := <-w.pending:
		return m, nil
	default:
	}
	select {
	case m := <-w.pending:
		return m, nil
	case <-w.done:
		select {
		case m := <-w.pending:
			return m, nil
		default:
		}
		if w.last == nil {
			return nil, errWatchClosed
		}
		m := w.last
		w.last = nil
		return m, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// errWatchClosed is what Next returns after Close.
var errWatchClosed = errors.New("dokv: watch closed")

// Close implements watchStream.
func (w *watcher) Close() {
	w.o.turn <- struct{}{}
	w.end(nil)
	w.o.release()
}
