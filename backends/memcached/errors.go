package memcached

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrValueTooLarge is wrapped by the error of a Set whose value the server
// refused because it exceeds its item size limit (about 1 MiB unless the
// server was started with a larger -I).
var ErrValueTooLarge = errors.New("memcached: value larger than the server's item size limit")

// classify makes gomemcache's terse errors say what happened, keeping the
// original error in the chain: a size refusal that gomemcache reports only
// as text becomes ErrValueTooLarge, and a bare EOF says the server hung up.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case strings.Contains(err.Error(), "object too large"):
		return fmt.Errorf("%w (%w)", ErrValueTooLarge, err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("server closed the connection (down or restarted?): %w", err)
	}
	return err
}

// ErrCASDisabled is wrapped by the error of a GetVersion on a server
// started with -C, which hands out no CAS ids: conditional writes cannot
// work there (every cas would fail), so the Store refuses to make versions.
var ErrCASDisabled = errors.New("memcached: the server has CAS disabled (-C)")
