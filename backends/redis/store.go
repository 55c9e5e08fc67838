package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/internal/timeout"
)

// DefaultTimeout bounds each call of a Store made by Open when
// Options.Timeout is zero. With it a frozen, stalled or unreachable server
// turns each call into an error within 1.5 s, so that a request answers 503
// within 2 seconds, as cloakroom promises with default settings.
const DefaultTimeout = 1500 * time.Millisecond

// Store is a core.Backend over a go-redis client. It is safe for concurrent
// use, as the client is.
type Store struct {
	client  goredis.UniversalClient
	timeout time.Duration // bounds each call; <= 0: no bound of the Store's own
	owned   bool          // Close closes client: Open built it
	wait    int           // replicas each write waits for (WAIT); 0: none
	waitFor time.Duration // WAIT's timeout, when wait > 0
	failed  func(error)   // a Cluster client's reloader (Open), told of failed waits
}

// Options configures a Store. Everything else that can be tuned (addresses,
// pool, TLS, the client's own timeouts) belongs to the go-redis client, or
// to the URL given to Open.
type Options struct {
	// Timeout bounds each call of the Store as a whole: the wait for a
	// pooled connection, dialling, sending the command, reading the reply
	// and every retry go-redis makes in between. The Store gives the call's
	// context this deadline unless the context already ends sooner, so a
	// frozen server fails the call instead of holding the request.
	//
	// Zero means DefaultTimeout (1.5 s) for a Store made by Open, and no
	// bound of the Store's own for one made by New, whose client keeps the
	// settings its owner gave it. A positive value applies to both; a
	// negative one means no bound of the Store's own in both. The bound
	// covers socket reads and writes only when the client has
	// ContextTimeoutEnabled (Open sets it); the pool wait, dialling and the
	// pauses between retries honour it either way.
	Timeout time.Duration

	// WaitReplicas, when positive, makes every write that creates,
	// changes or deletes a session (Set, SetIf, Delete, DeleteIf) wait
	// until that many replicas acknowledge it: the write is followed by
	// WAIT WaitReplicas WaitTimeout on the same connection, in the same
	// round trip. When fewer acknowledge it in time, the write was made on
	// the master but may be lost if a replica takes over before it
	// arrives there, and the call fails with an error wrapping
	// ErrNotReplicated, which a core.Manager answers with 503. Touch does
	// not wait: a lost touch only shortens an idle session's life.
	//
	// Zero, the default, waits for no replica: replication is
	// asynchronous, and a failover loses the writes the promoted replica
	// had not received (see the README's "No silent loss on failover").
	// The URL parameter wait_replicas sets it for a Store made by Open.
	WaitReplicas int

	// WaitTimeout is how long a write waits for WaitReplicas
	// acknowledgements: DefaultWaitTimeout (200 ms) when zero. Keep it
	// well under Timeout, which bounds the write and its wait together.
	// The URL parameter wait_timeout sets it for a Store made by Open.
	WaitTimeout time.Duration
}

var errNoClient = errors.New("redis: store has no client")

// New returns a Store that uses client: a *goredis.Client, a Sentinel
// failover client, a *goredis.ClusterClient or a *goredis.Ring. The caller
// keeps ownership of client; Store.Close leaves it open. New does no I/O.
// Set ContextTimeoutEnabled in the client's options so that context
// deadlines also bound reads and writes on an established connection, and
// see Options.Timeout for the bound New adds (none unless asked for).
//
// With Options.WaitReplicas, client must be a *goredis.Client (one server
// or a Sentinel failover client), a *goredis.ClusterClient or a
// *goredis.Ring, the clients that can send WAIT on the connection that
// wrote; writes through any other fail.
func New(client goredis.UniversalClient, opts Options) *Store {
	wait, waitFor := waitSettings(opts)
	return &Store{client: client, timeout: opts.Timeout, wait: wait, waitFor: waitFor}
}

// Client returns the go-redis client the Store uses, for commands of the
// application's own.
func (s *Store) Client() goredis.UniversalClient { return s.client }

// Close closes the client when the Store built it (Open), and does nothing
// for a client passed to New.
func (s *Store) Close() error {
	if !s.owned || s.client == nil {
		return nil
	}
	if err := s.client.Close(); err != nil && !errors.Is(err, goredis.ErrClosed) {
		return fmt.Errorf("redis: close: %w", err)
	}
	return nil
}

// ready reports why a command must not be sent: a missing client or a
// context that is already done.
func (s *Store) ready(ctx context.Context) error {
	if s.client == nil {
		return errNoClient
	}
	return ctx.Err()
}

// bound limits ctx to the Store's timeout for one command.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return timeout.Bound(ctx, s.timeout)
}

// explain words err, the failure of a command run under bounded (a context
// bound made from ctx), so that an error caused by the Store's own timeout
// says so; a deadline of the caller's needs no explaining.
func (s *Store) explain(ctx, bounded context.Context, err error) error {
	if err == nil || ctx.Err() != nil || !errors.Is(bounded.Err(), context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("gave up after the store's %v timeout: %w", s.timeout, err)
}

// Get implements core.Backend with one GET.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := s.ready(ctx); err != nil {
		return nil, fmt.Errorf("redis: get %q: %w", key, err)
	}
	bounded, cancel := s.bound(ctx)
	defer cancel()
	value, err := s.client.Get(bounded, key).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("redis: get %q: %w", key, core.ErrNotFound)
	}
	err = s.explain(ctx, bounded, err)
	if err != nil {
		return nil, fmt.Errorf("redis: get %q: %w", key, err)
	}
	return value, nil
}

