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
