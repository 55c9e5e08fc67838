// Package keylock lets one holder at a time work on a key. Each key that
// is held or waited for has a lock of its own, made on demand and dropped
// when nobody holds or waits for it, so unrelated keys never wait for each
// other and memory follows the keys in use, not the keys ever seen.
//
// Waiters are served in order, so none starves, and a wait gives up when
// the lock has not changed hands for a while: a holder stuck on a frozen
// server cannot make a queue wait out its timeout one after the other,
// while a queue that moves is waited out.
//
// A holder may leave a note for the next one (what it wrote, say); the
// note lives as long as the lock, so it reaches only holders that queued
// while an earlier one held the lock, never one that comes after a pause.
package keylock

import (
	"context"
	"sync"
	"time"
)

// Set is a set of locks, one per key in use. The zero value is ready to use.
type Set struct {
	shards [shards]shard
}

// shards spreads the keys over maps of their own, so that holders of
// different keys rarely even share a mutex for the moment they take or
// release their lock.
const shards = 32

// shard holds the locks of some keys.
type shard struct {
	mu    sync.Mutex
	locks map[string]*Lock
}

func (l *Set) shardOf(key string) *shard {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return &l.shards[h%shards]
}

// Lock is one key's lock with its queue of waiters.
type Lock struct {
	// Note is what a holder leaves for the next one; only the holder may
	// use it. It is forgotten with the lock when nobody waits.
	Note any

	// Guarded by the shard's mutex:
	sh      *shard
	key     string
	held    bool
	users   int       // the holder and the waiters; the lock is dropped at zero
	waiters []*waiter // in arrival order
	moves   uint64    // hand-overs so far, for waiters to tell a moving queue from a stuck one
}

// waiter is one caller waiting for a lock.
type waiter struct {
	ready  chan struct{} // closed when handed the lock, or when its job is done
	job    any           // what the holder may do in its stead; nil when it wants the lock
	served bool          // the holder took the job: ready means it is done
}

// Job is a waiter's work that the lock's holder took over with Serve.
type Job struct {
	Value any // what the waiter gave Join
	ready chan struct{}
}

// Done tells the waiter that its job is finished, whatever came of it.
func (j Job) Done() { close(j.ready) }

// Join takes key's lock. It waits its turn while the lock keeps changing
// hands, gives up once it has not for a patience (between one and two,
// precisely), or when ctx ends. It returns the lock when it took it, and
// nil when it gave up; only a returned lock must be released. A free lock
// is taken even if ctx is done.
//
// A caller whose work a holder may do along with its own gives it as job:
// while it waits, a holder may take it with Serve, and Join then returns
// served true, once the holder called the Job's Done, and no lock.
func (l *Set) Join(ctx context.Context, key string, patience time.Duration, job any) (k *Lock, served bool) {
	sh := l.shardOf(key)
	sh.mu.Lock()
	k = sh.locks[key]
	if k == nil {
		if sh.locks == nil {
			sh.locks = make(map[string]*Lock)
		}
		k = &Lock{sh: sh, key: key}
		sh.locks[key] = k
	}
	k.users++
	if !k.held {
		k.held = true
		sh.mu.Unlock()
		return k, false
	}
	w := &waiter{ready: make(chan struct{}), job: job}
	k.waiters = append(k.waiters, w)
	seen := k.moves
	sh.mu.Unlock()

	// Waiters are not told of every hand-over, which would wake them all
	// at each one: each looks when its patience runs out.
	t := time.NewTimer(patience)
	defer t.Stop()
	for {
		select {
		case <-w.ready:
			return k.outcome(w)
		case <-t.C:
			sh.mu.Lock()
			moved := k.moves != seen
			seen = k.moves
			sh.mu.Unlock()
			if moved {
				t.Reset(patience)
				continue
			}
		case <-ctx.Done():
		}
		if k.leave(w) {
			return nil, false
		}
		// Handed the lock, or its job taken, while giving up: the lock is
		// its own, or the job is as good as done.
		<-w.ready
		return k.outcome(w)
	}
}

// outcome is what Join returns once w is ready.
func (k *Lock) outcome(w *waiter) (*Lock, bool) {
	if w.served {
		return nil, true
	}
	return k, false
}

// leave takes w out of k's queue; it reports false when w was handed the
// lock or served meanwhile.
func (k *Lock) leave(w *waiter) bool {
	k.sh.mu.Lock()
	defer k.sh.mu.Unlock()
	for i, v := range k.waiters {
		if v == w {
			k.waiters = append(k.waiters[:i], k.waiters[i+1:]...)
			k.drop()
			return true
		}
	}
	return false
}

// Serve takes the jobs of the waiters queued for k that offered one (see
// Join), in their order, out of the queue. The caller, k's holder, must
// call each Job's Done once it is finished. Waiters without a job keep
// their place.
func (l *Set) Serve(k *Lock) []Job {
	k.sh.mu.Lock()
	defer k.sh.mu.Unlock()
	var jobs []Job
	kept := k.waiters[:0]
	for _, w := range k.waiters {
		if w.job == nil {
			kept = append(kept, w)
			continue
		}
		w.served = true
		k.drop()
		jobs = append(jobs, Job{Value: w.job, ready: w.ready})
	}
	clear(k.waiters[len(kept):])
	k.waiters = kept
	return jobs
}

// Release hands k to its first waiter, or frees it.
func (l *Set) Release(k *Lock) {
	k.sh.mu.Lock()
	defer k.sh.mu.Unlock()
	k.drop()
	if len(k.waiters) == 0 {
		k.held = false
		return
	}
	next := k.waiters[0]
	k.waiters = k.waiters[1:]
	k.moves++
	close(next.ready)
}

// drop counts one user less, and forgets k with its Note when it was the
// last. The caller holds the shard's mutex.
func (k *Lock) drop() {
	if k.users--; k.users == 0 {
		delete(k.sh.locks, k.key)
	}
}

// Queued reports whether anyone waits for k, so that its holder leaves a
// Note only when it will be read.
func (l *Set) Queued(k *Lock) bool {
	k.sh.mu.Lock()
	defer k.sh.mu.Unlock()
	return len(k.waiters) > 0
}

// Waiting returns the number of holders queued for key's lock.
func (l *Set) Waiting(key string) int {
	sh := l.shardOf(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if k := sh.locks[key]; k != nil {
		return len(k.waiters)
	}
	return 0
}

// Len returns the number of keys held or waited for.
func (l *Set) Len() int {
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n += len(sh.locks)
		sh.mu.Unlock()
	}
	return n
}
