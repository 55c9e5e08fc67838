package memcached

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
)

func TestSpreadOverServers(t *testing.T) {
	addrs := serverAddrs()
	if len(addrs) < 2 {
		t.Skipf("%s names %d server(s); the spread needs two", addrsEnv, len(addrs))
	}
	s := newTestStore(t)
	ctx := context.Background()
	const n = 100
	keys := make([]string, n)
	prefix := fmt.Sprintf("cloakroomtest:spread:%d:", time.Now().UnixNano())
	for i := range keys {
		keys[i] = fmt.Sprint(prefix, i)
		if err := s.Set(ctx, keys[i], []byte("v"), time.Minute); err != nil {
			t.Fatalf("Set(%q): %v", keys[i], err)
		}
	}
	t.Cleanup(func() {
		for _, k := range keys {
			_ = s.Delete(context.Background(), k)
		}
	})
	total := 0
	for _, a := range addrs {
		c := memcache.New(a) // one server only: counts what lives there
		found := 0
		for _, k := range keys {
			_, err := c.Get(k)
			switch {
			case err == nil:
				found++
			case !errors.Is(err, memcache.ErrCacheMiss):
				t.Fatalf("Get(%q) from %s: %v", k, a, err)
			}
		}
		_ = c.Close()
		t.Logf("%s holds %d of %d keys", a, found, n)
		if min := n / (2 * len(addrs)); found < min {
			t.Errorf("%s holds %d of %d keys, want at least %d", a, found, n, min)
		}
		total += found
	}
	if total != n {
		t.Errorf("the servers hold %d keys in all, want %d (each key on exactly one)", total, n)
	}
}
