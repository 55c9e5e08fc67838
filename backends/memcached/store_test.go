package memcached

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// TestConformance runs the kit, Conditional included, against a Store over
// every test server at once, so that keys (and their CAS ids) live on both.
func TestConformance(t *testing.T) {
	backendtest.Run(t, newTestStore(t))
}

// TestConformanceEachServer runs the kit against each server alone.
func TestConformanceEachServer(t *testing.T) {
	for _, addr := range serverAddrs() {
		t.Run(addr, func(t *testing.T) {
			backendtest.Run(t, openTestStore(t, []string{addr}))
		})
	}
}

func TestLongTTLIsReadable(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	key := uniqueKey("longttl")
	const forty = 40 * 24 * time.Hour
	if err := s.Set(ctx, key, []byte("forty days"), forty); err != nil {
		t.Fatalf("Set: %v", err)
	}
	t.Cleanup(func() { _ = s.Delete(ctx, key) })
	got, err := s.Get(ctx, key)
	if err != nil || string(got) != "forty days" {
		t.Fatalf("Get after a 40-day Set = %q, %v; want the value (ttl read as a past Unix time?)", got, err)
	}
	if err := s.Touch(ctx, key, forty); err != nil {
		t.Fatalf("Touch with a 40-day ttl: %v", err)
	}
	if _, err := s.Get(ctx, key); err != nil {
		t.Fatalf("Get after a 40-day Touch: %v", err)
	}
	_, v, err := s.GetVersion(ctx, key)
	if err != nil {
		t.Fatalf("GetVersion: %v", err)
	}
	if err := s.SetIf(ctx, key, v, []byte("swapped"), forty); err != nil {
		t.Fatalf("SetIf with a 40-day ttl: %v", err)
	}
	if got, err := s.Get(ctx, key); err != nil || string(got) != "swapped" {
		t.Fatalf("Get after a 40-day SetIf = %q, %v; want \"swapped\"", got, err)
	}
	created := key + ":created"
	if err := s.SetIf(ctx, created, nil, []byte("new"), forty); err != nil {
		t.Fatalf("SetIf(nil) with a 40-day ttl: %v", err)
	}
	t.Cleanup(func() { _ = s.Delete(ctx, created) })
	if _, err := s.Get(ctx, created); err != nil {
		t.Fatalf("Get after a 40-day SetIf(nil): %v", err)
	}
}

