//go:build unix && !solaris && !aix

package filesystem

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestLockExcludesWithinProcess checks that two Stores' locks on one key
// exclude each other although they are in one process. Each Store has its
// own in-process queues, so only flock excludes them here: it does because
// each lock call opens the lock file itself, and flock locks belong to the
// open file description, not to the process.
func TestLockExcludesWithinProcess(t *testing.T) {
	dir := t.TempDir()
	first, second := newStripeLocks(dir), newStripeLocks(dir) // as two Stores would
	unlock, err := first.lock(context.Background(), "session:a")
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := first.lock(ctx, "session:a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lock of a held key through the same locks: err = %v, want DeadlineExceeded", err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if _, err := second.lock(ctx2, "session:a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("lock of a held key through other locks on the folder: err = %v, want DeadlineExceeded", err)
	}

	got := make(chan error, 1)
	go func() {
		unlock2, err := second.lock(context.Background(), "session:a")
		if err == nil {
			unlock2()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("a waiter got the lock while it was held (err = %v)", err)
	case <-time.After(20 * time.Millisecond):
	}
	unlock()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("lock after release: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a waiter did not get the lock within 5s of its release")
	}
}

func TestStripesAreStable(t *testing.T) {
	// Other processes, and other versions of this package, map keys to
	// lock files the same way; these values must never change.
	for key, want := range map[string]int{"": 5, "session:a": 2, "session:b": 15} {
		if got := stripeOf(key); got != want {
			t.Errorf("stripeOf(%q) = %d, want %d", key, got, want)
		}
	}
	if got := lockName(7); got != ".lock-07" {
		t.Errorf("lockName(7) = %q", got)
	}
}
