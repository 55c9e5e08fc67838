// Package memory keeps sessions in the process's memory: the fastest backend,
// right for a single instance and for tests. Data is lost on restart.
//
// # Bounds
//
// A Store is bounded twice: by the number of keys (Options.MaxEntries) and
// by the bytes they hold (Options.MaxBytes), where each key counts the
// length of its name and of its value plus EntryOverhead for the store's
// own bookkeeping. A write that takes the store past either bound evicts
// keys until it is back under both. Both bounds are split evenly over 16
// independently locked shards, so that requests rarely wait for each
// other; a key's shard is chosen by a hash of its name.
//
// MaxBytes bounds the session data, not the process: the garbage
// collector lets the heap grow past the live data (to about twice it with
// the default GOGC), and requests in flight hold copies of their sessions.
// Give sessions about half the memory you can spare for them.
//
// # Eviction
//
// Eviction prefers the sessions that never came back. Each shard keeps its
// keys in two least-recently-used lists: a key that is written lives in
// the probation list until it is read (Get, GetVersion) or touched
// (Touch), which moves it to the protected list. Eviction takes the least
// recently used key of the probation list, and a protected key only when
// the probation list holds nothing else. The protected list may fill at
// most four fifths of each bound; beyond that, its least recently used
// keys move back to the probation list, where a read saves them again.
//
// So a flood of sessions that are created and never used again (clients
// that keep no cookies: crawlers, health checks, an attack) evicts other
// such sessions, not the sessions of users who are using the site, which a
// plain LRU list would push out within seconds. The trade-off: a session
// that has just been written is the first to go until its next request,
// and that includes the new session that Regenerate writes at login, so
// that under a flood a user who logs in may have to do it again. And a
// client that sends its cookie back is protected like any user, so only
// the bounds, not the policy, limit a flood of returning clients. A store
// with room for its traffic evicts nothing; the policy only decides who
// loses when it has not.
package memory

import (
	"bytes"
	"context"
	"errors"
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
	// MaxEntries bounds the number of stored keys. Keys are spread over 16
	// shards, each holding a sixteenth of the bound (rounded up), and
	// eviction (see the package documentation) works within a shard.
	// Zero means 100,000.
	MaxEntries int
	// MaxBytes bounds the bytes the stored keys hold: the length of each
	// key and of its value, plus EntryOverhead. Like MaxEntries it is split
	// over the 16 shards, each holding a sixteenth (rounded down), so a
	// value that does not fit in a sixteenth of MaxBytes cannot be stored:
	// writing it fails with an error wrapping ErrValueTooLarge. Zero means
	// 64 MiB; a negative value means no bound in bytes.
	MaxBytes int64
	// CleanupInterval is how often expired keys are removed in the
	// background. Zero means one minute; a negative value disables the
	// clean-up (expired keys are still never returned, and Purge removes
	// them on demand).
	CleanupInterval time.Duration
}

// EntryOverhead is what each key counts against Options.MaxBytes beyond
// the length of its name and value: about what the store's own structures
// take for it (the entry with its list links and expiry, and its share of
// the index map), so that many small sessions are bounded as well as a few
// large ones.
const EntryOverhead = 160

// ErrValueTooLarge is wrapped by the error of a write whose value, with
// its key and EntryOverhead, is more than a shard may hold: a sixteenth of
// Options.MaxBytes. Nothing is written then, and no key is evicted.
var ErrValueTooLarge = errors.New("memory: value larger than the store's per-shard byte bound")

const (
	// shardCount spreads keys over independent locks so that concurrent
	// requests rarely wait for each other.
	shardCount      = 16
	defaultEntries  = 100_000
	defaultMaxBytes = 64 << 20
)

// Store is an in-memory core.Backend with expiry, bounds in keys and bytes,
// and eviction that prefers keys not read since they were written. It
// implements core.Conditional, core.Toucher and core.Lister. Call Close to
// stop its background clean-up.
type Store struct {
	seed    maphash.Seed
	shards  [shardCount]shard
	sweeper *background.Loop // nil when disabled
	now     func() time.Time
}

// shard is one lock's worth of the store: an index of its entries and the
// two lists that order them for eviction.
type shard struct {
	mu        sync.Mutex
	items     map[string]*entry
	probation segment // written, not read since
	protected segment // read since written

	maxEntries int
	maxBytes   int64 // negative: no bound
	// The protected segment's share of the bounds; it always leaves the
	// probation segment room for at least one key, so that a new key is
	// never evicted in favour of old ones.
	protEntries int
	protBytes   int64 // negative: no bound
}

