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

// FrozenLimit is the promise every backend keeps: with default settings, a frozen or
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
// With sessions stored, it calls freeze, then checks that each of b's
// calls fails within FrozenLimit with a backend error (not "absent" nor
// "changed"), and that Managers over b do too (CheckFrozenManagers); then
// it calls thaw and checks that b works again within ten seconds. Every
// call has a context without deadline, as a request's has: b must bound
// its calls itself. The test ends thawed.
func CheckFrozen(t *testing.T, b core.Conditional, freeze, thaw func()) {
	t.Helper()
	ctx := context.Background()
	m := core.NewManager(b)
	m.KeyPrefix = "cloakroomtest:frozen:" + randomHex(4) + ":"
	loaded := LoadedSessions(t, m, frozenCallers)
	key := m.KeyPrefix + "key"
	if err := b.Set(ctx, key, []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = b.Delete(context.Background(), key)
		for _, s := range loaded {
			_ = b.Delete(context.Background(), m.KeyPrefix+s.ID())
		}
	})

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
	CheckFrozenManagers(t, m, loaded)

	thaw()
	thawed = true
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := m.Load(ctx, loaded[0].ID())
		if err == nil && !s.IsNew() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store still fails 10s after its server came back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// frozenCallers is how many requests CheckFrozen runs at once.
const frozenCallers = 20

// LoadedSessions saves n new sessions through m and loads them again, all
// at once, so that the backend's client holds several connections when a
// test then freezes its server. It returns the loaded sessions, each
// changed, ready for a save.
func LoadedSessions(t *testing.T, m *core.Manager, n int) []*core.Session {
	t.Helper()
	ctx := context.Background()
	loaded := make([]*core.Session, n)
	for i := range loaded {
		s := m.New(ctx)
		s.Set("n", i)
		if _, err := m.Save(ctx, s); err != nil {
			t.Fatalf("Save with the server up: %v", err)
		}
		loaded[i] = s
	}
	for i, o := range Concurrently(n, func(ctx context.Context, i int) error {
		var err error
		loaded[i], err = m.Load(ctx, loaded[i].ID())
		return err
	}) {
		if o.Err != nil {
			t.Fatalf("Load #%d with the server up: %v", i, o.Err)
		}
		loaded[i].Set("n", i+1)
	}
	return loaded
}

// CheckFrozenManagers checks, while the server behind m's backend does not
// answer, that Managers fail within FrozenLimit with core.ErrBackend, all
// of loaded at once: a load of each session, a save of each with a Manager
// of its own, a save of a new session each on m, and a save of each on m:
// saves of different sessions never wait for each other's turn, so one
// Manager fails as fast as many. loaded comes from LoadedSessions.
func CheckFrozenManagers(t *testing.T, m *core.Manager, loaded []*core.Session) {
	t.Helper()
	n := len(loaded)
	check := func(what string, call func(ctx context.Context, s *core.Session) error) {
		t.Helper()
		outs := Concurrently(n, func(ctx context.Context, i int) error { return call(ctx, loaded[i]) })
		for i, o := range outs {
			WantFast(t, fmt.Sprintf("%s #%d of %d", what, i, n), o, managerFailure)
		}
		t.Logf("frozen: %d concurrent %s, the slowest failed after %v: %v", n, what, Slowest(outs).Round(time.Millisecond), outs[0].Err)
	}
	check("Manager.Load", func(ctx context.Context, s *core.Session) error {
		_, err := m.Load(ctx, s.ID())
		return err
	})
	check("Manager.Save (a Manager each)", func(ctx context.Context, s *core.Session) error {
		own := core.NewManager(m.Backend)
		own.KeyPrefix = m.KeyPrefix
		_, err := own.Save(ctx, s)
		return err
	})
	check("Manager.Save of a new session", func(ctx context.Context, _ *core.Session) error {
		s := m.New(ctx)
		s.Set("user", "bob")
		_, err := m.Save(ctx, s)
		return err
	})
	check("Manager.Save (one Manager)", func(ctx context.Context, s *core.Session) error {
		_, err := m.Save(ctx, s)
		return err
	})
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
