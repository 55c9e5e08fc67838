package mongodb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// failWithin is how soon every call on a frozen server must fail: design
// rule 12 (a 503 within 2 seconds).
const failWithin = 2 * time.Second

// callers is how many requests at once TestFrozenServer sends.
const callers = 20

// giveUp is how long timed waits for a call before it reports it as hung.
const giveUp = 8 * time.Second

var errHung = fmt.Errorf("no answer after %v", giveUp)

// TestFrozenServer freezes (SIGSTOP) a FerretDB of its own under a Store
// made by Open with default options: every call, and a Manager's Load and
// Save over the Store, fail within 2 seconds with a backend error, one at a
// time and 20 at once, with contexts that have no deadline (as requests'
// have none); once the server runs again, the same Store works again.
func TestFrozenServer(t *testing.T) {
	srv := startFerretDB(t, ferretDBBin(t), backendtest.ClosedAddr(t), t.TempDir())
	var s *Store
	eventually(t, 30*time.Second, "open the test's own FerretDB", func(ctx context.Context) (err error) {
		s, err = Open(ctx, "mongodb://"+srv.addr+"/", Options{Logger: slog.New(slog.DiscardHandler)})
		return err
	})
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	m := core.NewManager(s)
	m.KeyPrefix, m.HashKeys = "frozen:", false
	sess := m.New(ctx)
	sess.Set("user", "alice")
	if _, err := m.Save(ctx, sess); err != nil {
		t.Fatal(err)
	}
	id := sess.ID()
	const key = "frozen-key"
	if err := s.Set(ctx, key, []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}

	srv.freeze()
	thawed := false
	defer func() {
		if !thawed {
			srv.thaw()
		}
	}()
	for _, c := range frozenCalls(s, m, key, id) {
		took, err := timed(c.call)
		checkFailed(t, c.what, took, err, c.manager)
		t.Logf("frozen: %s failed after %v: %v", c.what, took.Round(time.Millisecond), err)
	}
	slowest := concurrentCalls(t, func(i int) []frozenCall {
		return []frozenCall{
			{"GetVersion", false, func() error { _, _, err := s.GetVersion(ctx, key); return err }},
			{"SetIf(nil)", false, func() error { return s.SetIf(ctx, fmt.Sprint(key, i), nil, []byte("w"), time.Minute) }},
		}
	})
	t.Logf("frozen: %d concurrent GetVersion+SetIf, slowest call failed after %v", callers, slowest.Round(time.Millisecond))
	slowest = concurrentCalls(t, func(int) []frozenCall {
		return []frozenCall{
			{"Manager.Load", true, func() error { _, err := m.Load(ctx, id); return err }},
			{"Manager.Save", true, func() error { return saveNew(ctx, m) }},
		}
	})
	t.Logf("frozen: %d concurrent Manager Load+Save, slowest call failed after %v", callers, slowest.Round(time.Millisecond))

	srv.thaw()
	thawed = true
	eventually(t, 10*time.Second, "Load after the server came back", func(ctx context.Context) error {
		loaded, err := m.Load(ctx, id)
		if err == nil && loaded.IsNew() {
			return errors.New("the stored session is gone")
		}
		return err
	})
}

type frozenCall struct {
	what    string
	manager bool // a Manager call: its error must match core.ErrBackend
	call    func() error
}

// frozenCalls lists every call of s that talks to the server, and a
// Manager's Load and Save over s.
func frozenCalls(s *Store, m *core.Manager, key, id string) []frozenCall {
	ctx := context.Background()
	calls := []frozenCall{
		{"Manager.Load", true, func() error { _, err := m.Load(ctx, id); return err }},
		{"Manager.Save", true, func() error { return saveNew(ctx, m) }},
	}
	for name, op := range storeOps(s) {
		calls = append(calls, frozenCall{name, false, func() error { return op(ctx) }})
	}
	return calls
}

// concurrentCalls has callers goroutines make their calls, in turn, all at
// once, and returns the longest any call took.
func concurrentCalls(t *testing.T, calls func(caller int) []frozenCall) time.Duration {
	t.Helper()
	var mu sync.Mutex
	var slowest time.Duration
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, c := range calls(i) {
				took, err := timed(c.call)
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
// within failWithin.
func checkFailed(t *testing.T, what string, took time.Duration, err error, manager bool) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s on a frozen server succeeded", what)
	case errors.Is(err, errHung):
		t.Errorf("%s on a frozen server: %v", what, err)
	case took > failWithin:
		t.Errorf("%s on a frozen server failed after %v, want within %v: %v", what, took, failWithin, err)
	case errors.Is(err, core.ErrNotFound) || errors.Is(err, core.ErrConflict):
		t.Errorf("%s on a frozen server: %v, want a backend error, not absent or changed", what, err)
	case manager && !errors.Is(err, core.ErrBackend):
		t.Errorf("%s on a frozen server: %v, want an error matching core.ErrBackend (503)", what, err)
	}
}

// timed runs call and returns how long it took and its error, or errHung
// when it has not returned after giveUp (it is left running), so that a
// call that should fail fast fails the test rather than hangs it.
func timed(call func() error) (time.Duration, error) {
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- call() }()
	select {
	case err := <-done:
		return time.Since(start), err
	case <-time.After(giveUp):
		return time.Since(start), errHung
	}
}

func saveNew(ctx context.Context, m *core.Manager) error {
	s := m.New(ctx)
	s.Set("user", "bob")
	_, err := m.Save(ctx, s)
	return err
}
