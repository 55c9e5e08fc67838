// Package memory keeps sessions in the process's memory: the fastest backend,
// right for a single instance and for tests. Data is lost on restart.
package memory

import (
	"bytes"
	"container/list"
	"context"
	"fmt"
	"hash/maphash"
	"iter"
	"strings"
	"sync"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/internal/background"
)

var _ core.Conditional = (*Store)(nil)

// Options configure a Store. The zero value gives the defaults.
type Options struct {
	// MaxEntries bounds the number of stored keys; when full, the least
	// recently used key is evicted. Keys are spread over 16 independently
	// locked shards, each holding a sixteenth of the bound (rounded up), so
	// eviction is least-recently-used within a shard. Zero means 100,000.
	MaxEntries int
	// CleanupInterval is how often expired keys are removed in the
	// background. Zero means one minute; a negative value disables the
	// clean-up (expired keys are still never returned, and Purge removes
	// them on demand).
	CleanupInterval time.Duration
}

// shardCount spreads keys over independent locks so that concurrent
// requests rarely wait for each other.
const shardCount = 16

// Store is an in-memory core.Backend with expiry, a size bound and LRU
// eviction. It implements core.Conditional, core.Toucher and core.Lister.
// Call Close to stop its background clean-up.
type Store struct {
	seed    maphash.Seed
	shards  [shardCount]shard
	sweeper *background.Loop // nil when disabled
	now     func() time.Time
}

type shard struct {
	mu    sync.Mutex
	items map[string]*list.Element
	lru   list.List // front is most recently used; values are *entry
	limit int
}

type entry struct {
	key     string
	value   []byte
	expires time.Time // zero: never
}

// New returns a Store and starts its background clean-up.
func New(opts Options) *Store {
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = 100_000
	}
	if opts.CleanupInterval == 0 {
		opts.CleanupInterval = time.Minute
	}
	s := &Store{seed: maphash.MakeSeed(), now: time.Now}
	perShard := max(1, (opts.MaxEntries+shardCount-1)/shardCount)
	for i := range s.shards {
		s.shards[i].items = make(map[string]*list.Element)
		s.shards[i].limit = perShard
	}
	if opts.CleanupInterval > 0 {
		s.sweeper = background.Every(opts.CleanupInterval, func(ctx context.Context) { _, _ = s.Purge(ctx) })
	}
	return s
}

func (s *Store) shard(key string) *shard {
	return &s.shards[maphash.String(s.seed, key)%shardCount]
}

// Get implements core.Backend.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	b, _, err := s.GetVersion(ctx, key)
	return b, err
}

// Set implements core.Backend.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	v := &entry{key: key, value: bytes.Clone(value), expires: expiry(s.now(), ttl)}
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.put(sh.items[key], v)
	return nil
}

// put stores v in e, or in a new element when e is nil, evicting the least
// recently used keys beyond the bound. The caller holds sh.mu.
func (sh *shard) put(e *list.Element, v *entry) {
	if e != nil {
		e.Value = v
		sh.lru.MoveToFront(e)
		return
	}
	sh.items[v.key] = sh.lru.PushFront(v)
	for sh.lru.Len() > sh.limit {
		sh.remove(sh.lru.Back())
	}
}

// GetVersion implements core.Conditional. The version is the stored
// value itself, which the store never modifies in place.
func (s *Store) GetVersion(ctx context.Context, key string) (value []byte, version core.Version, err error) {
	err = s.withLive(ctx, key, func(_ *shard, e *list.Element, _ time.Time) error {
		if e == nil {
			return fmt.Errorf("memory: %q: %w", key, core.ErrNotFound)
		}
		stored := e.Value.(*entry).value
		value, version = bytes.Clone(stored), core.Version(stored)
		return nil
	})
	return value, version, err
}

// SetIf implements core.Conditional under the shard's lock.
func (s *Store) SetIf(ctx context.Context, key string, version core.Version, value []byte, ttl time.Duration) error {
	value = bytes.Clone(value)
	return s.withLive(ctx, key, func(sh *shard, e *list.Element, now time.Time) error {
		if err := check(key, e, version); err != nil {
			return err
		}
		sh.put(e, &entry{key: key, value: value, expires: expiry(now, ttl)})
		return nil
	})
}

