package backendtest

import (
	"context"
	"sync"
	"testing"
	"time"
)

// FrozenLimit is DESIGN's rule 12: with default settings, a frozen or
// stalled backend turns a request into an error within two seconds.
const FrozenLimit = 2 * time.Second

// giveUp is how long Timed waits for a call that overran FrozenLimit
// before reporting it as hung; the call itself ends when its server thaws.
const giveUp = 15 * time.Second

// Outcome is the result of one call against a frozen server.
type Outcome struct {
	Err  error
	Took time.Duration
	Hung bool // still blocked after Timed gave up
}

// Timed runs call with a context that has no deadline, as a request's has,
// so that only the backend's own bounds can end it, and reports how it
// ended.
func Timed(call func(ctx context.Context) error) Outcome {
	done := make(chan Outcome, 1) // buffered: a hung call never blocks
	start := time.Now()
	go func() {
		err := call(context.Background())
		done <- Outcome{Err: err, Took: time.Since(start)}
	}()
	select {
	case o := <-done:
		return o
	case <-time.After(giveUp):
		return Outcome{Took: giveUp, Hung: true}
	}
}

// Concurrently runs n calls at once through Timed; call gets its index.
func Concurrently(n int, call func(ctx context.Context, i int) error) []Outcome {
	out := make([]Outcome, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = Timed(func(ctx context.Context) error { return call(ctx, i) })
		}()
	}
	wg.Wait()
	return out
}

// WantFast fails the test unless o is an error that match accepts and that
// came within FrozenLimit.
func WantFast(t testing.TB, what string, o Outcome, match func(error) bool) {
	t.Helper()
	switch {
	case o.Hung:
		t.Errorf("%s on a frozen server still blocked after %v", what, giveUp)
	case o.Err == nil:
		t.Errorf("%s on a frozen server succeeded after %v", what, o.Took)
	case !match(o.Err):
		t.Errorf("%s on a frozen server: unexpected error after %v: %v", what, o.Took, o.Err)
	case o.Took > FrozenLimit:
		t.Errorf("%s on a frozen server failed after %v, past %v: %v", what, o.Took, FrozenLimit, o.Err)
	}
}

// Slowest returns the longest duration among outs.
func Slowest(outs []Outcome) time.Duration {
	var worst time.Duration
	for _, o := range outs {
		worst = max(worst, o.Took)
	}
	return worst
}
