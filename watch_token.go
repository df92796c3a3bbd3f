package dokv

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"
)

// WatchTokenSecretMinBytes is the shortest secret NewWatchTokens accepts:
// whoever knows the secret can open a watch of any key, so it must be too
// long to guess, such as the output of `openssl rand -hex 32`.
const WatchTokenSecretMinBytes = 32

// MaxWatchTokenTTL bounds the lifetime Store.WatchToken gives a token. A
// token is checked when a watch opens, so it only needs to outlive the
// page's next connection; a few minutes is usually enough.
const MaxWatchTokenTTL = 24 * time.Hour

// watchTokenDomain starts every MAC, so that a watch token's MAC is never
// valid as anything else signed with the same secret, and a later format
// of token (v2) never verifies as this one.
const watchTokenDomain = "dokv watch token v1\x00"

// watchTokenBytes is the length of a decoded token: the expiry in Unix
// milliseconds (8 bytes, big-endian) then the HMAC-SHA256 (32 bytes).
const watchTokenBytes = 8 + sha256.Size

// watchTokenEncoding writes tokens as unpadded base64url: URL-safe, 54
// characters. Strict, because otherwise the spare low bits of the last
// character are ignored and a token would have several valid spellings.
var watchTokenEncoding = base64.RawURLEncoding.Strict()

// WatchTokens issues and checks short-lived signed watch tokens, so that a
// browser, which cannot set an Authorization header on a WebSocket, can be
// let into Store.ServeWatch: the application's own authenticated route
// issues a token (Store.WatchToken) and the page passes it as the token
// query parameter of the watch URL. Give it to a store with
// WithWatchTokens. A token opens a watch of one key of one store until it
// expires. A WatchTokens is safe for concurrent use.
type WatchTokens struct {
	secret []byte
	now    func() time.Time
}

// WatchTokenOption configures NewWatchTokens.
type WatchTokenOption func(*WatchTokens)

// WithWatchTokenClock sets the clock that stamps and checks expiries; the
// default is time.Now. Tests pass a manual clock's Now.
func WithWatchTokenClock(now func() time.Time) WatchTokenOption {
	return func(t *WatchTokens) { t.now = now }
}

// NewWatchTokens returns the issuer and checker of watch tokens signed with
// secret by HMAC-SHA256. Read the secret from the Worker's environment (a
// Worker secret, `wrangler secret put`; .dev.vars under `dokv dev`), and
// give it its own value, not the admin secret's. A secret shorter than
// WatchTokenSecretMinBytes, or a nil clock, fails with ErrInvalidArgument,
// so that watches cannot be open by mistake.
func NewWatchTokens(secret string, opts ...WatchTokenOption) (*WatchTokens, error) {
	if len(secret) < WatchTokenSecretMinBytes {
		return nil, &Error{Op: "watch token", Err: ErrInvalidArgument,
			Detail: fmt.Sprintf("the watch token secret has %d bytes; it needs at least %d (such as the output of `openssl rand -hex 32`)", len(secret), WatchTokenSecretMinBytes)}
	}
	t := &WatchTokens{secret: []byte(secret), now: time.Now}
	for _, opt := range opts {
		opt(t)
	}
	if t.now == nil {
		return nil, &Error{Op: "watch token", Err: ErrInvalidArgument, Detail: "the clock of WithWatchTokenClock is nil"}
	}
	return t, nil
}

// WatchToken issues a token that lets its holder open a watch of key in
// this store through ServeWatch for ttl, 0 < ttl <= MaxWatchTokenTTL (else
// ErrInvalidArgument). Call it from a route that has authenticated the
// user and checked that they may follow key. An invalid key fails with
// ErrInvalidKey, and a store without WithWatchTokens with ErrUnsupported.
// The token is 54 URL-safe characters; it opens the watch until it
// expires, and a watch it opened stays open after that.
func (s *Store[T]) WatchToken(key string, ttl time.Duration) (string, error) {
	return s.watchToken(key, ttl)
}