// segment is a doubly linked list of entries, most recently used first,
// with the totals that the bounds are checked against.
type segment struct {
	head, tail *entry
	n          int
	bytes      int64
}

type entry struct {
	key        string
	value      []byte // never modified in place: it is also the version
	expires    time.Time
	prev, next *entry
	protected  bool // in shard.protected, else in shard.probation
}

// cost is what e counts against the byte bound.
func (e *entry) cost() int64 { return int64(len(e.key)+len(e.value)) + EntryOverhead }

// New returns a Store and starts its background clean-up.
func New(opts Options) *Store {
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = defaultEntries
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = defaultMaxBytes
	}
	if opts.CleanupInterval == 0 {
		opts.CleanupInterval = time.Minute
	}
	s := &Store{seed: maphash.MakeSeed(), now: time.Now}
	perShard := max(1, (opts.MaxEntries+shardCount-1)/shardCount)
	perShardBytes := int64(-1)
	protBytes := int64(-1)
	if opts.MaxBytes > 0 {
		// Rounded down, so that the store as a whole keeps to MaxBytes.
		perShardBytes = max(1, opts.MaxBytes/shardCount)
		protBytes = perShardBytes - max(1, perShardBytes/5)
	}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.items = make(map[string]*entry)
		sh.maxEntries, sh.maxBytes = perShard, perShardBytes
		sh.protEntries, sh.protBytes = perShard-max(1, perShard/5), protBytes
	}
	if opts.CleanupInterval > 0 {
		s.sweeper = background.Every(opts.CleanupInterval, func(ctx context.Context) { _, _ = s.Purge(ctx) })
	}
	return s
}

func (s *Store) shard(key string) *shard {
	return &s.shards[maphash.String(s.seed, key)%shardCount]
}

// Get implements core.Backend. A key read is protected from eviction
// ahead of keys never read since they were written.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	b, _, err := s.GetVersion(ctx, key)
	return b, err
}

// Set implements core.Backend.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sh := s.shard(key)
	if err := sh.fits(key, value); err != nil {
		return err
	}
	value = bytes.Clone(value)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := s.now()
	sh.put(sh.live(key, now), key, value, expiry(now, ttl))
	return nil
}

// fits reports an error wrapping ErrValueTooLarge when key and value
// could not be stored even in an empty shard. Bounds never change after
// New, so it needs no lock.
func (sh *shard) fits(key string, value []byte) error {
	if sh.maxBytes < 0 {
		return nil
	}
	if cost := int64(len(key)+len(value)) + EntryOverhead; cost > sh.maxBytes {
		// No key in the message: it may be a live session id.
		return fmt.Errorf("%w: %d bytes with its key and overhead, a shard holds %d", ErrValueTooLarge, cost, sh.maxBytes)
	}
	return nil
}

// put stores value in e, or in a new entry in the probation segment when
// e is nil, and evicts what the bounds require. Rewriting a key keeps it
// in its segment: only a read says that a session came back. The caller
// holds sh.mu and has checked that the value fits.
func (sh *shard) put(e *entry, key string, value []byte, expires time.Time) {
	if e != nil {
		g := sh.segment(e)
		g.unlink(e) // its cost changes with its value
		e.value, e.expires = value, expires
		g.pushFront(e)
		sh.demote() // a protected key that grew may overfill its segment
	} else {
		e = &entry{key: key, value: value, expires: expires}
		sh.items[key] = e
		sh.probation.pushFront(e)
	}
	sh.evict(e)
}

// evict removes least recently used keys, probation first, until the
// shard is within its bounds, never keep, the key just written.
func (sh *shard) evict(keep *entry) {
	for sh.probation.n+sh.protected.n > sh.maxEntries ||
		sh.maxBytes >= 0 && sh.probation.bytes+sh.protected.bytes > sh.maxBytes {
		victim := sh.probation.tail
		if victim == nil || victim == keep {
			victim = sh.protected.tail
		}
		if victim == nil || victim == keep {
			return // keep alone, which fits: fits checked it
		}
		sh.remove(victim)
	}
}

// use marks the live entry e as used by a returning client: it moves to
// the front of the protected segment, which may push that segment's least
// recently used keys back to probation.
func (sh *shard) use(e *entry) {
	if e.protected {
		sh.protected.unlink(e)
	} else {
		sh.probation.unlink(e)
		e.protected = true
	}
	sh.protected.pushFront(e)
	sh.demote()
}

// demote moves the protected segment's least recently used keys to the
// front of the probation segment until the protected one is within its
// share of the bounds.
func (sh *shard) demote() {
	for sh.protected.n > sh.protEntries || sh.protBytes >= 0 && sh.protected.bytes > sh.protBytes {
		e := sh.protected.tail
		sh.protected.unlink(e)
		e.protected = false
		sh.probation.pushFront(e)
	}
}

