package protocol

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzDecodeRequest checks that DecodeRequest never panics, that every error
// wraps ErrMalformed, and that a request that decodes re-encodes to bytes
// that decode to the same request.
func FuzzDecodeRequest(f *testing.F) {
	for _, req := range sampleRequests() {
		f.Add(AppendRequest(nil, &req))
	}
	f.Add([]byte{})
	f.Add([]byte{Version})
	f.Add([]byte{Version, byte(OpGet)})
	f.Add([]byte{Version + 1, byte(OpGet), 0})
	f.Add([]byte{Version, 9, 0})
	f.Add(wire(Version, OpWrite, MaxMutations+1))
	f.Add(wire(Version, OpWrite, 1, "k", Kind(3), byte(0), 0))
	f.Add(wire(Version, OpWrite, 1, "k", KindPut, byte(2), 0, "v"))
	f.Add(wire(Version, OpWrite, 1, "k", KindPut, byte(1), 0, uint64(1<<40)))
	f.Add(wire(Version, OpList, "p", "s", MaxListLimit+1))
	f.Add(wire(Version, OpList, "p", "", []byte{0x85, 0x00}))
	f.Add(append(wire(Version, OpGet, "k"), 0))

	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeRequest(data)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformed)
			return
		}
		enc := AppendRequest(nil, &r)
		// The encoding is minimal; the input may only be longer through
		// padded varints.
		require.LessOrEqual(t, len(enc), len(data))
		r2, err := DecodeRequest(enc)
		require.NoError(t, err, "re-encoded request %x of %x", enc, data)
		require.Equal(t, r, r2)
		require.Equal(t, enc, AppendRequest(nil, &r2))
	})
}

// FuzzDecodeReply checks that DecodeReply never panics, that every error
// wraps ErrMalformed, and that a reply that decodes round-trips.
func FuzzDecodeReply(f *testing.F) {
	for _, s := range sampleReplies() {
		f.Add(byte(s.op), AppendReply(nil, s.op, &s.reply))
	}
	f.Add(byte(OpGet), []byte{})
	f.Add(byte(OpGet), []byte{Version, byte(StatusOK)})
	f.Add(byte(OpGet), []byte{Version, byte(StatusOK), 2})
	f.Add(byte(OpList), wire(Version, StatusOK, MaxListLimit))
	f.Add(byte(OpWrite), wire(Version, StatusOK, MaxMutations+1))
	f.Add(byte(OpWrite), wire(Version, StatusConflict, MaxMutations+1, 0, "m"))
	f.Add(byte(OpGet), wire(Version, byte(statusUpperBound), 0, 0, "m"))
	f.Add(byte(9), wire(Version, StatusOK, byte(0)))

	f.Fuzz(func(t *testing.T, opByte byte, data []byte) {
		op := Op(opByte)
		r, err := DecodeReply(op, data)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformed)
			return
		}
		if r.Status != StatusOK {
			require.Less(t, r.Status, statusUpperBound)
			if len(r.Message) > maxMessageBytes {
				// The encoder truncates messages; the decoder is lenient.
				return
			}
		}
		enc := AppendReply(nil, op, &r)
		require.LessOrEqual(t, len(enc), len(data))
		r2, err := DecodeReply(op, enc)
		require.NoError(t, err, "re-encoded reply %x of %x", enc, data)
		require.Equal(t, r, r2)
		require.True(t, bytes.Equal(enc, AppendReply(nil, op, &r2)))
	})
}
