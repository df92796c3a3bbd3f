package local

import (
	"github.com/dokv/dokv"
	"github.com/dokv/dokv/worker"
)

// ForwardWebSocket implements driver.WebSocketForwarder, as the memory
// namespace does: when r came through workerhttp.FromHandler (over
// HTTP/1.1), it takes over its connection and serves the browser's watch
// (Store.ServeWatch) as the Durable Object does on Workers, returning when
// the watch ends. Otherwise it fails with an error wrapping
// errors.ErrUnsupported (ServeWatch answers 501).
func (ns *Namespace) ForwardWebSocket(w *worker.ResponseWriter, r *worker.Request, id dokv.ObjectID, url string) error {
	return ns.host.ForwardWebSocket(w, r, id, url)
}
