package memcached

import (
	"errors"
	"fmt"
)

// ErrInvalidKey is wrapped by the error of every call whose key memcached
// would refuse: empty, longer than MaxKeyLength bytes, or containing a
// space or a control character. Such calls do no network I/O.
var ErrInvalidKey = errors.New("memcached: invalid key")

// MaxKeyLength is the longest key memcached accepts, in bytes.
const MaxKeyLength = 250

// checkKey reports why memcached would refuse key, or nil.
func checkKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	case len(key) > MaxKeyLength:
		return fmt.Errorf("%w: %d bytes, more than %d", ErrInvalidKey, len(key), MaxKeyLength)
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c <= ' ' || c == 0x7f {
			return fmt.Errorf("%w: byte %#02x at offset %d is a space or control character", ErrInvalidKey, c, i)
		}
	}
	return nil
}

// quoted shortens a key for error messages, so a 10 KiB key does not make a
// 10 KiB error.
func quoted(key string) string {
	const limit = 64
	if len(key) > limit {
		return fmt.Sprintf("%q...", key[:limit])
	}
	return fmt.Sprintf("%q", key)
}
