package memcached

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/cloakroom/cloakroom/core"
)

// DefaultMaxIdleConns is how many idle connections per server a Store made
// by New keeps. gomemcache's own default of 2 makes a busy web server dial a
// new connection on most concurrent requests.
const DefaultMaxIdleConns = 16

// Store is a core.Backend and core.Toucher over memcached. It is safe for
// concurrent use. Make one with New, or with NewFromClient to configure the
// gomemcache client yourself (TLS, timeouts, a custom server selector).
type Store struct {
	client  *memcache.Client
	timeout time.Duration // the client's I/O timeout, cached at construction
}

var (
	_ core.Backend = (*Store)(nil)
	_ core.Toucher = (*Store)(nil)
)

// New returns a Store over the given servers ("host:port", or a path for a
// Unix socket). Keys are spread over the servers by gomemcache's default
// selector. Addresses are resolved now, but no connection is made until the
// first call. The client uses gomemcache's default 500 ms timeout and keeps
// DefaultMaxIdleConns idle connections per server.
func New(servers ...string) (*Store, error) {
	if len(servers) == 0 {
		return nil, errors.New("memcached: no servers given")
	}
	list := new(memcache.ServerList)
	if err := list.SetServers(servers...); err != nil {
		return nil, fmt.Errorf("memcached: servers %q: %w", servers, err)
	}
	c := memcache.NewFromSelector(list)
	c.MaxIdleConns = DefaultMaxIdleConns
	return NewFromClient(c), nil
}

// NewFromClient returns a Store that uses c. Set c.Timeout before calling
// it: the Store reads it once, to know how long a call may block.
func NewFromClient(c *memcache.Client) *Store {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = memcache.DefaultTimeout
	}
	return &Store{client: c, timeout: timeout}
}

// Get implements core.Backend. An absent or expired key gives an error
// wrapping core.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("memcached: get %s: %w", quoted(key), err)
	}
	detached, err := s.detach(ctx)
	var item *memcache.Item
	if err == nil {
		item, err = s.get(ctx, key, detached)
	}
	switch {
	case errors.Is(err, memcache.ErrCacheMiss):
		return nil, fmt.Errorf("memcached: get %s: %w", quoted(key), core.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("memcached: get %s: %w", quoted(key), err)
	}
	return item.Value, nil
}

// get fetches key directly or, when detached, through run. The detached
// path is kept apart so that the direct one allocates nothing extra.
func (s *Store) get(ctx context.Context, key string, detached bool) (*memcache.Item, error) {
	if !detached {
		item, err := s.client.Get(key)
		return item, classify(err)
	}
	item, err := run(ctx, func() (*memcache.Item, error) { return s.client.Get(key) })
	return item, classify(err)
}

// Set implements core.Backend. See the package documentation for how ttl
// becomes memcached's expiration.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("memcached: set %s: %w", quoted(key), err)
	}
	detached, err := s.detach(ctx)
	if err == nil {
		item := &memcache.Item{Key: key, Value: value, Expiration: expiration(time.Now(), ttl)}
		if detached {
			item.Value = bytes.Clone(value) // the caller may reuse value once run returns
			_, err = run(ctx, noValue(func() error { return s.client.Set(item) }))
		} else {
			err = s.client.Set(item)
		}
		err = classify(err)
	}
	switch {
	case errors.Is(err, ErrValueTooLarge):
		return fmt.Errorf("memcached: set %s (%d bytes): %w", quoted(key), len(value), err)
	case err != nil:
		return fmt.Errorf("memcached: set %s: %w", quoted(key), err)
	}
	return nil
}

// Delete implements core.Backend. Deleting an absent key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("memcached: delete %s: %w", quoted(key), err)
	}
	detached, err := s.detach(ctx)
	if err == nil {
		if detached {
			_, err = run(ctx, noValue(func() error { return s.client.Delete(key) }))
		} else {
			err = s.client.Delete(key)
		}
		err = classify(err)
	}
	if err != nil && !errors.Is(err, memcache.ErrCacheMiss) {
		return fmt.Errorf("memcached: delete %s: %w", quoted(key), err)
	}
	return nil
}

// Touch implements core.Toucher with memcached's touch command: it gives key
// a new ttl without rewriting its value. An absent key gives an error
// wrapping core.ErrNotFound.
func (s *Store) Touch(ctx context.Context, key string, ttl time.Duration) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("memcached: touch %s: %w", quoted(key), err)
	}
	detached, err := s.detach(ctx)
	if err == nil {
		exp := expiration(time.Now(), ttl)
		if detached {
			_, err = run(ctx, noValue(func() error { return s.client.Touch(key, exp) }))
		} else {
			err = s.client.Touch(key, exp)
		}
		err = classify(err)
	}
	switch {
	case errors.Is(err, memcache.ErrCacheMiss):
		return fmt.Errorf("memcached: touch %s: %w", quoted(key), core.ErrNotFound)
	case err != nil:
		return fmt.Errorf("memcached: touch %s: %w", quoted(key), err)
	}
	return nil
}

// Close closes the client's idle connections. The Store stays usable; later
// calls open new connections.
func (s *Store) Close() error {
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("memcached: close: %w", err)
	}
	return nil
}
