package object

import (
	"testing"

	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/storage"
)

// FuzzHandle feeds arbitrary bytes to an object: it must never panic, must
// always answer with a reply that decodes, must not change its storage for
// a request it refuses, and must stay usable afterwards.
func FuzzHandle(f *testing.F) {
	f.Add(protocol.AppendRequest(nil, &protocol.Request{Op: protocol.OpGet, Key: "0:k"}))
	f.Add(protocol.AppendRequest(nil, &protocol.Request{Op: protocol.OpWrite, Mutations: []protocol.Mutation{
		{Key: "0:k", Kind: protocol.KindPut, Value: []byte("v")},
		{Key: "0:j", Kind: protocol.KindDelete, HasCondition: true, Version: 3},
	}}))
	f.Add(protocol.AppendRequest(nil, &protocol.Request{Op: protocol.OpList, List: protocol.ListRequest{Prefix: "0:", Limit: 10}}))
	f.Add([]byte{})
	f.Add([]byte{1, 2, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{2, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		engine := storage.NewMemory()
		o := New(engine)
		if _, ok, _ := engine.Get("0:seed"); ok {
			t.Fatal("fresh engine has data")
		}
		reply := o.Handle(data)
		op := protocol.OpGet
		if req, err := protocol.DecodeRequest(data); err == nil {
			op = req.Op
		}
		r, err := protocol.DecodeReply(op, reply)
		if err != nil {
			t.Fatalf("reply to %x does not decode: %v", data, err)
		}
		if r.Status != protocol.StatusOK && engine.Len() != 0 {
			t.Fatalf("refused request %x (status %d) changed storage", data, r.Status)
		}
		// The object still works.
		put := protocol.AppendRequest(nil, &protocol.Request{Op: protocol.OpWrite, Mutations: []protocol.Mutation{
			{Key: "0:after", Kind: protocol.KindPut, Value: []byte("ok")},
		}})
		if r, err := protocol.DecodeReply(protocol.OpWrite, o.Handle(put)); err != nil || r.Status != protocol.StatusOK {
			t.Fatalf("object unusable after %x: %v %+v", data, err, r)
		}
		get := protocol.AppendRequest(nil, &protocol.Request{Op: protocol.OpGet, Key: "0:after"})
		if r, err := protocol.DecodeReply(protocol.OpGet, o.Handle(get)); err != nil || !r.Found || string(r.Value) != "ok" {
			t.Fatalf("object lost a write after %x: %v %+v", data, err, r)
		}
	})
}
