package keylock

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestOneHolderAtATime(t *testing.T) {
	var set Set
	var mu sync.Mutex
	holders, most := 0, 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				s := set.For("session")
				if !s.Acquire(context.Background(), time.Minute) {
					t.Error("gave up waiting")
					return
				}
				mu.Lock()
				holders++
				most = max(most, holders)
				mu.Unlock()
				mu.Lock()
				holders--
				mu.Unlock()
				s.Release()
			}
		}()
	}
	wg.Wait()
	if most != 1 {
		t.Fatalf("%d holders at once", most)
	}
}

func TestWaitIsBounded(t *testing.T) {
	var set Set
	s := set.For("k")
	if !s.Acquire(context.Background(), time.Second) {
		t.Fatal("a free slot was refused")
	}
	start := time.Now()
	if s.Acquire(context.Background(), 20*time.Millisecond) {
		t.Fatal("a held slot was taken")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("gave up after %v, patience 20ms", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if s.Acquire(ctx, time.Minute) {
		t.Fatal("a held slot was taken with a done context")
	}
	s.Release()
	if !s.Acquire(ctx, time.Minute) {
		t.Fatal("a free slot was refused to a done context")
	}
}

func TestMovingQueueIsWaitedOut(t *testing.T) {
	var set Set
	const holders = 10
	var wg sync.WaitGroup
	took := make(chan bool, holders)
	for range holders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := set.For("k")
			ok := s.Acquire(context.Background(), 150*time.Millisecond)
			took <- ok
			if ok {
				// Each holds for a sixth of the patience, which leaves
				// room for a loaded machine's scheduling delays.
				time.Sleep(25 * time.Millisecond)
				s.Release()
			}
		}()
	}
	wg.Wait()
	close(took)
	for ok := range took {
		if !ok {
			t.Fatal("a waiter gave up while the queue was moving (250ms of queue, 150ms patience)")
		}
	}
}

func TestWaitersAreServedInOrder(t *testing.T) {
	var set Set
	s := set.For("k")
	s.Acquire(context.Background(), time.Second)
	order := make(chan int, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s.Acquire(context.Background(), time.Minute) {
				order <- i
				s.Release()
			}
		}()
		waitQueued(t, s, i+1) // before the next one queues
	}
	s.Release()
	wg.Wait()
	close(order)
	want := 0
	for got := range order {
		if got != want {
			t.Fatalf("waiter %d served before waiter %d", got, want)
		}
		want++
	}
}

// waitQueued waits until n waiters are queued on s.
func waitQueued(t *testing.T, s *Slot, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		s.mu.Lock()
		queued := len(s.waiters)
		s.mu.Unlock()
		if queued == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d waiters queued after 5s, want %d", queued, n)
		}
	}
}
