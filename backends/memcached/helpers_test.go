package memcached

import (
	"context"
	"errors"
	"net"
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

// newTestStore returns a Store over every test server.
func newTestStore(t testing.TB) *Store {
	t.Helper()
	addrs := serverAddrs()
	requireServers(t, addrs)
	s, err := New(addrs...)
	if err != nil {
		t.Fatalf("New(%q): %v", addrs, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// closedAddr returns a loopback address on which nothing listens.
func closedAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// storeWithTimeout returns a Store over addrs whose client times out after d.
func storeWithTimeout(addrs []string, d time.Duration) *Store {
	c := memcache.New(addrs...)
	c.Timeout = d
	return NewFromClient(c)
}

// isContextErr reports whether err comes from a context.
func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
