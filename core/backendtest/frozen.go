package backendtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
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

// CheckFrozen checks that b fails fast while its server does not answer.
// With a session stored, it calls freeze, then checks that each of b's
// calls, and a Manager's Load and Save over b, fail within FrozenLimit with
// a backend error (not "absent" nor "changed"), one at a time and 20 at
// once; then it calls thaw and checks that b works again within ten
// seconds. Every call has a context without deadline, as a request's has:
// b must bound its calls itself. The test ends thawed.
func CheckFrozen(t *testing.T, b core.Conditional, freeze, thaw func()) {
	t.Helper()
	ctx := context.Background()
	m := core.NewManager(b)
	m.KeyPrefix = "cloakroomtest:frozen:" + randomHex(4) + ":"
	s := m.New(ctx)
	s.Set("user", "alice")
	if _, err := m.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	id, key := s.ID(), m.KeyPrefix+"key"
	if err := b.Set(ctx, key, []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Delete(context.Background(), key); _ = b.Delete(context.Background(), m.KeyPrefix+id) })

	freeze()
	thawed := false
	defer func() {
		if !thawed {
			thaw()
		}
	}()
	for what, call := range frozenCalls(b, key) {
		WantFast(t, what, Timed(call), storeFailure)
	}
	load := func(ctx context.Context) error { _, err := m.Load(ctx, id); return err }
	save := func(ctx context.Context) error {
		s := m.New(ctx)
		s.Set("user", "bob")
		_, err := m.Save(ctx, s)
		return err
	}
	for what, call := range map[string]func(context.Context) error{"Manager.Load": load, "Manager.Save": save} {
		outs := Concurrently(20, func(ctx context.Context, _ int) error { return call(ctx) })
		for i, o := range outs {
			WantFast(t, fmt.Sprintf("%s #%d of 20", what, i), o, managerFailure)
		}
		t.Logf("frozen: 20 concurrent %s, the slowest failed after %v", what, Slowest(outs).Round(time.Millisecond))
	}

	thaw()
	thawed = true
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := m.Load(ctx, id)
		if err == nil && !s.IsNew() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store still fails 10s after its server came back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// frozenCalls lists every call of b that talks to its server.
func frozenCalls(b core.Conditional, key string) map[string]func(context.Context) error {
	calls := map[string]func(context.Context) error{
		"Get":        func(ctx context.Context) error { _, err := b.Get(ctx, key); return err },
		"GetVersion": func(ctx context.Context) error { _, _, err := b.GetVersion(ctx, key); return err },
		"Set":        func(ctx context.Context) error { return b.Set(ctx, key, []byte("w"), time.Hour) },
		"SetIf(nil)": func(ctx context.Context) error { return b.SetIf(ctx, key, nil, []byte("w"), time.Hour) },
		"SetIf":      func(ctx context.Context) error { return b.SetIf(ctx, key, core.Version("v"), []byte("w"), time.Hour) },
		"DeleteIf":   func(ctx context.Context) error { return b.DeleteIf(ctx, key, core.Version("v")) },
		"Delete":     func(ctx context.Context) error { return b.Delete(ctx, key) },
	}
	if tb, ok := b.(core.Toucher); ok {
		calls["Touch"] = func(ctx context.Context) error { return tb.Touch(ctx, key, time.Hour) }
	}
	return calls
}

// storeFailure accepts the error of a backend whose server is frozen: not
// one that says the key is absent or changed, which would be a lie.
func storeFailure(err error) bool {
	return !errors.Is(err, core.ErrNotFound) && !errors.Is(err, core.ErrConflict)
}

// managerFailure accepts a Manager's error for a frozen backend: one that
// adapters answer with 503.
func managerFailure(err error) bool { return errors.Is(err, core.ErrBackend) }