// TestShortTTLNotExpiredAtOnce sets 1-second keys for two seconds, reading
// each back 5 ms later, so that memcached's once-a-second clock tick falls
// between a Set and its Get: no key may be gone by then.
func TestShortTTLNotExpiredAtOnce(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	key := uniqueKey("shortttl")
	t.Cleanup(func() { _ = s.Delete(ctx, key) })
	for end := time.Now().Add(2100 * time.Millisecond); time.Now().Before(end); {
		if err := s.Set(ctx, key, []byte("v"), time.Second); err != nil {
			t.Fatalf("Set: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
		if _, err := s.Get(ctx, key); err != nil {
			t.Fatalf("Get 5 ms after a Set with a 1 s ttl: %v", err)
		}
	}
}

func TestSubSecondTTLExpires(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	key := uniqueKey("subsecond")
	if err := s.Set(ctx, key, []byte("v"), 10*time.Millisecond); err != nil {
		t.Fatalf("Set: %v", err)
	}
	t.Cleanup(func() { _ = s.Delete(ctx, key) })
	time.Sleep(2100 * time.Millisecond)
	if _, err := s.Get(ctx, key); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("Get 2 s after a 10 ms ttl: err = %v, want ErrNotFound (ttl sent as 0 = never?)", err)
	}
}

func TestValueTooLarge(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	key := uniqueKey("huge")
	huge := bytes.Repeat([]byte("x"), 2<<20)
	if err := s.Set(ctx, key, huge, time.Minute); !errors.Is(err, ErrValueTooLarge) {
		t.Fatalf("Set of 2 MiB: err = %v, want ErrValueTooLarge", err)
	}
	if err := s.SetIf(ctx, key, nil, huge, time.Minute); !errors.Is(err, ErrValueTooLarge) {
		t.Fatalf("SetIf(nil) of 2 MiB: err = %v, want ErrValueTooLarge", err)
	}
	// The connection that carried the refusal must not poison the next call.
	if err := s.Set(ctx, key, []byte("small"), time.Minute); err != nil {
		t.Fatalf("Set after a refused value: %v", err)
	}
	t.Cleanup(func() { _ = s.Delete(ctx, key) })
	_, v, err := s.GetVersion(ctx, key)
	if err != nil {
		t.Fatalf("GetVersion: %v", err)
	}
	if err := s.SetIf(ctx, key, v, huge, time.Minute); !errors.Is(err, ErrValueTooLarge) {
		t.Fatalf("SetIf of 2 MiB: err = %v, want ErrValueTooLarge", err)
	}
	if got, err := s.Get(ctx, key); err != nil || string(got) != "small" {
		t.Fatalf("Get after a refused SetIf = %q, %v; want \"small\"", got, err)
	}
}

// everyCall runs each method of a Store once on key, returning their errors
// by name.
func everyCall(ctx context.Context, s *Store, key string) map[string]error {
	_, getErr := s.Get(ctx, key)
	_, _, getVersionErr := s.GetVersion(ctx, key)
	version := core.Version{0, 0, 0, 0, 0, 0, 0, 1}
	return map[string]error{
		"Get":        getErr,
		"Set":        s.Set(ctx, key, []byte("v"), time.Minute),
		"Delete":     s.Delete(ctx, key),
		"Touch":      s.Touch(ctx, key, time.Minute),
		"GetVersion": getVersionErr,
		"SetIf(nil)": s.SetIf(ctx, key, nil, []byte("v"), time.Minute),
		"SetIf":      s.SetIf(ctx, key, version, []byte("v"), time.Minute),
		"DeleteIf":   s.DeleteIf(ctx, key, version),
	}
}

func TestInvalidKeysNoIO(t *testing.T) {
	// Nothing listens on the address: any I/O would give a network error.
	s := storeWithTimeout(t, []string{backendtest.ClosedAddr(t)}, 200*time.Millisecond)
	keys := map[string]string{
		"empty":      "",
		"too long":   strings.Repeat("k", MaxKeyLength+1),
		"space":      "session: abc",
		"newline":    "session:abc\r\nflush_all",
		"tab":        "a\tb",
		"nul":        "a\x00b",
		"del (0x7f)": "a\x7fb",
	}
	for name, key := range keys {
		t.Run(name, func(t *testing.T) {
			for op, err := range everyCall(context.Background(), s, key) {
				if !errors.Is(err, ErrInvalidKey) {
					t.Errorf("%s: err = %v, want ErrInvalidKey", op, err)
				}
				if err != nil && len(err.Error()) > 200 {
					t.Errorf("%s: error message of %d bytes is too long", op, len(err.Error()))
				}
			}
		})
	}
	if err := checkKey(strings.Repeat("k", MaxKeyLength)); err != nil {
		t.Errorf("a %d-byte key: %v, want accepted", MaxKeyLength, err)
	}
	if err := checkKey("session:héllo"); err != nil {
		t.Errorf("a UTF-8 key: %v, want accepted", err)
	}
}

func TestUnreachable(t *testing.T) {
	s := storeWithTimeout(t, []string{backendtest.ClosedAddr(t)}, 200*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	start := time.Now()
	for op, err := range everyCall(ctx, s, "cloakroomtest:unreachable") {
		switch {
		case err == nil, errors.Is(err, core.ErrNotFound), errors.Is(err, core.ErrConflict):
			t.Errorf("%s on a closed port: err = %v, want a connection error", op, err)
		case !strings.HasPrefix(err.Error(), "memcached: "):
			t.Errorf("%s: error %q does not name the backend", op, err)
		}
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("eight calls on a closed port took %v", d)
	}
}

func TestErrorNamesKeyAndOperation(t *testing.T) {
	s := newTestStore(t)
	key := "cloakroomtest:absent:" + fmt.Sprint(time.Now().UnixNano())
	_, err := s.Get(context.Background(), key)
	if err == nil || !strings.HasPrefix(err.Error(), "memcached: get \"cloakroomtest:absent:") {
		t.Fatalf("Get of an absent key: err = %v, want it to name the operation and key", err)
	}
	_, _, err = s.GetVersion(context.Background(), key)
	if err == nil || !strings.HasPrefix(err.Error(), "memcached: getversion \"cloakroomtest:absent:") {
		t.Fatalf("GetVersion of an absent key: err = %v, want it to name the operation and key", err)
	}
}
