package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cloakroom/cloakroom/core"
)

// Store is a core.Backend over a go-redis client. It is safe for concurrent
// use, as the client is.
type Store struct {
	client goredis.UniversalClient
	owned  bool // Close closes client: Open built it
}

// Options configures a Store. It has no fields today: everything that can be
// tuned (addresses, pool, timeouts, TLS) belongs to the go-redis client. It
// exists so that New and Open keep their signatures when options come.
type Options struct{}

var errNoClient = errors.New("redis: store has no client")

// New returns a Store that uses client: a *goredis.Client, a Sentinel
// failover client, a *goredis.ClusterClient or a *goredis.Ring. The caller
// keeps ownership of client; Store.Close leaves it open. New does no I/O.
// Set ContextTimeoutEnabled in the client's options so that context
// deadlines also bound reads and writes on an established connection.
func New(client goredis.UniversalClient, opts Options) *Store {
	_ = opts // no options yet
	return &Store{client: client}
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

// Get implements core.Backend with one GET.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := s.ready(ctx); err != nil {
		return nil, fmt.Errorf("redis: get %q: %w", key, err)
	}
	value, err := s.client.Get(ctx, key).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("redis: get %q: %w", key, core.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("redis: get %q: %w", key, err)
	}
	return value, nil
}

// Set implements core.Backend with one SET: SET key value PX ms (or EX s
// for whole seconds) when ttl > 0, and a plain SET, which clears any earlier
// expiry, when ttl <= 0.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := s.ready(ctx); err != nil {
		return fmt.Errorf("redis: set %q: %w", key, err)
	}
	if err := s.client.Set(ctx, key, value, lifetime(ttl)).Err(); err != nil {
		return fmt.Errorf("redis: set %q: %w", key, err)
	}
	return nil
}

// Delete implements core.Backend with one DEL.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.ready(ctx); err != nil {
		return fmt.Errorf("redis: delete %q: %w", key, err)
	}
	if err := s.client.Del(ctx, key).Err(); err != nil {
		return fmt.Errorf("redis: delete %q: %w", key, err)
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
	var found bool
	var err error
	if ttl = lifetime(ttl); ttl > 0 {
		found, err = s.client.PExpire(ctx, key, ttl).Result()
	} else {
		var n int64
		n, err = persistScript.Run(ctx, s.client, []string{key}).Int64()
		found = n == 1
	}
	if err != nil {
		return fmt.Errorf("redis: touch %q: %w", key, err)
	}
	if !found {
		return fmt.Errorf("redis: touch %q: %w", key, core.ErrNotFound)
	}
	return nil
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
