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
// Eviction decides who loses when the store is full, and it keeps the
// small sessions of clients that come back. Each shard keeps its keys in
// two segments. A key that is written enters probation, a least recently
// used list. When a key on probation is read (Get, GetVersion) or touched
// (Touch), it asks to be admitted to the protected segment. Eviction takes
// the least recently used key of probation, and a protected key only when
// probation holds nothing else. The protected segment may fill at most
// four fifths of each bound; the keys it pushes out go to the front of
// probation, where a read may save them again.
//
// The protected segment ranks its keys by GreedyDual-Size-Frequency: a
// key's priority is L + uses/cost, where uses counts its reads and touches
// (up to 255), cost is what it counts against MaxBytes, and L is the
// priority of the last key pushed out of the segment to make room for
// another. The key of lowest priority leaves first. A key asking to be
// admitted gets in only if it outranks every key it would push out; if
// not, it stays on probation, as its most recent key. Rewriting a
// protected key ranks it for its new size. Recency enters through L, which
// only rises: a key ranked late starts from a higher L than one ranked
// long ago, so the session of a user who left falls behind those of users
// who are still here. A read of a protected key does not rank it again at
// once, which would cost O(log n) on every request: it marks the key, and
// a marked key that comes to the bottom is ranked again from the L of that
// moment, as CLOCK approximates LRU. So a read costs O(1) and, at most
// once, O(log n) later; a write costs O(log n), plus O(log n) for each key
// it pushes out or evicts.
//
// The policy weighs size and frequency, not only recency. A session of
// 240 KB costs what a thousand small ones do: it ranks with a small
// session read once only if it is read a thousand times as often, or once
// L has risen by the small session's lead. L rises only when a key pushes
// another out, and a flood of large sessions mostly pushes out its own
// kind, each time by about uses/cost of one of its sessions: once for each
// time it turns the protected segment over. A flood of sessions that are
// written and never read again (clients that keep no cookies: crawlers,
// health checks, an attack) only evicts its own kind, from probation. A
// flood of sessions that grow to 240 KB and are read three times must
// pass well over a hundred times the store's capacity before it outranks
// the 400-byte session of a user who logged in and read it once (the
// package's tests flood one shard a hundred times over); a flood of 24 KB
// sessions, about fifteen times; one that reads its 240 KB sessions twenty
// times as often, about ten times. Users who come back are ranked again
// from the current L, and keep their lead for as long as they come back.
//
// The trade-offs. A session that has just been written is the first to go
// until its next request, and that includes the new session that
// Regenerate writes at login, so that under a flood a user who logs in may
// have to do it again. A large session (a big cart) ranks below small ones
// read as often, and goes first when the store must choose. A session read
// very often keeps its lead for a while after its user has gone (until L
// catches up, or it expires), which is why uses stop counting at 255. And
// the policy cannot tell users from a flood of small sessions that come
// back often: that is what such a flood looks like when it comes from many
// addresses, and its sessions rank like users' and share the store with
// them; large sessions read many times a request close much of the gap
// too. What one client may create is for the Manager's budget of new
// sessions per client to limit, not for the store. A store with room for
// its traffic evicts nothing; the policy only decides who loses when it has
// not.
package memory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"iter"
	"math"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/internal/background"
)

var (
	_ core.Conditional = (*Store)(nil)
	_ core.Versioner   = (*Store)(nil)
	_ core.Expirer     = (*Store)(nil)
)

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
// take for it, so that many small sessions are bounded as well as a few
// large ones. That is a 64-byte entry (links, rank, expiry), its share of
// the index's table and of the protected segment's heap, and the
// allocator's rounding of the one allocation that holds key and value: 84
// to 94 bytes for sessions of a 51-byte key and a 200-byte value, as the
// package's tests measure it.
const EntryOverhead = 96

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
// and eviction that prefers keys not read since they were written, then
// large keys and keys read rarely. It implements core.Conditional,
// core.Toucher, core.Lister and core.Expirer. Call Close to stop its
// background clean-up.
type Store struct {
	seed    maphash.Seed
	shards  [shardCount]shard
	sweeper *background.Loop // nil when disabled
	now     func() time.Time
	// epoch is the origin of the store's clock (see clock).
	epoch time.Time
}

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
	s.epoch = s.now()
	perShard := max(1, (opts.MaxEntries+shardCount-1)/shardCount)
	perShardBytes := int64(-1)
	protBytes := int64(-1)
	if opts.MaxBytes > 0 {
		// Rounded down, so that the store as a whole keeps to MaxBytes.
		perShardBytes = max(1, opts.MaxBytes/shardCount)
		protBytes = perShardBytes - max(1, perShardBytes/5)
	}
	// Slots and heap positions are int32, to keep entries small; no shard
	// holds two billion keys in memory anyway. A shard holds one key over
	// its bound while it evicts, and slot 0 is none.
	perShard = min(perShard, math.MaxInt32-2)
	protEntries := min(perShard-max(1, perShard/5), math.MaxInt32-1)
	for i := range s.shards {
		sh := &s.shards[i]
		sh.maxEntries, sh.maxBytes = perShard, perShardBytes
		sh.protEntries, sh.protBytes = protEntries, protBytes
	}
	if opts.CleanupInterval > 0 {
		s.sweeper = background.Every(opts.CleanupInterval, func(ctx context.Context) { _, _ = s.Purge(ctx) })
	}
	return s
}

