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
				k := acquire(context.Background(), &set, "session", time.Minute)
				if k == nil {
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
				set.Release(k)
			}
		}()
	}
	wg.Wait()
	if most != 1 {
		t.Fatalf("%d holders at once", most)
	}
	if n := set.Len(); n != 0 {
		t.Fatalf("%d locks kept after every holder left", n)
	}
}

func TestUnrelatedKeysNeverWait(t *testing.T) {
	var set Set
	// Far more keys than the 64 slots keys used to share: each is free.
	var held []*Lock
	for i := range 1000 {
		k := acquire(context.Background(), &set, string(rune(i))+"key", time.Nanosecond)
		if k == nil {
			t.Fatalf("key %d waited for another key's holder", i)
		}
		held = append(held, k)
	}
	if n := set.Len(); n != 1000 {
		t.Fatalf("%d locks for 1000 held keys", n)
	}
	for _, k := range held {
		set.Release(k)
	}
	if n := set.Len(); n != 0 {
		t.Fatalf("%d locks kept after release", n)
	}
}

func TestWaitIsBounded(t *testing.T) {
	var set Set
	k := acquire(context.Background(), &set, "k", time.Second)
	if k == nil {
		t.Fatal("a free lock was refused")
	}
	start := time.Now()
	if acquire(context.Background(), &set, "k", 20*time.Millisecond) != nil {
		t.Fatal("a held lock was taken")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("gave up after %v, patience 20ms", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if acquire(ctx, &set, "k", time.Minute) != nil {
		t.Fatal("a held lock was taken with a done context")
	}
	set.Release(k)
	if n := set.Len(); n != 0 {
		t.Fatalf("%d locks kept after the waiters gave up and the holder left", n)
	}
	if acquire(ctx, &set, "k", time.Minute) == nil {
		t.Fatal("a free lock was refused to a done context")
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
			k := acquire(context.Background(), &set, "k", 150*time.Millisecond)
			took <- k != nil
			if k != nil {
				// Each holds for a sixth of the patience, which leaves
				// room for a loaded machine's scheduling delays.
				time.Sleep(25 * time.Millisecond)
				set.Release(k)
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
	k := acquire(context.Background(), &set, "k", time.Second)
	order := make(chan int, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if k := acquire(context.Background(), &set, "k", time.Minute); k != nil {
				order <- i
				set.Release(k)
			}
		}()
		waitQueued(t, &set, k, i+1) // before the next one queues
	}
	set.Release(k)
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

func TestNoteReachesOnlyQueuedHolders(t *testing.T) {
	var set Set
	k := acquire(context.Background(), &set, "k", time.Second)
	got := make(chan any)
	go func() {
		next := acquire(context.Background(), &set, "k", time.Minute)
		note := next.Note
		next.Note = "second"
		set.Release(next) // before telling, so that nobody queues behind it
		got <- note
	}()
	waitQueued(t, &set, k, 1)
	k.Note = "first"
	set.Release(k)
	if note := <-got; note != "first" {
		t.Fatalf("the waiter found note %v, want the holder's", note)
	}
	// Nobody waited for the second holder: its note went with the lock.
	later := acquire(context.Background(), &set, "k", time.Second)
	defer set.Release(later)
	if later.Note != nil {
		t.Fatalf("a holder that came after the queue emptied found note %v", later.Note)
	}
}

// waitQueued waits until n waiters are queued on k.
func waitQueued(t *testing.T, set *Set, k *Lock, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		queued := set.Waiting(k.key)
		if queued == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d waiters queued after 5s, want %d", queued, n)
		}
	}
}

func TestHolderServesJoinedWaiters(t *testing.T) {
	var set Set
	k := acquire(context.Background(), &set, "k", time.Second)
	type result struct {
		i      int
		served bool
	}
	results := make(chan result, 4)
	for i := range 4 {
		go func() {
			var job any
			if i != 2 { // waiter 2 wants the lock itself
				job = i
			}
			got, served := set.Join(context.Background(), "k", time.Minute, job)
			if got != nil {
				set.Release(got)
			}
			results <- result{i, served}
		}()
		waitQueued(t, &set, k, i+1)
	}
	jobs := set.Serve(k)
	if len(jobs) != 3 || jobs[0].Value != 0 || jobs[1].Value != 1 || jobs[2].Value != 3 {
		t.Fatalf("Serve took %v, want the jobs of waiters 0, 1 and 3 in order", jobs)
	}
	if n := set.Waiting("k"); n != 1 {
		t.Fatalf("%d waiters left after Serve, want the one without a job", n)
	}
	for _, j := range jobs {
		j.Done()
	}
	for range 3 {
		if r := <-results; !r.served {
			t.Fatalf("waiter %d was handed the lock, want its job done", r.i)
		}
	}
	set.Release(k)
	if r := <-results; r.i != 2 || r.served {
		t.Fatalf("waiter %d served %v, want waiter 2 handed the lock", r.i, r.served)
	}
	if n := set.Len(); n != 0 {
		t.Fatalf("%d locks kept after everyone left", n)
	}
}

// acquire joins the queue for key with no job: it wants the lock itself.
func acquire(ctx context.Context, set *Set, key string, patience time.Duration) *Lock {
	k, _ := set.Join(ctx, key, patience, nil)
	return k
}
