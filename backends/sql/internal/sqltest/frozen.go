package sqltest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
)

// FailWithin is how soon every call on a frozen server must fail, the
// bound of design rule 12 (a 503 within 2 seconds).
const FailWithin = 2 * time.Second

// Callers is how many requests at once CheckFrozen sends a frozen server:
// more than the connections Open's pool may hold, so that some wait for
// one.
const Callers = 20

// giveUp is how long Timed waits for a call expected to fail within
// FailWithin before it stops waiting and reports it as hung.
const giveUp = 8 * time.Second

// CheckFrozen checks that b fails fast while its server does not answer:
// with a session stored, it calls freeze, then checks that each of b's
// calls and a Manager's Load and Save over b fail within FailWithin with a
// backend error (not "absent" nor "changed"), one at a time and with
// Callers requests at once; then it calls thaw and checks that b works
// again within ten seconds, its pool not exhausted by the freeze. Every
// call uses a context without deadline, as a request's does: b must bound
// its calls itself. The test ends thawed, so that calls it stopped waiting
// for can end too.
func CheckFrozen(t *testing.T, b core.Conditional, freeze, thaw func()) {
	t.Helper()
	ctx := context.Background()
	m := core.NewManager(b)
	// Plain keys under a prefix of their own, short-lived: saves sent
	// while frozen may still land when the server comes back.
	m.KeyPrefix, m.HashKeys, m.Lifetime = "cloakroomtest:frozen:", false, 10*time.Minute
	id := storedSession(t, m)
	key := "cloakroomtest:frozen:" + randomHex()
	if err := b.SetIf(ctx, key, nil, []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Delete(context.Background(), key) })

	freeze()
	thawed := false
	defer func() {
		if !thawed {
			thaw()
		}
	}()
	for _, c := range singleCalls(b, m, key, id) {
		took, err := Timed(c.call)
		checkFailed(t, c.what, took, err, c.manager)
		t.Logf("frozen: %s failed after %v: %v", c.what, took.Round(time.Millisecond), err)
	}
	slowest := concurrentCalls(t, func(int) []frozenCall {
		return []frozenCall{
			{"GetVersion", false, func() error { _, _, err := b.GetVersion(ctx, key); return err }},
			{"SetIf(nil)", false, func() error { return b.SetIf(ctx, key+":"+randomHex(), nil, []byte("w"), time.Minute) }},
		}
	})
	t.Logf("frozen: %d concurrent GetVersion+SetIf, slowest call failed after %v", Callers, slowest.Round(time.Millisecond))
	slowest = concurrentCalls(t, func(int) []frozenCall {
		return []frozenCall{
			{"Manager.Load", true, func() error { _, err := m.Load(ctx, id); return err }},
			{"Manager.Save", true, func() error { return saveNew(ctx, m) }},
		}
	})
	t.Logf("frozen: %d concurrent Manager Load+Save, slowest call failed after %v", Callers, slowest.Round(time.Millisecond))

	thaw()
	thawed = true
	checkRecovers(t, m, id)
}

type frozenCall struct {
	what    string
	manager bool // a Manager call: its error must match core.ErrBackend
	call    func() error
}

func singleCalls(b core.Conditional, m *core.Manager, key, id string) []frozenCall {
	ctx := context.Background()
	calls := []frozenCall{
		{"Get", false, func() error { _, err := b.Get(ctx, key); return err }},
		{"GetVersion", false, func() error { _, _, err := b.GetVersion(ctx, key); return err }},
		{"Set", false, func() error { return b.Set(ctx, key, []byte("w"), time.Hour) }},
		{"SetIf(nil)", false, func() error { return b.SetIf(ctx, key, nil, []byte("w"), time.Hour) }},
		{"SetIf", false, func() error { return b.SetIf(ctx, key, core.Version("v"), []byte("w"), time.Hour) }},
		{"DeleteIf", false, func() error { return b.DeleteIf(ctx, key, core.Version("v")) }},
		{"Delete", false, func() error { return b.Delete(ctx, key) }},
		{"Manager.Load", true, func() error { _, err := m.Load(ctx, id); return err }},
		{"Manager.Save", true, func() error { return saveNew(ctx, m) }},
	}
	if tb, ok := b.(core.Toucher); ok {
		calls = append(calls, frozenCall{"Touch", false, func() error { return tb.Touch(ctx, key, time.Hour) }})
	}
	return calls
}

// concurrentCalls has Callers callers make their calls, in turn, all at
// once, and returns the longest any call took.
func concurrentCalls(t *testing.T, calls func(caller int) []frozenCall) time.Duration {
	t.Helper()
	var mu sync.Mutex
	var slowest time.Duration
	var wg sync.WaitGroup
	for i := range Callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, c := range calls(i) {
				took, err := Timed(c.call)
				checkFailed(t, fmt.Sprintf("caller %d: %s", i, c.what), took, err, c.manager)
				mu.Lock()
				slowest = max(slowest, took)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return slowest
}

// checkFailed fails the test unless err is a backend error that came
// within FailWithin.
func checkFailed(t *testing.T, what string, took time.Duration, err error, manager bool) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s on a frozen server succeeded", what)
	case errors.Is(err, ErrHung):
		t.Errorf("%s on a frozen server: %v", what, err)
	case took > FailWithin:
		t.Errorf("%s on a frozen server failed after %v, want within %v: %v", what, took, FailWithin, err)
	case errors.Is(err, core.ErrNotFound) || errors.Is(err, core.ErrConflict):
		t.Errorf("%s on a frozen server: %v, want a backend error, not absent or changed", what, err)
	case manager && !errors.Is(err, core.ErrBackend):
		t.Errorf("%s on a frozen server: %v, want an error matching core.ErrBackend (503)", what, err)
	}
}

// checkRecovers waits up to ten seconds for the stored session to load.
func checkRecovers(t *testing.T, m *core.Manager, id string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := m.Load(context.Background(), id)
		if err == nil && !s.IsNew() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store still fails 10s after the server came back: new=%v, %v", err == nil && s.IsNew(), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ErrHung is Timed's error for a call that did not return.
var ErrHung = fmt.Errorf("no answer after %v", giveUp)

// Timed runs call and returns how long it took and its error, or ErrHung
// when it has not returned after eight seconds (it is left running), so that
// a test of a call that should fail fast fails rather than hangs.
func Timed(call func() error) (time.Duration, error) {
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- call() }()
	select {
	case err := <-done:
		return time.Since(start), err
	case <-time.After(giveUp):
		return time.Since(start), ErrHung
	}
}

// storedSession saves a session through m and returns its id.
func storedSession(t *testing.T, m *core.Manager) string {
	t.Helper()
	ctx := context.Background()
	s := m.New(ctx)
	s.Set("user", "alice")
	if _, err := m.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	id := s.ID()
	t.Cleanup(func() { _ = m.Backend.Delete(context.Background(), m.KeyPrefix+id) })
	if loaded, err := m.Load(ctx, id); err != nil || loaded.IsNew() {
		t.Fatalf("the stored session does not load: %v", err)
	}
	return id
}

func saveNew(ctx context.Context, m *core.Manager) error {
	s := m.New(ctx)
	s.Set("user", "bob")
	_, err := m.Save(ctx, s)
	return err
}

func randomHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