// shard returns key's shard and the hash by which the shard's index finds
// it: one hash of the key serves both.
func (s *Store) shard(key string) (*shard, uint32) {
	h := maphash.String(s.seed, key)
	return &s.shards[h%shardCount], uint32(h >> 32)
}

// clock reads the store's clock, on which expiry times are kept: the
// nanoseconds since New on the monotonic clock, so that setting the wall
// clock expires nothing, in an int64 rather than a 24-byte time.Time.
func (s *Store) clock() int64 { return s.clockAt(s.now()) }

// clockAt is the store's clock at t, a reading of s.now.
func (s *Store) clockAt(t time.Time) int64 {
	return max(0, int64(t.Sub(s.epoch)))
}

// Get implements core.Backend. A read is a use of the key, which eviction
// weighs (see the package documentation).
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	b, _, err := s.GetVersion(ctx, key)
	return b, err
}

// Set implements core.Backend.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sh, hash := s.shard(key)
	if err := sh.fits(key, value); err != nil {
		return err
	}
	data := join(key, value)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := s.clock()
	sh.put(sh.live(key, hash, now), hash, len(key), data, expiry(now, ttl))
	return nil
}

// fits reports an error wrapping ErrValueTooLarge when key and value
// could not be stored even in an empty shard. Bounds never change after
// New, so it needs no lock.
func (sh *shard) fits(key string, value []byte) error {
	if uint64(len(key)) > math.MaxUint32 {
		// An entry keeps its key's length in 32 bits, to stay small.
		return fmt.Errorf("%w: a key of %d bytes", ErrValueTooLarge, len(key))
	}
	if sh.maxBytes < 0 {
		return nil
	}
	if cost := int64(len(key)+len(value)) + EntryOverhead; cost > sh.maxBytes {
		// No key in the message: it may be a live session id.
		return fmt.Errorf("%w: %d bytes with its key and overhead, a shard holds %d", ErrValueTooLarge, cost, sh.maxBytes)
	}
	return nil
}

// GetVersion implements core.Conditional. The version is the stored
// value itself, which the store never modifies in place. Like Get, it is
// a use of the key.
func (s *Store) GetVersion(ctx context.Context, key string) ([]byte, core.Version, error) {
	value, version, err := s.LendVersion(ctx, key)
	return bytes.Clone(value), version, err
}

// LendVersion implements core.Lender: it is GetVersion without the copy of
// the value, which the caller must not modify. As the store never modifies
// a value in place, the bytes lent stay what they are after a write.
func (s *Store) LendVersion(ctx context.Context, key string) (value []byte, version core.Version, err error) {
	err = s.withLive(ctx, key, func(sh *shard, i slot, e *entry, _ int64) error {
		if e == nil {
			return fmt.Errorf("memory: %q: %w", key, core.ErrNotFound)
		}
		sh.use(i)
		value, version = e.value(), core.Version(e.value())
		return nil
	})
	return value, version, err
}

// VersionOf implements core.Versioner: a version is the stored value.
func (s *Store) VersionOf(value []byte) core.Version {
	if value == nil {
		return core.Version{} // nil would mean absent
	}
	return core.Version(value)
}

// SetIf implements core.Conditional under the shard's lock.
func (s *Store) SetIf(ctx context.Context, key string, version core.Version, value []byte, ttl time.Duration) error {
	sh, hash := s.shard(key)
	if err := sh.fits(key, value); err != nil {
		return err
	}
	data := join(key, value)
	return s.withLive(ctx, key, func(sh *shard, i slot, e *entry, now int64) error {
		if err := check(key, e, version); err != nil {
			return err
		}
		sh.put(i, hash, len(key), data, expiry(now, ttl))
		return nil
	})
}

