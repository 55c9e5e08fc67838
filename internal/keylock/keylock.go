// Package keylock lets one holder at a time work on a key, with a fixed
// number of locks: keys map to one of 64 slots, so memory stays constant
// however many keys there are, and unrelated keys that share a slot only
// wait for each other. Waiters are served in order, so none starves, and a
// wait gives up when the slot has not changed hands for a while: a holder
// stuck on a frozen server cannot make a queue wait out its timeout one
// after the other, while a queue that moves is waited out.
package keylock

import (
	"context"
	"sync"
	"time"
)

// Set is a set of slots. The zero value is ready to use.
type Set struct {
	slots [64]Slot
}

// Slot is one lock with its queue of waiters.
type Slot struct {
	mu      sync.Mutex
	held    bool
	waiters []chan struct{} // in arrival order; closed when handed the slot
	moved   chan struct{}   // closed at every hand-over, then replaced
}

// For returns the slot of key.
func (l *Set) For(key string) *Slot {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return &l.slots[h%uint32(len(l.slots))]
}

// Acquire takes the slot. It waits its turn while the slot keeps changing
// hands, gives up once it has not for patience, or when ctx ends, and
// reports whether it took the slot; only then must the caller Release it.
// A free slot is taken even if ctx is done.
func (s *Slot) Acquire(ctx context.Context, patience time.Duration) bool {
	s.mu.Lock()
	if !s.held {
		s.held = true
		s.mu.Unlock()
		return true
	}
	turn := make(chan struct{})
	s.waiters = append(s.waiters, turn)
	if s.moved == nil {
		s.moved = make(chan struct{})
	}
	moved := s.moved
	s.mu.Unlock()

	t := time.NewTimer(patience)
	defer t.Stop()
	for {
		select {
		case <-turn:
			return true
		case <-moved:
			s.mu.Lock()
			moved = s.moved // nil once no hand-over is left to watch: the turn comes next
			s.mu.Unlock()
			t.Reset(patience)
			continue
		case <-t.C:
		case <-ctx.Done():
		}
		if s.leave(turn) {
			return false
		}
		return true // handed the slot while giving up: it is ours
	}
}

// leave takes turn out of the queue; it reports false when turn was
// handed the slot meanwhile.
func (s *Slot) leave(turn chan struct{}) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, w := range s.waiters {
		if w == turn {
			s.waiters = append(s.waiters[:i], s.waiters[i+1:]...)
			return true
		}
	}
	return false
}

// Release hands the slot to the first waiter, or frees it.
func (s *Slot) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.moved != nil {
		close(s.moved)
		s.moved = nil
	}
	if len(s.waiters) == 0 {
		s.held = false
		return
	}
	next := s.waiters[0]
	s.waiters = s.waiters[1:]
	if len(s.waiters) > 0 {
		s.moved = make(chan struct{}) // for those still waiting to see the next hand-over
	}
	close(next)
}
