package backendtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
)

// expirySlack is how far ExpiresAt may be from the expiry a write asked
// for, beyond the time the calls took: stores that count whole seconds
// round it.
const expirySlack = 2 * time.Second

// testExpirer checks core.Expirer: the expiry of a key set with a
// lifetime, without one, touched, absent and expired.
func testExpirer(t *testing.T, b core.Backend, eb core.Expirer, key string) {
	ctx := context.Background()
	// near checks that key expires ttl after a moment between from and now.
	near := func(what, key string, from time.Time, ttl time.Duration) {
		t.Helper()
		got, err := eb.ExpiresAt(ctx, key)
		to := time.Now()
		if err != nil {
			t.Fatalf("ExpiresAt %s: %v", what, err)
		}
		lo, hi := from.Add(ttl-expirySlack), to.Add(ttl+expirySlack)
		if got.Before(lo) || got.After(hi) {
			t.Errorf("ExpiresAt %s = %v, want between %v and %v", what, got, lo, hi)
		}
	}
	never := func(what, key string) {
		t.Helper()
		if got, err := eb.ExpiresAt(ctx, key); err != nil || !got.IsZero() {
			t.Errorf("ExpiresAt %s = %v, %v; want the zero time", what, got, err)
		}
	}
	absent := func(what, key string) {
		t.Helper()
		if got, err := eb.ExpiresAt(ctx, key); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("ExpiresAt %s = %v, %v; want ErrNotFound", what, got, err)
		}
	}

	from := time.Now()
	mustSet(t, b, key, []byte("hour"), time.Hour)
	near("of a key set for an hour", key, from, time.Hour)
	mustSet(t, b, key+":forever", []byte("forever"), 0)
	never("of a key set without expiry", key+":forever")
	absent("of an absent key", key+":absent")

	mustSet(t, b, key+":brief", []byte("brief"), time.Second)
	mustSet(t, b, key+":cleared", []byte("hour"), time.Hour)
	mustSet(t, b, key+":cleared", []byte("forever"), 0)
	never("of a key set for an hour, then without expiry", key+":cleared")

	if tb, ok := b.(core.Toucher); ok {
		from := time.Now()
		if err := tb.Touch(ctx, key, 2*time.Hour); err != nil {
			t.Fatalf("Touch: %v", err)
		}
		near("of a key touched for two hours", key, from, 2*time.Hour)
		if err := tb.Touch(ctx, key, 0); err != nil {
			t.Fatalf("Touch without expiry: %v", err)
		}
		never("of a key touched without expiry", key)
	}

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := eb.ExpiresAt(canceled, key+":forever"); err == nil || errors.Is(err, core.ErrNotFound) {
		t.Errorf("ExpiresAt with a canceled context: err = %v, want a context error", err)
	}

	time.Sleep(2500 * time.Millisecond)
	absent("of a key set for a second, 2.5 s later", key+":brief")
}