// CheckWatchToken reports whether token lets its holder watch key in this
// store now, as ServeWatch checks it: nil if so, else an error wrapping
// ErrWatchToken (no token, a malformed or expired one, or one issued for
// another key, another store or with another secret, or altered). A store
// without WithWatchTokens fails with ErrUnsupported.
func (s *Store[T]) CheckWatchToken(key, token string) error {
	return s.checkWatchToken(key, token)
}

func (s *core) watchToken(key string, ttl time.Duration) (string, error) {
	if s.watchTokens == nil {
		return "", errNoWatchTokens
	}
	if err := s.validateKey("watch token", key); err != nil {
		return "", err
	}
	if ttl <= 0 || ttl > MaxWatchTokenTTL {
		return "", &Error{Op: "watch token", Key: key, Err: ErrInvalidArgument,
			Detail: fmt.Sprintf("ttl must be above 0 and at most %v, got %v", MaxWatchTokenTTL, ttl)}
	}
	expiry := s.watchTokens.now().Add(ttl).UnixMilli()
	b := binary.BigEndian.AppendUint64(make([]byte, 0, watchTokenBytes), uint64(expiry))
	b = append(b, s.watchTokenMAC(key, expiry)...)
	return watchTokenEncoding.EncodeToString(b), nil
}

func (s *core) checkWatchToken(key, token string) error {
	if s.watchTokens == nil {
		return errNoWatchTokens
	}
	refuse := func(why string) error {
		return &Error{Op: "watch", Key: key, Err: ErrWatchToken, Detail: why}
	}
	if token == "" {
		return refuse("no token")
	}
	b, err := watchTokenEncoding.DecodeString(token)
	if err != nil || len(b) != watchTokenBytes {
		return refuse("malformed token")
	}
	expiry := int64(binary.BigEndian.Uint64(b))
	// The MAC is checked before the expiry, so that "expired" is only said
	// of a token this secret issued for this key and store.
	if !hmac.Equal(b[8:], s.watchTokenMAC(key, expiry)) {
		return refuse("the token was not issued for this key and store, or was altered")
	}
	if s.watchTokens.now().UnixMilli() >= expiry {
		return refuse("expired token")
	}
	return nil
}

// watchTokenMAC signs the expiry and what the watch would open: the ID of
// the object that holds key, the key that object stores for it, and key
// itself, the key the socket's messages will name (the pair implies it;
// signing it too keeps that true if routing ever changes). That pair
// (object ID, stored key) is the store's identity for this purpose. It is
// exactly the record ServeWatch hands the socket to,
// and it carries everything that tells two stores apart. The prefix and
// partitioning are in the object's name (the shard count too, so a
// resharded store's tokens lapse), and the prefix is in the stored key,
// which is what separates stores under ObjectNamedByKey, where every store
// names the object by the key alone. The namespace is in the ID, since IDs
// depend on the namespace as well as the name, so a token also stays
// within its Durable Object binding. Two stores that agree on all of it
// read the same record, so they are one store to a watcher, whatever T or
// codec each has.
func (s *core) watchTokenMAC(key string, expiry int64) []byte {
	id := s.objectID(s.router.ObjectName(key))
	stored := s.router.StoredKey(key)
	mac := hmac.New(sha256.New, s.watchTokens.secret)
	var b []byte
	b = append(b, watchTokenDomain...)
	b = binary.BigEndian.AppendUint64(b, uint64(expiry))
	b = append(b, id[:]...)
	// Lengths first, so that no two (stored, key) pairs write the same
	// bytes.
	b = binary.BigEndian.AppendUint32(b, uint32(len(stored)))
	b = append(b, stored...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(key)))
	b = append(b, key...)
	mac.Write(b)
	return mac.Sum(nil)
}

// errNoWatchTokens is why WatchToken and CheckWatchToken fail on a store
// made without WithWatchTokens.
var errNoWatchTokens = &Error{Op: "watch token", Err: ErrUnsupported,
	Detail: "the store was made without WithWatchTokens"}
