// Package backendtest is the conformance suite every cloakroom backend
// passes. A backend module calls Run from its own tests against a real
// server:
//
//	func TestConformance(t *testing.T) {
//		backendtest.Run(t, newBackend(t))
//	}
package backendtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
)

// RequireServicesEnv names the environment variable that turns a missing
// test server from a skip into a failure. CI sets it to 1.
const RequireServicesEnv = "CLOAKROOM_REQUIRE_SERVICES"

// Unavailable skips the test because a server it needs could not be reached,
// naming what to start; when RequireServicesEnv is set it fails instead.
func Unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv(RequireServicesEnv) != "" {
		t.Fatalf("%s is required (%s=1) but unreachable: %v", what, RequireServicesEnv, err)
	}
	t.Skipf("%s unreachable (%v); start it with `make services` or set its address", what, err)
}

// Env returns the environment variable name's value, or def when unset.
func Env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Run checks that b behaves as core.Backend and the optional capabilities
// it implements require. Every key it writes starts with a random prefix, so
// a shared server is safe to use.
func Run(t *testing.T, b core.Backend) {
	prefix := "cloakroomtest:" + randomHex(6) + ":"
	key := func(t *testing.T) string { return prefix + t.Name() }
	t.Run("GetAbsent", func(t *testing.T) {
		t.Parallel()
		_, err := b.Get(context.Background(), key(t))
		if !errors.Is(err, core.ErrNotFound) {
			t.Fatalf("Get of an absent key: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("SetGet", func(t *testing.T) { t.Parallel(); testSetGet(t, b, key(t)) })
	t.Run("Overwrite", func(t *testing.T) { t.Parallel(); testOverwrite(t, b, key(t)) })
	t.Run("Delete", func(t *testing.T) { t.Parallel(); testDelete(t, b, key(t)) })
	t.Run("LargeValue", func(t *testing.T) { t.Parallel(); testLargeValue(t, b, key(t)) })
	t.Run("Expiry", func(t *testing.T) { t.Parallel(); testExpiry(t, b, key(t)) })
	t.Run("NoExpiry", func(t *testing.T) { t.Parallel(); testNoExpiry(t, b, key(t)) })
	t.Run("CanceledContext", func(t *testing.T) { t.Parallel(); testCanceled(t, b, key(t)) })
	t.Run("Concurrent", func(t *testing.T) { t.Parallel(); testConcurrent(t, b, key(t)) })
	optional(t, "Touch", b, func(t *testing.T, tb core.Toucher) { testTouch(t, b, tb, key(t)) })
	optional(t, "Keys", b, func(t *testing.T, lb core.Lister) { testKeys(t, b, lb, key(t)) })
	optional(t, "Expirer", b, func(t *testing.T, eb core.Expirer) { testExpirer(t, b, eb, key(t)) })
	t.Run("Sessions", func(t *testing.T) { t.Parallel(); testSessions(t, b, prefix+"sessions:") })
	t.Run("Users", func(t *testing.T) { t.Parallel(); testUsers(t, b, prefix+"users:") })
	t.Run("SessionExpiry", func(t *testing.T) { t.Parallel(); testSessionExpiry(t, b, prefix+"expiry:") })
	t.Run("Conditional", func(t *testing.T) {
		cb, ok := b.(core.Conditional)
		if !ok {
			t.Skip("backend does not implement core.Conditional")
		}
		runConditional(t, cb, key)
	})
	t.Run("Concurrency", func(t *testing.T) {
		if _, ok := b.(core.Conditional); !ok {
			t.Skip("backend does not implement core.Conditional: the last save wins")
		}
		RunConcurrency(t, func() *core.Manager {
			m := core.NewManager(b)
			m.KeyPrefix = prefix + "concurrency:"
			return m
		})
	})
}

// optional runs check on b as a T in a parallel subtest named name, which
// is skipped when b does not implement T: backends need not have every
// optional capability.
func optional[T any](t *testing.T, name string, b core.Backend, check func(*testing.T, T)) {
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		x, ok := b.(T)
		if !ok {
			t.Skipf("backend does not implement %v", reflect.TypeFor[T]())
		}
		check(t, x)
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func mustSet(t *testing.T, b core.Backend, key string, value []byte, ttl time.Duration) {
	t.Helper()
	if err := b.Set(context.Background(), key, value, ttl); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
	t.Cleanup(func() { _ = b.Delete(context.Background(), key) })
}

func wantValue(t *testing.T, b core.Backend, key string, want []byte) {
	t.Helper()
	got, err := b.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %q, want %q", key, got, want)
	}
}

func wantAbsent(t *testing.T, b core.Backend, key string) {
	t.Helper()
	if got, err := b.Get(context.Background(), key); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("Get(%q) = %q, %v; want ErrNotFound", key, got, err)
	}
}

func testSetGet(t *testing.T, b core.Backend, key string) {
	value := []byte("{\"k\":\"v\"}\x00\xff binary-safe")
	mustSet(t, b, key, value, time.Hour)
	wantValue(t, b, key, value)
	value[0] = 'X' // the backend must have kept its own copy
	wantValue(t, b, key, []byte("{\"k\":\"v\"}\x00\xff binary-safe"))
}

func testOverwrite(t *testing.T, b core.Backend, key string) {
	mustSet(t, b, key, []byte("first"), time.Hour)
	mustSet(t, b, key, []byte("second"), time.Hour)
	wantValue(t, b, key, []byte("second"))
}

func testDelete(t *testing.T, b core.Backend, key string) {
	ctx := context.Background()
	mustSet(t, b, key, []byte("x"), time.Hour)
	if err := b.Delete(ctx, key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantAbsent(t, b, key)
	if err := b.Delete(ctx, key); err != nil {
		t.Fatalf("Delete of an absent key: %v, want nil", err)
	}
}

func testLargeValue(t *testing.T, b core.Backend, key string) {
	value := bytes.Repeat([]byte("0123456789abcdef"), 256<<10/16) // 256 KiB
	mustSet(t, b, key, value, time.Hour)
	wantValue(t, b, key, value)
}

func testExpiry(t *testing.T, b core.Backend, key string) {
	mustSet(t, b, key, []byte("short"), time.Second)
	mustSet(t, b, key+":long", []byte("long"), time.Hour)
	wantValue(t, b, key, []byte("short"))
	time.Sleep(2100 * time.Millisecond)
	wantAbsent(t, b, key)
	wantValue(t, b, key+":long", []byte("long"))
}

func testNoExpiry(t *testing.T, b core.Backend, key string) {
	mustSet(t, b, key, []byte("forever"), 0)
	time.Sleep(1100 * time.Millisecond)
	wantValue(t, b, key, []byte("forever"))
}

func testCanceled(t *testing.T, b core.Backend, key string) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Set(ctx, key, []byte("x"), time.Hour); err == nil {
		t.Error("Set with a canceled context succeeded")
	}
	if _, err := b.Get(ctx, key); err == nil || errors.Is(err, core.ErrNotFound) {
		t.Errorf("Get with a canceled context: err = %v, want a context error", err)
	}
	if err := b.Delete(ctx, key); err == nil {
		t.Error("Delete with a canceled context succeeded")
	}
	wantAbsent(t, b, key)
}

func testConcurrent(t *testing.T, b core.Backend, key string) {
	const workers, rounds = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := fmt.Sprintf("%s:%d", key, w)
			defer func() { _ = b.Delete(context.Background(), k) }()
			for i := range rounds {
				want := fmt.Appendf(nil, "%d-%d", w, i)
				if err := b.Set(context.Background(), k, want, time.Minute); err != nil {
					errs <- err
					return
				}
				got, err := b.Get(context.Background(), k)
				if err != nil || !bytes.Equal(got, want) {
					errs <- fmt.Errorf("Get(%q) = %q, %v; want %q", k, got, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func testTouch(t *testing.T, b core.Backend, tb core.Toucher, key string) {
	ctx := context.Background()
	mustSet(t, b, key, []byte("kept"), time.Second)
	if err := tb.Touch(ctx, key, time.Hour); err != nil {
		t.Fatalf("Touch: %v", err)
	}
	time.Sleep(2100 * time.Millisecond)
	wantValue(t, b, key, []byte("kept"))
	if err := tb.Touch(ctx, key+":absent", time.Hour); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("Touch of an absent key: err = %v, want ErrNotFound", err)
	}
	wantAbsent(t, b, key+":absent")
}

func testKeys(t *testing.T, b core.Backend, lb core.Lister, key string) {
	want := []string{key + ":a", key + ":b", key + ":c"}
	for _, k := range want {
		mustSet(t, b, k, []byte("v"), time.Hour)
	}
	mustSet(t, b, "other:"+key, []byte("v"), time.Hour)
	var got []string
	for k, err := range lb.Keys(context.Background(), key+":") {
		if err != nil {
			t.Fatalf("Keys: %v", err)
		}
		got = append(got, k)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("Keys(%q) = %q, want %q", key+":", got, want)
	}
}
