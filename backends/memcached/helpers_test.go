package memcached

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/cloakroom/cloakroom/core/backendtest"
)

const addrsEnv = "CLOAKROOM_MEMCACHED_ADDRS"

// serverAddrs returns the test servers' addresses from addrsEnv.
func serverAddrs() []string {
	var addrs []string
	for _, a := range strings.Split(backendtest.Env(addrsEnv, "127.0.0.1:11211,127.0.0.1:11212"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	return addrs
}

// requireServers pings every address and skips (or fails under
// CLOAKROOM_REQUIRE_SERVICES) when one does not answer.
func requireServers(t testing.TB, addrs []string) {
	t.Helper()
	for _, a := range addrs {
		c := memcache.New(a)
		c.Timeout = time.Second
		err := c.Ping()
		_ = c.Close()
		if err != nil {
			backendtest.Unavailable(t, "memcached at "+a+" ("+addrsEnv+")", err)
		}
	}
}

// newTestStore returns a Store opened over every test server.
func newTestStore(t testing.TB) *Store {
	t.Helper()
	return openTestStore(t, serverAddrs())
}

// openTestStore returns a Store opened over addrs, closed with the test.
func openTestStore(t testing.TB, addrs []string) *Store {
	t.Helper()
	requireServers(t, addrs)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := Open(ctx, strings.Join(addrs, ","), Options{})
	if err != nil {
		t.Fatalf("Open(%q): %v", addrs, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// storeWithTimeout returns a Store made by New over addrs whose client
// times out after d. The test owns the client and closes it at the end.
func storeWithTimeout(t testing.TB, addrs []string, d time.Duration) *Store {
	c := memcache.New(addrs...)
	c.Timeout = d
	t.Cleanup(func() { _ = c.Close() })
	return New(c, Options{})
}

// uniqueKey returns a key no other test or run uses.
func uniqueKey(name string) string {
	return "cloakroomtest:" + name + ":" + time.Now().Format("150405.000000000")
}

// isContextErr reports whether err comes from a context.
func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
