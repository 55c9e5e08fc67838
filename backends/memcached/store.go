package memcached

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/cloakroom/cloakroom/core"
)

// DefaultMaxIdleConns is how many idle connections per server the client
// of a Store made by Open keeps. gomemcache's own default of 2 makes a busy
// web server dial a new connection on most concurrent requests.
const DefaultMaxIdleConns = 16

// Options configures a Store.
type Options struct {
	// Timeout bounds each connect and each exchange of the client that Open
	// builds. Zero means gomemcache's default, memcache.DefaultTimeout
	// (500 ms), with which a frozen or unreachable server fails each call
	// within 0.5 s, and within 1.5 s at worst (see the README's "Timeouts"),
	// so that a request answers 503 within 2 seconds; a negative value is an
	// error, as gomemcache has no "no timeout". New ignores it and uses the
	// Timeout of the client it is given.
	Timeout time.Duration
	// DeadTimeout is how long a server that cannot be connected to (its
	// process is gone and the connection is refused, or its host does not
	// answer) is left out of the key distribution of a Store made by Open.
	// Meanwhile its keys go to a stand-in among the other servers, where
	// they read as absent: its sessions become new sessions instead of
	// errors, and the sessions of the other servers do not move. When it
	// is over, a connect in the background tries the server again, and it
	// takes its keys back once that succeeds. Zero means
	// DefaultDeadTimeout (1 s); negative keeps every key on its own
	// server, as gomemcache's ServerList does, so that the keys of a dead
	// server fail (503) until it is back. A server that accepts
	// connections but does not answer (frozen, overloaded) is never left
	// out: its calls fail. New ignores it. See the README's "Under faults".
	DeadTimeout time.Duration
}

// Store is a core.Backend, core.Toucher and core.Conditional over
// memcached. It is safe for concurrent use. Make one with Open from a list
// of servers, or with New around a gomemcache client you configured
// yourself (TLS, timeouts, a custom server selector).
type Store struct {
	client   *memcache.Client
	timeout  time.Duration // the client's I/O timeout, cached at construction
	attempts int           // the most attempts a call may make (see again)
	owned    bool          // made by Open: Close closes the client
}

var (
	_ core.Backend     = (*Store)(nil)
	_ core.Toucher     = (*Store)(nil)
	_ core.Conditional = (*Store)(nil)
)

// New returns a Store that uses client, which the caller keeps owning:
// Close leaves it open. Set client.Timeout before calling New: the Store
// reads it once, to know how long a call may block. New does no I/O.
// No field of Options applies to New today; it is there so that New and
// Open take the same settings as they grow.
func New(client *memcache.Client, opts Options) *Store {
	if client == nil {
		panic("memcached: New with a nil client")
	}
	// The client's selector is out of reach: count it as one server.
	return &Store{client: client, timeout: clientTimeout(client.Timeout), attempts: attemptsFor(client, 1)}
}

// Open builds a client for servers, a comma-separated list of "host:port"
// addresses or Unix socket paths, each optionally prefixed with
// "memcached://" (one prefix on the whole list also works), and checks that
// every server answers a ping within ctx. Keys are spread over the servers
// as gomemcache's default selector does, except that a server that cannot
// be connected to hands its keys to the others for opts.DeadTimeout (see
// Options.DeadTimeout); the client keeps DefaultMaxIdleConns
// idle connections per server and uses opts.Timeout, which bounds every
// call of the Store even when its context has no deadline. The Store owns
// the client: Close closes it. If a server does not answer, Open closes the
// client and returns the error.
func Open(ctx context.Context, servers string, opts Options) (*Store, error) {
	addrs, err := parseServers(servers)
	if err != nil {
		return nil, fmt.Errorf("memcached: open: %w", err)
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("memcached: open: negative Timeout %v", opts.Timeout)
	}
	var selector memcache.ServerSelector
	var dial func(context.Context, string, string) (net.Conn, error)
	if opts.DeadTimeout < 0 {
		list := new(memcache.ServerList)
		if err := list.SetServers(addrs...); err != nil {
			return nil, fmt.Errorf("memcached: open %q: %w", addrs, err)
		}
		selector = list
	} else {
		list, err := newFailoverList(addrs, cmp.Or(opts.DeadTimeout, DefaultDeadTimeout), clientTimeout(opts.Timeout))
		if err != nil {
			return nil, fmt.Errorf("memcached: open %q: %w", addrs, err)
		}
		selector, dial = list, list.dial
	}
	client := memcache.NewFromSelector(selector)
	client.Timeout = clientTimeout(opts.Timeout)
	client.MaxIdleConns = DefaultMaxIdleConns
	client.DialContext = dial
	s := &Store{client: client, timeout: client.Timeout, attempts: attemptsFor(client, len(addrs)), owned: true}
	if err := s.ping(ctx); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("memcached: open %q: ping: %w", addrs, err)
	}
	return s, nil
}

// clientTimeout is the timeout a gomemcache client with Timeout d uses.
func clientTimeout(d time.Duration) time.Duration {
	if d <= 0 {
		return memcache.DefaultTimeout
	}
	return d
}

// ping asks every server for its version, one after the other. It always
// runs detached: with several servers the client's own bound is a multiple
// of its timeout, and Open happens once.
func (s *Store) ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := run(ctx, noValue(s.client.Ping))
	return classify(err)
}

