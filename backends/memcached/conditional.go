package memcached

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/cloakroom/cloakroom/core"
)

// versionLen is the length of a Version: memcached's 64-bit CAS id.
const versionLen = 8

// errInvalidVersion is wrapped by the error of a SetIf or DeleteIf whose
// version did not come from GetVersion.
var errInvalidVersion = errors.New("not a memcached CAS id from GetVersion")

// GetVersion implements core.Conditional with one gets: the Version is the
// item's CAS id, 8 bytes big-endian. memcached gives an item a new CAS id on
// every write, whoever makes it (a peer's plain set too), and keeps it on
// touch. An absent or expired key gives an error wrapping core.ErrNotFound;
// a server started with -C (CAS disabled) gives one wrapping ErrCASDisabled.
func (s *Store) GetVersion(ctx context.Context, key string) ([]byte, core.Version, error) {
	item, err := s.fetch(ctx, "getversion", key)
	if err != nil {
		return nil, nil, err
	}
	if item.CasID == 0 {
		return nil, nil, fmt.Errorf("memcached: getversion %s: %w", quoted(key), ErrCASDisabled)
	}
	return item.Value, binary.BigEndian.AppendUint64(make(core.Version, 0, versionLen), item.CasID), nil
}

// SetIf implements core.Conditional. With a nil version it is memcached's
// add, which stores only if the key is absent or expired; otherwise it is
// cas with the version's CAS id. Both are one round trip and atomic on the
// server. The ttl follows the rules of Set.
//
// A cas that memcached answers NOT_FOUND (absent, expired or deleted) gives
// core.ErrNotFound; EXISTS (another write since GetVersion) and NOT_STORED
// (the server could not store it) give core.ErrConflict, so that the caller
// reads again and learns which it was.
func (s *Store) SetIf(ctx context.Context, key string, version core.Version, value []byte, ttl time.Duration) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("memcached: setif %s: %w", quoted(key), err)
	}
	item := &memcache.Item{Key: key, Value: value, Expiration: expiration(time.Now(), ttl)}
	write := (*memcache.Client).Add
	if version != nil {
		cas, err := casID(version)
		if err != nil {
			return fmt.Errorf("memcached: setif %s: %w", quoted(key), err)
		}
		item.CasID = cas
		write = (*memcache.Client).CompareAndSwap
	}
	err := conditionalErr(s.store(ctx, write, item), version == nil)
	switch {
	case errors.Is(err, ErrValueTooLarge):
		return fmt.Errorf("memcached: setif %s (%d bytes): %w", quoted(key), len(value), err)
	case err != nil:
		return fmt.Errorf("memcached: setif %s: %w", quoted(key), err)
	}
	return nil
}

// DeleteIf implements core.Conditional. memcached's delete takes no CAS id,
// so DeleteIf is a cas with the version's CAS id, an empty value and a
// negative expiration, which memcached documents as "immediately expired":
// in one atomic step the item is replaced by an empty one that every read,
// add and cas treats as absent, and that the server reclaims later. A
// racing SetIf with the old version then gets core.ErrNotFound. Errors are
// those of SetIf.
func (s *Store) DeleteIf(ctx context.Context, key string, version core.Version) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("memcached: deleteif %s: %w", quoted(key), err)
	}
	cas, err := casID(version)
	if err != nil {
		return fmt.Errorf("memcached: deleteif %s: %w", quoted(key), err)
	}
	item := &memcache.Item{Key: key, Expiration: expiredAtOnce, CasID: cas}
	if err := conditionalErr(s.store(ctx, (*memcache.Client).CompareAndSwap, item), false); err != nil {
		return fmt.Errorf("memcached: deleteif %s: %w", quoted(key), err)
	}
	return nil
}

// expiredAtOnce is the expiration that makes memcached store an item as
// already expired.
const expiredAtOnce = -1

// casID decodes a Version made by GetVersion.
func casID(version core.Version) (uint64, error) {
	if len(version) != versionLen {
		return 0, fmt.Errorf("version of %d bytes, want %d: %w", len(version), versionLen, errInvalidVersion)
	}
	cas := binary.BigEndian.Uint64(version)
	if cas == 0 {
		// memcached never hands out 0 while CAS is on; with -C every cas
		// fails, so 0 can only be a version that GetVersion did not make.
		return 0, fmt.Errorf("version 0: %w", errInvalidVersion)
	}
	return cas, nil
}

// conditionalErr turns gomemcache's answers to add (create) or cas into the
// core sentinels, keeping gomemcache's error in the chain.
func conditionalErr(err error, create bool) error {
	switch {
	case err == nil:
		return nil
	case create && errors.Is(err, memcache.ErrNotStored):
		return fmt.Errorf("%w: key exists (%w)", core.ErrConflict, err)
	case errors.Is(err, memcache.ErrCASConflict):
		return fmt.Errorf("%w: written since read (%w)", core.ErrConflict, err)
	case errors.Is(err, memcache.ErrNotStored):
		return fmt.Errorf("%w: server did not store it (%w)", core.ErrConflict, err)
	case errors.Is(err, memcache.ErrCacheMiss):
		return fmt.Errorf("%w (%w)", core.ErrNotFound, err)
	}
	return err
}
