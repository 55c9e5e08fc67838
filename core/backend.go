package core

import (
	"context"
	"errors"
	"iter"
	"time"
)

// ErrNotFound is returned by a Backend when a key is absent or expired.
var ErrNotFound = errors.New("cloakroom: not found")

// Backend stores opaque values under string keys with an expiry. It is the
// only thing a storage system must provide; everything else about sessions
// lives in the Manager. Applications may use a Backend directly for their own
// keys.
//
// Implementations must be safe for concurrent use.
type Backend interface {
	// Get returns the value stored under key, or an error wrapping
	// ErrNotFound when the key is absent or has expired.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key, replacing any previous value. A ttl of zero
	// or less keeps the value until it is deleted.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes key. Deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
}

// Toucher is implemented by backends that can extend a key's expiry without
// rewriting its value. The Manager uses it to keep idle timeouts alive.
type Toucher interface {
	// Touch sets the remaining lifetime of key to ttl. It returns an error
	// wrapping ErrNotFound when the key is absent.
	Touch(ctx context.Context, key string, ttl time.Duration) error
}

// Lister is implemented by backends that can enumerate their live keys.
type Lister interface {
	// Keys yields every live key that starts with prefix, in no particular
	// order. Iteration stops at the first error, which is yielded.
	Keys(ctx context.Context, prefix string) iter.Seq2[string, error]
}

// ErrConflict is returned by a Conditional backend when the key no longer
// holds the version a write was conditioned on, or, for a create, when the
// key already exists.
var ErrConflict = errors.New("cloakroom: conflicting write")

// Version identifies one stored value of a key, as returned by
// Conditional.GetVersion. It is opaque to the Manager, which only hands it
// back to the same backend. Backends that compare stored values use the
// value's bytes; backends with a native check-and-set token (memcached's
// CAS id) use that token.
type Version []byte

// Conditional is implemented by backends that can write and delete a key
// only if it still holds the value a request read. The Manager uses it so
// that concurrent requests on one session lose nothing and revive nothing
// (see Manager). Each method must be a single atomic step on the server,
// ideally one round trip: a Lua script on Redis, UPDATE ... WHERE in SQL,
// a filtered update in MongoDB, CAS in memcached, a lock on files.
//
// A key that has expired counts as absent in every method.
type Conditional interface {
	Backend
	// GetVersion is Get that also returns the version of the value it
	// read. It returns an error wrapping ErrNotFound when the key is
	// absent.
	GetVersion(ctx context.Context, key string) ([]byte, Version, error)
	// SetIf stores value under key only if the key still holds version.
	// With a nil version it stores only if the key is absent. It returns
	// an error wrapping ErrConflict when the key holds another value (or,
	// for a nil version, any value) and one wrapping ErrNotFound when a
	// non-nil version was given but the key is absent. A ttl of zero or
	// less keeps the value until it is deleted.
	SetIf(ctx context.Context, key string, version Version, value []byte, ttl time.Duration) error
	// DeleteIf removes key only if it still holds version. It returns an
	// error wrapping ErrConflict when the key holds another value and one
	// wrapping ErrNotFound when the key is absent.
	DeleteIf(ctx context.Context, key string, version Version) error
}

// Lender is implemented by Conditional backends that keep their values in
// the process and can lend the stored bytes to a read instead of copying
// them, as backends/memory does. The Manager borrows only while its codec
// decodes into values of its own (a codec with a DecodeFields method, as
// codec.TaggedJSON), and never writes into what it borrows.
type Lender interface {
	// LendVersion is Conditional's GetVersion, except that the value is
	// the backend's own bytes: the caller must not modify them.
	LendVersion(ctx context.Context, key string) ([]byte, Version, error)
}

// Versioner is implemented by Conditional backends whose versions follow
// from the values they store (most use a copy of the stored bytes). The
// Manager then knows the version of what it wrote without reading it back,
// so that the saves of one session that queue in one process each write
// once, on the data the previous one wrote, instead of conflicting.
type Versioner interface {
	// VersionOf returns the Version that GetVersion returns for a key
	// right after a SetIf stored value under it.
	VersionOf(value []byte) Version
}