// Get implements core.Backend. An absent or expired key gives an error
// wrapping core.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	item, err := s.fetch(ctx, "get", key)
	if err != nil {
		return nil, err
	}
	return item.Value, nil
}

// fetch reads key's item with memcached's gets, which returns the CAS id
// along with the value, and words its errors for op.
func (s *Store) fetch(ctx context.Context, op, key string) (*memcache.Item, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("memcached: %s %s: %w", op, quoted(key), err)
	}
	detached, err := s.detach(ctx)
	var item *memcache.Item
	if err == nil {
		item, err = s.get(ctx, key, detached)
	}
	switch {
	case errors.Is(err, memcache.ErrCacheMiss):
		return nil, fmt.Errorf("memcached: %s %s: %w", op, quoted(key), core.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("memcached: %s %s: %w", op, quoted(key), err)
	}
	return item, nil
}

// get fetches key directly or, when detached, through run. The detached
// path is kept apart so that the direct one allocates nothing extra.
func (s *Store) get(ctx context.Context, key string, detached bool) (*memcache.Item, error) {
	if !detached {
		item, err := s.getAgain(key)
		return item, classify(err)
	}
	item, err := run(ctx, func() (*memcache.Item, error) { return s.getAgain(key) })
	return item, classify(err)
}

// getAgain gets key, again while again says so.
func (s *Store) getAgain(key string) (*memcache.Item, error) {
	start := time.Now()
	for tries := 1; ; tries++ {
		item, err := s.client.Get(key)
		if err == nil || !s.again(err, true, tries, start) {
			return item, err
		}
	}
}

// writeAgain makes a write, again while again says so: only when nothing
// was sent, as a write may not be applied twice.
func (s *Store) writeAgain(write func() error) error {
	start := time.Now()
	for tries := 1; ; tries++ {
		err := write()
		if err == nil || !s.again(err, false, tries, start) {
			return err
		}
	}
}

// Set implements core.Backend. See the package documentation for how ttl
// becomes memcached's expiration.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("memcached: set %s: %w", quoted(key), err)
	}
	item := &memcache.Item{Key: key, Value: value, Expiration: expiration(time.Now(), ttl)}
	err := s.store(ctx, (*memcache.Client).Set, item)
	switch {
	case errors.Is(err, ErrValueTooLarge):
		return fmt.Errorf("memcached: set %s (%d bytes): %w", quoted(key), len(value), err)
	case err != nil:
		return fmt.Errorf("memcached: set %s: %w", quoted(key), err)
	}
	return nil
}

// store sends item with write (set, add or cas), directly or, when ctx's
// deadline is nearer than the client's bound, through run. A detached write
// gets its own copy of the value: the caller may reuse the slice once run
// returns while the abandoned write is still sending it.
func (s *Store) store(ctx context.Context, write func(*memcache.Client, *memcache.Item) error, item *memcache.Item) error {
	detached, err := s.detach(ctx)
	switch {
	case err != nil:
		return err
	case !detached:
		return classify(s.writeItem(write, item))
	}
	item.Value = bytes.Clone(item.Value)
	_, err = run(ctx, noValue(func() error { return s.writeItem(write, item) }))
	return classify(err)
}

// writeItem sends item with write, again while again says so (without the
// closure that writeAgain would cost).
func (s *Store) writeItem(write func(*memcache.Client, *memcache.Item) error, item *memcache.Item) error {
	start := time.Now()
	for tries := 1; ; tries++ {
		err := write(s.client, item)
		if err == nil || !s.again(err, false, tries, start) {
			return err
		}
	}
}

// Delete implements core.Backend. Deleting an absent key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("memcached: delete %s: %w", quoted(key), err)
	}
	detached, err := s.detach(ctx)
	if err == nil {
		if detached {
			_, err = run(ctx, noValue(func() error {
				return s.writeAgain(func() error { return s.client.Delete(key) })
			}))
		} else {
			err = s.writeAgain(func() error { return s.client.Delete(key) })
		}
		err = classify(err)
	}
	if err != nil && !errors.Is(err, memcache.ErrCacheMiss) {
		return fmt.Errorf("memcached: delete %s: %w", quoted(key), err)
	}
	return nil
}

// Touch implements core.Toucher with memcached's touch command: it gives key
// a new ttl without rewriting its value. memcached keeps the item's CAS id,
// so a Touch between GetVersion and SetIf is no conflict (the value did not
// change). An absent key gives an error wrapping core.ErrNotFound.
func (s *Store) Touch(ctx context.Context, key string, ttl time.Duration) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("memcached: touch %s: %w", quoted(key), err)
	}
	detached, err := s.detach(ctx)
	if err == nil {
		exp := expiration(time.Now(), ttl)
		if detached {
			_, err = run(ctx, noValue(func() error {
				return s.writeAgain(func() error { return s.client.Touch(key, exp) })
			}))
		} else {
			err = s.writeAgain(func() error { return s.client.Touch(key, exp) })
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

// Close closes the idle connections of the client that Open built; calls
// in flight keep theirs until they finish. gomemcache lets a closed client
// dial again, so a call after Close still works on new connections. For a
// Store made by New, Close does nothing: the caller owns the client.
func (s *Store) Close() error {
	if !s.owned {
		return nil
	}
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("memcached: close: %w", err)
	}
	return nil
}