// DeleteIf implements core.Conditional under the shard's lock.
func (s *Store) DeleteIf(ctx context.Context, key string, version core.Version) error {
	return s.withLive(ctx, key, func(sh *shard, i slot, e *entry, _ int64) error {
		if e == nil {
			return fmt.Errorf("memory: %q: %w", key, core.ErrNotFound)
		}
		if err := check(key, e, version); err != nil {
			return err
		}
		sh.remove(i)
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
	case !bytes.Equal(e.value(), version):
		return fmt.Errorf("memory: %q changed: %w", key, core.ErrConflict)
	}
	return nil
}

// Delete implements core.Backend.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sh, hash := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if i := sh.keys.find(&sh.entries, hash, key); i != none {
		sh.remove(i)
	}
	return nil
}

// Touch implements core.Toucher. Like Get, it is a use of the key: the
// Manager touches only sessions that came back.
func (s *Store) Touch(ctx context.Context, key string, ttl time.Duration) error {
	return s.withLive(ctx, key, func(sh *shard, i slot, e *entry, now int64) error {
		if e == nil {
			return fmt.Errorf("memory: %q: %w", key, core.ErrNotFound)
		}
		e.expires = expiry(now, ttl)
		sh.use(i)
		return nil
	})
}

// ExpiresAt implements core.Expirer. The store keeps expiry on the
// monotonic clock, so the time it returns is now, by the wall clock, plus
// the key's remaining lifetime: when the wall clock has been set since the
// key was written, the time follows it, and the key still lives as long
// as it had left. It returns the zero time for a key that never expires
// and an error wrapping core.ErrNotFound for one that is absent or
// expired. It is not a use of the key.
func (s *Store) ExpiresAt(ctx context.Context, key string) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	sh, hash := s.shard(key)
	sh.mu.Lock()
	wall := s.now()
	now := s.clockAt(wall)
	i := sh.live(key, hash, now)
	var expires int64
	if i != none {
		expires = sh.entries.at(i).expires
	}
	sh.mu.Unlock()
	switch {
	case i == none:
		return time.Time{}, fmt.Errorf("memory: %q: %w", key, core.ErrNotFound)
	case expires == 0:
		return time.Time{}, nil
	}
	// Round(0) drops the monotonic reading: the result is a wall time,
	// like every backend's.
	return wall.Add(time.Duration(expires - now)).Round(0), nil
}

// withLive runs f under the lock of key's shard with the slot of key's
// live entry and the entry, none and nil when it is absent or expired, and
// the store's clock.
func (s *Store) withLive(ctx context.Context, key string, f func(sh *shard, i slot, e *entry, now int64) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sh, hash := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := s.clock()
	i := sh.live(key, hash, now)
	var e *entry
	if i != none {
		e = sh.entries.at(i)
	}
	return f(sh, i, e, now)
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
			for _, key := range s.shards[i].snapshot(prefix, s.clock()) {
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
		n += s.shards[i].purge(s.clock())
	}
	return n, nil
}

// Close stops the background clean-up. The store keeps working without it.
func (s *Store) Close() error {
	s.sweeper.Stop()
	return nil
}

// live returns the slot of key, whose hash is hash, or none when it is
// absent or expired. It does not count as a use: callers that read call
// use. The caller holds sh.mu.
func (sh *shard) live(key string, hash uint32, now int64) slot {
	i := sh.keys.find(&sh.entries, hash, key)
	if i != none && expired(sh.entries.at(i), now) {
		sh.remove(i)
		return none
	}
	return i
}

// purge removes the shard's expired entries. It walks the slab, not the
// index, which removing rearranges; a slot freed on the way is behind.
func (sh *shard) purge(now int64) int {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	n := 0
	for i := slot(1); i < sh.entries.top; i++ {
		if e := sh.entries.at(i); e.data != nil && expired(e, now) {
			sh.remove(i)
			n++
		}
	}
	return n
}

// snapshot returns copies of the shard's live keys that start with
// prefix: the store keeps its keys in the entries' data, which it reuses.
func (sh *shard) snapshot(prefix string, now int64) []string {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	var keys []string
	for i := slot(1); i < sh.entries.top; i++ {
		e := sh.entries.at(i)
		if key := e.key(); e.data != nil && len(key) >= len(prefix) &&
			string(key[:len(prefix)]) == prefix && !expired(e, now) {
			keys = append(keys, string(key))
		}
	}
	return keys
}

// expiry returns when a key written at now with ttl expires on the store's
// clock: 0, never, when ttl is not positive.
func expiry(now int64, ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	if int64(ttl) > math.MaxInt64-now {
		return math.MaxInt64 // three centuries away: never, in effect
	}
	return now + int64(ttl)
}

func expired(e *entry, now int64) bool {
	return e.expires != 0 && now >= e.expires
}
