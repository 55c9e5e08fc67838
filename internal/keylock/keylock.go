// Package keylock lets one holder at a time work on a key, with a fixed
// number of locks: keys map to one of 64 slots, so memory stays constant
// however many keys there are, and unrelated keys that share a slot only
// wait for each other. Waiting is bounded, so that a holder stuck on a
// frozen server cannot make a queue of callers wait in turn.
package keylock

import (
	"context"
	"sync"
	"time"
)

// Set is a set of slots. The zero value is ready to use.
type Set struct {
	once  sync.Once
	slots [64]chan struct{}
}

// Slot is one lock: a channel with room for one token.
type Slot chan struct{}

// For returns the slot of key.
func (l *Set) For(key string) Slot {
	l.once.Do(func() {
		for i := range l.slots {
			l.slots[i] = make(chan struct{}, 1)
		}
	})
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return l.slots[h%uint32(len(l.slots))]
}

// Acquire takes the slot, waiting at most patience, and less if ctx ends
// first. It reports whether it took the slot; only then must the caller
// Release it. A free slot is taken even if ctx is done.
func (s Slot) Acquire(ctx context.Context, patience time.Duration) bool {
	select {
	case s <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(patience)
	defer t.Stop()
	select {
	case s <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// Release frees the slot.
func (s Slot) Release() { <-s }
