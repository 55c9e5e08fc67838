// Package keylock lets one holder at a time work on a key, with a fixed
// number of locks: keys map to one of 64 slots, so memory stays constant
// however many keys there are, and unrelated keys that share a slot only
// wait for each other. A wait gives up when the slot has not changed hands
// for a while, so that a holder stuck on a frozen server cannot make a
// queue of callers wait out its timeout one after the other, while a queue
// that moves is waited out.
package keylock

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Set is a set of slots. The zero value is ready to use.
type Set struct {
	once  sync.Once
	slots [64]Slot
}

// Slot is one lock.
type Slot struct {
	token    chan struct{}  // room for one holder
	releases *atomic.Uint64 // counts hand-overs, to tell a moving queue from a stuck holder
}

// For returns the slot of key.
func (l *Set) For(key string) Slot {
	l.once.Do(func() {
		for i := range l.slots {
			l.slots[i] = Slot{token: make(chan struct{}, 1), releases: new(atomic.Uint64)}
		}
	})
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return l.slots[h%uint32(len(l.slots))]
}

// Acquire takes the slot. It waits while the slot keeps changing hands,
// gives up once it has not for patience, or when ctx ends, and reports
// whether it took the slot; only then must the caller Release it. A free
// slot is taken even if ctx is done.
func (s Slot) Acquire(ctx context.Context, patience time.Duration) bool {
	select {
	case s.token <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(patience)
	defer t.Stop()
	seen := s.releases.Load()
	for {
		select {
		case s.token <- struct{}{}:
			return true
		case <-ctx.Done():
			return false
		case <-t.C:
			now := s.releases.Load()
			if now == seen {
				return false // the holder is stuck
			}
			seen = now
			t.Reset(patience)
		}
	}
}

// Release frees the slot.
func (s Slot) Release() {
	s.releases.Add(1)
	<-s.token
}
