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

func TestConformance(t *testing.T) {
	backendtest.Run(t, newTestStore(t))
}

func TestLongTTLIsReadable(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	key := "cloakroomtest:longttl:" + time.Now().Format("150405.000000000")
	if err := s.Set(ctx, key, []byte("forty days"), 40*24*time.Hour); err != nil {
		t.Fatalf("Set: %v", err)
	}
	t.Cleanup(func() { _ = s.Delete(ctx, key) })
	got, err := s.Get(ctx, key)
	if err != nil || string(got) != "forty days" {
		t.Fatalf("Get after a 40-day Set = %q, %v; want the value (ttl read as a past Unix time?)", got, err)
	}
	if err := s.Touch(ctx, key, 40*24*time.Hour); err != nil {
		t.Fatalf("Touch with a 40-day ttl: %v", err)
	}
	if _, err := s.Get(ctx, key); err != nil {
		t.Fatalf("Get after a 40-day Touch: %v", err)
	}
}

// TestShortTTLNotExpiredAtOnce sets 1-second keys for two seconds, reading
// each back 5 ms later, so that memcached's once-a-second clock tick falls
// between a Set and its Get: no key may be gone by then.
func TestShortTTLNotExpiredAtOnce(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	key := "cloakroomtest:shortttl:" + time.Now().Format("150405.000000000")
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
	key := "cloakroomtest:subsecond:" + time.Now().Format("150405.000000000")
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
	key := "cloakroomtest:huge:" + time.Now().Format("150405.000000000")
	err := s.Set(ctx, key, bytes.Repeat([]byte("x"), 2<<20), time.Minute)
	if !errors.Is(err, ErrValueTooLarge) {
		t.Fatalf("Set of 2 MiB: err = %v, want ErrValueTooLarge", err)
	}
	// The connection that carried the refusal must not poison the next call.
	if err := s.Set(ctx, key, []byte("small"), time.Minute); err != nil {
		t.Fatalf("Set after a refused value: %v", err)
	}
	_ = s.Delete(ctx, key)
}

func TestInvalidKeysNoIO(t *testing.T) {
	// Nothing listens on the address: any I/O would give a network error.
	s := storeWithTimeout([]string{closedAddr(t)}, 200*time.Millisecond)
	ctx := context.Background()
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
			_, getErr := s.Get(ctx, key)
			errs := map[string]error{
				"Get":    getErr,
				"Set":    s.Set(ctx, key, []byte("v"), time.Minute),
				"Delete": s.Delete(ctx, key),
				"Touch":  s.Touch(ctx, key, time.Minute),
			}
			for op, err := range errs {
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
	s := storeWithTimeout([]string{closedAddr(t)}, 200*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, getErr := s.Get(ctx, "cloakroomtest:unreachable")
	errs := map[string]error{
		"Get":    getErr,
		"Set":    s.Set(ctx, "cloakroomtest:unreachable", []byte("v"), time.Minute),
		"Delete": s.Delete(ctx, "cloakroomtest:unreachable"),
		"Touch":  s.Touch(ctx, "cloakroomtest:unreachable", time.Minute),
	}
	for op, err := range errs {
		if err == nil || errors.Is(err, core.ErrNotFound) {
			t.Errorf("%s on a closed port: err = %v, want a connection error", op, err)
		} else if !strings.HasPrefix(err.Error(), "memcached: ") {
			t.Errorf("%s: error %q does not name the backend", op, err)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("four calls on a closed port took %v", d)
	}
}

func TestNew(t *testing.T) {
	if _, err := New(); err == nil {
		t.Error("New() with no servers succeeded")
	}
	if _, err := New("127.0.0.1:notaport"); err == nil {
		t.Error("New with a bad address succeeded")
	}
	s, err := New("127.0.0.1:11211", "/tmp/memcached.sock")
	if err != nil {
		t.Fatalf("New with a TCP and a Unix address: %v", err)
	}
	if s.timeout <= 0 {
		t.Errorf("timeout = %v, want the client default", s.timeout)
	}
}

func TestErrorNamesKeyAndOperation(t *testing.T) {
	s := newTestStore(t)
	_, err := s.Get(context.Background(), "cloakroomtest:absent:"+fmt.Sprint(time.Now().UnixNano()))
	if err == nil || !strings.HasPrefix(err.Error(), "memcached: get \"cloakroomtest:absent:") {
		t.Fatalf("Get of an absent key: err = %v, want it to name the operation and key", err)
	}
}