// GetVersion implements core.Conditional. The version is the stored
// value itself, which the store never modifies in place. Like Get, it
// protects the key from eviction.
func (s *Store) GetVersion(ctx context.Context, key string) (value []byte, version core.Version, err error) {
	err = s.withLive(ctx, key, func(sh *shard, e *entry, _ time.Time) error {
		if e == nil {
			return fmt.Errorf("memory: %q: %w", key, core.ErrNotFound)
		}
		sh.use(e)
		value, version = bytes.Clone(e.value), core.Version(e.value)
		return nil
	})
	return value, version, err
}

// SetIf implements core.Conditional under the shard's lock.
func (s *Store) SetIf(ctx context.Context, key string, version core.Version, value []byte, ttl time.Duration) error {
	if err := s.shard(key).fits(key, value); err != nil {
		return err
	}
	value = bytes.Clone(value)
	return s.withLive(ctx, key, func(sh *shard, e *entry, now time.Time) error {
		if err := check(key, e, version); err != nil {
			return err
		}
		sh.put(e, key, value, expiry(now, ttl))
		return nil
	})
}

// DeleteIf implements core.Conditional under the shard's lock.
func (s *Store) DeleteIf(ctx context.Context, key string, version core.Version) error {
	return s.withLive(ctx, key, func(sh *shard, e *entry, _ time.Time) error {
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

// check reports whether the live entry e (nil when absent) is what a
// conditional write expects: absent for a nil version, else holding it.
func check(key string, e *entry, version core.Version) error {
	switch {
	case version == nil && e != nil:
		return fmt.Errorf("memory: %q exists: %w", key, core.ErrConflict)
	case version == nil:
		return nil
	case e == nil:
		return fmt.Errorf("memory: %q: %w", key, core.ErrNotFound)
	case !bytes.Equal(e.value, version):
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

// Touch implements core.Toucher. Like Get, it protects the key from
// eviction: the Manager touches only sessions that came back.
func (s *Store) Touch(ctx context.Context, key string, ttl time.Duration) error {
	return s.withLive(ctx, key, func(sh *shard, e *entry, now time.Time) error {
		if e == nil {
			return fmt.Errorf("memory: %q: %w", key, core.ErrNotFound)
		}
		e.expires = expiry(now, ttl)
		sh.use(e)
		return nil
	})
}

// withLive runs f under the lock of key's shard with key's live entry,
// nil when it is absent or expired.
func (s *Store) withLive(ctx context.Context, key string, f func(sh *shard, e *entry, now time.Time) error) error {
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
		n += sh.probation.n + sh.protected.n
		sh.mu.Unlock()
	}
	return n
}

// Bytes reports the bytes counted against Options.MaxBytes: the length of
// every stored key and value plus EntryOverhead for each, expired ones not
// yet swept included. It is computed whether or not the bound is set.
func (s *Store) Bytes() int64 {
	var n int64
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.probation.bytes + sh.protected.bytes
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

// live returns key's entry, or nil when it is absent or expired. It does
// not count as a use: callers that read call use. The caller holds sh.mu.
func (sh *shard) live(key string, now time.Time) *entry {
	e, ok := sh.items[key]
	if !ok {
		return nil
	}
	if expired(e, now) {
		sh.remove(e)
		return nil
	}
	return e
}

func (sh *shard) segment(e *entry) *segment {
	if e.protected {
		return &sh.protected
	}
	return &sh.probation
}

func (sh *shard) remove(e *entry) {
	delete(sh.items, e.key)
	sh.segment(e).unlink(e)
}

func (sh *shard) purge(now time.Time) int {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	n := 0
	for _, e := range sh.items {
		if expired(e, now) {
			sh.remove(e) // deleting from a map while ranging over it is allowed
			n++
		}
	}
	return n
}

func (sh *shard) snapshot(prefix string, now time.Time) []string {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	var keys []string
	for key, e := range sh.items {
		if strings.HasPrefix(key, prefix) && !expired(e, now) {
			keys = append(keys, key)
		}
	}
	return keys
}

// pushFront adds e as the most recently used entry of g.
func (g *segment) pushFront(e *entry) {
	e.prev, e.next = nil, g.head
	if g.head != nil {
		g.head.prev = e
	} else {
		g.tail = e
	}
	g.head = e
	g.n++
	g.bytes += e.cost()
}

// unlink removes e from g, which holds it.
func (g *segment) unlink(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		g.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		g.tail = e.prev
	}
	e.prev, e.next = nil, nil
	g.n--
	g.bytes -= e.cost()
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
