package filesystem

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/cloakroom/cloakroom/core"
)

// GetVersion implements core.Conditional. It reads the file as Get does,
// without a lock (a rename never shows a partial value), and the version
// is a copy of the value read.
func (s *Store) GetVersion(ctx context.Context, key string) ([]byte, core.Version, error) {
	value, err := s.Get(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	version := make(core.Version, len(value)) // never nil, even when empty
	copy(version, value)
	return value, version, nil
}

// VersionOf implements core.Versioner: a version is the file's contents,
// which are the value.
func (s *Store) VersionOf(value []byte) core.Version {
	if value == nil {
		return core.Version{} // nil would mean absent
	}
	return core.Version(value)
}

// SetIf implements core.Conditional: under the key's lock it compares the
// stored bytes with version and renames the new file into place. See the
// package documentation for what the lock does and does not exclude.
func (s *Store) SetIf(ctx context.Context, key string, version core.Version, value []byte, ttl time.Duration) error {
	path, unlock, err := s.lockKey(ctx, key)
	if err != nil {
		return failed("set", key, err)
	}
	defer unlock()
	if err := s.check(key, path, version); err != nil {
		return err
	}
	if err := s.write(path, value, s.expiry(ttl)); err != nil {
		return failed("set", key, err)
	}
	return nil
}

// DeleteIf implements core.Conditional: under the key's lock it compares
// the stored bytes with version and removes the file.
func (s *Store) DeleteIf(ctx context.Context, key string, version core.Version) error {
	path, unlock, err := s.lockKey(ctx, key)
	if err != nil {
		return failed("delete", key, err)
	}
	defer unlock()
	err = s.check(key, path, version)
	if err == nil && version == nil {
		// A nil version matches only an absent key: nothing to delete.
		return fmt.Errorf("filesystem: %q: %w", key, core.ErrNotFound)
	}
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return failed("delete", key, err)
	}
	return nil
}

// lockKey checks ctx and key, and takes the key's lock.
func (s *Store) lockKey(ctx context.Context, key string) (path string, unlock func(), err error) {
	if err := ctx.Err(); err != nil {
		return "", nil, err
	}
	if path, err = s.path(key); err != nil {
		return "", nil, err
	}
	if unlock, err = s.locks.lock(ctx, key); err != nil {
		return "", nil, err
	}
	return path, unlock, nil
}

// check reports whether the file of key at path holds what a conditional
// write expects: nothing live for a nil version, else version's bytes. The
// caller holds the key's lock.
func (s *Store) check(key, path string, version core.Version) error {
	current, err := s.load(path)
	absent := errors.Is(err, fs.ErrNotExist) // expired counts as absent
	switch {
	case err != nil && !absent:
		return failed("read", key, err)
	case version == nil && !absent:
		return fmt.Errorf("filesystem: %q exists: %w", key, core.ErrConflict)
	case version == nil:
		return nil
	case absent:
		return fmt.Errorf("filesystem: %q: %w", key, core.ErrNotFound)
	case !bytes.Equal(current, version):
		return fmt.Errorf("filesystem: %q changed: %w", key, core.ErrConflict)
	}
	return nil
}
