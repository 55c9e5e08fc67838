package memory

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
)

// TestExpiresAt: the expiry, kept on the store's clock, comes back as a
// wall time without a monotonic reading, and asking is not a use.
func TestExpiresAt(t *testing.T) {
	ctx := context.Background()
	s := New(Options{CleanupInterval: -1})
	defer s.Close()
	start := s.epoch
	now := start
	s.now = func() time.Time { return now }
	if err := s.Set(ctx, "k", []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "forever", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	now = start.Add(10 * time.Minute)
	got, err := s.ExpiresAt(ctx, "k")
	if want := start.Add(time.Hour).Round(0); err != nil || !got.Equal(want) || got != got.Round(0) {
		t.Fatalf("ExpiresAt = %v, %v; want %v, a wall time", got, err, want)
	}
	if e := storeEntry(s, "k"); e.uses != 0 || e.index >= 0 {
		t.Errorf("ExpiresAt counted as a use: uses %d, protected %v", e.uses, e.index >= 0)
	}
	if got, err := s.ExpiresAt(ctx, "forever"); err != nil || !got.IsZero() {
		t.Errorf("ExpiresAt of a key without expiry = %v, %v; want the zero time", got, err)
	}
	if _, err := s.ExpiresAt(ctx, "absent"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("ExpiresAt of an absent key: err = %v, want ErrNotFound", err)
	}
	now = start.Add(time.Hour)
	if _, err := s.ExpiresAt(ctx, "k"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("ExpiresAt of an expired key: err = %v, want ErrNotFound", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.ExpiresAt(canceled, "forever"); !errors.Is(err, context.Canceled) {
		t.Errorf("ExpiresAt with a canceled context: err = %v", err)
	}
}