// DeleteIf implements core.Conditional under the shard's lock.
func (s *Store) DeleteIf(ctx context.Context, key string, version core.Version) error {
	return s.withLive(ctx, key, func(sh *shard, e *list.Element, _ time.Time) error {
		if e == nil {
			return fmt.Errorf("memory: %q: %w", key, core.ErrNotFound)
		}
		if err := check(key, e, version); err != nil {
			return err
		}
		sh.remove(e)
		return nil
	})
}

// check reports whether the live element e (nil when absent) is what a
// conditional write expects: absent for a nil version, else holding it.
func check(key string, e *list.Element, version core.Version) error {
	switch {
	case version == nil && e != nil:
		return fmt.Errorf("memory: %q exists: %w", key, core.ErrConflict)
	case version == nil:
		return nil
	case e == nil:
		return fmt.Errorf("memory: %q: %w", key, core.ErrNotFound)
	case !bytes.Equal(e.Value.(*entry).value, version):
		return fmt.Errorf("memory: %q changed: %w", key, core.ErrConflict)
	}
	return nil
}

// Delete implements core.Backend.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.items[key]; ok {
		sh.remove(e)
	}
	return nil
}

// Touch implements core.Toucher.
func (s *Store) Touch(ctx context.Context, key string, ttl time.Duration) error {
	return s.withLive(ctx, key, func(_ *shard, e *list.Element, now time.Time) error {
		if e == nil {
			return fmt.Errorf("memory: %q: %w", key, core.ErrNotFound)
		}
		e.Value.(*entry).expires = expiry(now, ttl)
		return nil
	})
}

// withLive runs f under the lock of key's shard with key's live element,
// nil when it is absent or expired.
func (s *Store) withLive(ctx context.Context, key string, f func(sh *shard, e *list.Element, now time.Time) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := s.now()
	return f(sh, sh.live(key, now), now)
}

// Keys implements core.Lister. It works on a snapshot, so the caller may
// modify the store while iterating.
func (s *Store) Keys(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for i := range s.shards {
			if err := ctx.Err(); err != nil {
				yield("", err)
				return
			}
			for _, key := range s.shards[i].snapshot(prefix, s.now()) {
				if !yield(key, nil) {
					return
				}
			}
		}
	}
}

// Len reports the number of stored keys, expired ones not yet swept included.
func (s *Store) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.lru.Len()
		sh.mu.Unlock()
	}
	return n
}

// Purge removes expired keys now and reports how many it removed.
func (s *Store) Purge(ctx context.Context) (int, error) {
	n := 0
	for i := range s.shards {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		n += s.shards[i].purge(s.now())
	}
	return n, nil
}

// Close stops the background clean-up. The store keeps working without it.
func (s *Store) Close() error {
	s.sweeper.Stop()
	return nil
}

// live returns key's element, marking it recently used, or nil when it is
// absent or expired. The caller holds sh.mu.
func (sh *shard) live(key string, now time.Time) *list.Element {
	e, ok := sh.items[key]
	if !ok {
		return nil
	}
	if expired(e.Value.(*entry), now) {
		sh.remove(e)
		return nil
	}
	sh.lru.MoveToFront(e)
	return e
}

func (sh *shard) remove(e *list.Element) {
	delete(sh.items, e.Value.(*entry).key)
	sh.lru.Remove(e)
}

func (sh *shard) purge(now time.Time) int {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	n := 0
	for e := sh.lru.Front(); e != nil; {
		next := e.Next()
		if expired(e.Value.(*entry), now) {
			sh.remove(e)
			n++
		}
		e = next
	}
	return n
}

func (sh *shard) snapshot(prefix string, now time.Time) []string {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	var keys []string
	for key, e := range sh.items {
		if strings.HasPrefix(key, prefix) && !expired(e.Value.(*entry), now) {
			keys = append(keys, key)
		}
	}
	return keys
}

func expiry(now time.Time, ttl time.Duration) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	return now.Add(ttl)
}

func expired(e *entry, now time.Time) bool {
	return !e.expires.IsZero() && !now.Before(e.expires)
}
