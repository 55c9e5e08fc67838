package memory_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

func TestConformance(t *testing.T) {
	s := memory.New(memory.Options{})
	t.Cleanup(func() { s.Close() })
	backendtest.Run(t, s)
}

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{MaxEntries: 16, CleanupInterval: -1}) // one key per shard
	defer s.Close()
	for i := range 1000 {
		if err := s.Set(ctx, fmt.Sprint(i), []byte("v"), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.Len(); n > 16 {
		t.Fatalf("Len = %d after 1000 writes, want at most 16", n)
	}
	if _, err := s.Get(ctx, "999"); err != nil {
		t.Fatalf("the most recent key was evicted: %v", err)
	}
}

func TestSweeperRemovesExpired(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{CleanupInterval: 10 * time.Millisecond})
	defer s.Close()
	_ = s.Set(ctx, "gone", []byte("v"), 20*time.Millisecond)
	_ = s.Set(ctx, "kept", []byte("v"), time.Hour)
	deadline := time.Now().Add(5 * time.Second)
	for s.Len() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("Len = %d, want 1: the sweeper did not remove the expired key", s.Len())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := s.Get(ctx, "gone"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("Get(gone) err = %v", err)
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	s := memory.New(memory.Options{})
	s.Close()
	s.Close()
	if err := s.Set(context.Background(), "k", []byte("v"), 0); err != nil {
		t.Fatalf("Set after Close: %v", err)
	}
}

// BenchmarkSessionWrites: 50 goroutines saving one session, conditional
// (the default) against the blind last-save-wins write.
func BenchmarkSessionWrites(b *testing.B) {
	s := memory.New(memory.Options{})
	b.Cleanup(func() { s.Close() })
	b.Run("Conditional", func(b *testing.B) { backendtest.BenchmarkSessionWrites(b, s) })
	b.Run("Blind", func(b *testing.B) { backendtest.BenchmarkSessionWrites(b, backendtest.Plain(s)) })
}
