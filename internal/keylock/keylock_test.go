package keylock

import (
	"context"
	"errors"
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
				if err := s.Acquire(context.Background()); err != nil {
					t.Error(err)
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

func TestWaitHonoursContext(t *testing.T) {
	var set Set
	s := set.For("k")
	if err := s.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := s.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire of a held slot = %v, want the deadline", err)
	}
	s.Release()
	done, stop := context.WithCancel(context.Background())
	stop()
	if err := s.Acquire(done); err != nil {
		t.Fatalf("a free slot was refused to a done context: %v", err)
	}
}