// Set implements core.Backend with one SET: SET key value PX ms (or EX s
// for whole seconds) when ttl > 0, and a plain SET, which clears any earlier
// expiry, when ttl <= 0. With Options.WaitReplicas, WAIT follows in the
// same round trip.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := s.ready(ctx); err != nil {
		return fmt.Errorf("redis: set %q: %w", key, err)
	}
	bounded, cancel := s.bound(ctx)
	defer cancel()
	if s.wait > 0 {
		cmd, w := replicated(bounded, s, key, func(p goredis.Pipeliner) *goredis.StatusCmd {
			return p.Set(bounded, key, value, lifetime(ttl))
		})
		if err := cmd.Err(); err != nil {
			return fmt.Errorf("redis: set %q: %w", key, s.explain(ctx, bounded, err))
		}
		return s.durable("set", key, w)
	}
	if err := s.client.Set(bounded, key, value, lifetime(ttl)).Err(); err != nil {
		return fmt.Errorf("redis: set %q: %w", key, s.explain(ctx, bounded, err))
	}
	return nil
}

// Delete implements core.Backend with one DEL, followed by WAIT in the
// same round trip with Options.WaitReplicas.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.ready(ctx); err != nil {
		return fmt.Errorf("redis: delete %q: %w", key, err)
	}
	bounded, cancel := s.bound(ctx)
	defer cancel()
	if s.wait > 0 {
		cmd, w := replicated(bounded, s, key, func(p goredis.Pipeliner) *goredis.IntCmd {
			return p.Del(bounded, key)
		})
		n, err := cmd.Result()
		if err != nil {
			return fmt.Errorf("redis: delete %q: %w", key, s.explain(ctx, bounded, err))
		}
		if n == 0 {
			return nil // nothing deleted, nothing to replicate
		}
		return s.durable("delete", key, w)
	}
	if err := s.client.Del(bounded, key).Err(); err != nil {
		return fmt.Errorf("redis: delete %q: %w", key, s.explain(ctx, bounded, err))
	}
	return nil
}

// persistScript makes a key permanent and reports whether it exists, in one
// round trip: PERSIST alone answers 0 both for an absent key and for a key
// that had no expiry.
var persistScript = goredis.NewScript(`
redis.call('PERSIST', KEYS[1])
return redis.call('EXISTS', KEYS[1])`)

// Touch implements core.Toucher: PEXPIRE when
// ttl > 0, and PERSIST when ttl <= 0. It returns an error wrapping
// core.ErrNotFound when the key is absent.
func (s *Store) Touch(ctx context.Context, key string, ttl time.Duration) error {
	if err := s.ready(ctx); err != nil {
		return fmt.Errorf("redis: touch %q: %w", key, err)
	}
	bounded, cancel := s.bound(ctx)
	defer cancel()
	var found bool
	var err error
	if ttl = lifetime(ttl); ttl > 0 {
		found, err = s.client.PExpire(bounded, key, ttl).Result()
	} else {
		var n int64
		n, err = persistScript.Run(bounded, s.client, []string{key}).Int64()
		found = n == 1
	}
	if err != nil {
		return fmt.Errorf("redis: touch %q: %w", key, s.explain(ctx, bounded, err))
	}
	if !found {
		return fmt.Errorf("redis: touch %q: %w", key, core.ErrNotFound)
	}
	return nil
}

// ExpiresAt implements core.Expirer with one PTTL: the time it was sent
// plus the lifetime the server reports left, in milliseconds. It returns
// the zero time for a key without expiry and an error wrapping
// core.ErrNotFound for one that is absent (Redis drops a key when it
// expires).
func (s *Store) ExpiresAt(ctx context.Context, key string) (time.Time, error) {
	if err := s.ready(ctx); err != nil {
		return time.Time{}, fmt.Errorf("redis: expiresat %q: %w", key, err)
	}
	bounded, cancel := s.bound(ctx)
	defer cancel()
	sent := time.Now()
	left, err := s.client.PTTL(bounded, key).Result()
	if err != nil {
		return time.Time{}, fmt.Errorf("redis: expiresat %q: %w", key, s.explain(ctx, bounded, err))
	}
	// go-redis passes the replies -2 (no key) and -1 (no expiry) on as
	// they are, in nanoseconds; a lifetime counts whole milliseconds.
	switch left {
	case -2:
		return time.Time{}, fmt.Errorf("redis: expiresat %q: %w", key, core.ErrNotFound)
	case -1:
		return time.Time{}, nil
	}
	return sent.Add(left).Round(0), nil
}

// lifetime maps a core ttl to the expiration go-redis expects: 0 for none
// (go-redis reads -1 as KEEPTTL, which core's "ttl <= 0" must not mean), and
// otherwise ttl rounded up to a whole millisecond, Redis's finest unit, so a
// key never lives shorter than asked.
func lifetime(ttl time.Duration) time.Duration {
	if ttl <= 0 {
		return 0
	}
	if r := ttl % time.Millisecond; r != 0 {
		ttl += time.Millisecond - r
	}
	return ttl
}
