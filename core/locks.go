package core

import (
	"context"
	"sync"
)

// keyLocks lets one save of a session at a time run in this process, so
// that concurrent requests of one browser take turns instead of failing
// each other's conditional writes again and again. A session maps to one of
// a fixed set of slots, so memory stays constant; unrelated sessions that
// share a slot only wait for each other's save. Waiting honours the
// context, so a stalled backend cannot hold a queue of requests forever.
type keyLocks struct {
	once  sync.Once
	slots [64]chan struct{}
}

// slot is one lock: a channel with room for one token.
type slot chan struct{}

// of returns the slot for a session id.
func (l *keyLocks) of(id string) slot {
	l.once.Do(func() {
		for i := range l.slots {
			l.slots[i] = make(chan struct{}, 1)
		}
	})
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * 16777619
	}
	return l.slots[h%uint32(len(l.slots))]
}

func (s slot) acquire(ctx context.Context) error {
	select {
	case s <- struct{}{}: // free: take it even if ctx is done meanwhile
		return nil
	default:
	}
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return backendError("save session", "", ctx.Err())
	}
}

func (s slot) release() { <-s }
