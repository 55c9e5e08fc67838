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

// RunConcurrency checks that concurrent requests on one session lose
// nothing and revive nothing, through Managers on a real backend. Each call
// of newManager must return a new Manager on the same backend, as another
// process would have; the tests spread their work over two. Run calls it
// with core.NewManager; backend modules also call it with the presets they
// serve (NewQuartManager, NewDjangoManager).
func RunConcurrency(t *testing.T, newManager func() *core.Manager) {
	t.Run("Increments", func(t *testing.T) { t.Parallel(); testIncrements(t, newManager) })
	t.Run("DistinctKeys", func(t *testing.T) { t.Parallel(); testDistinctKeys(t, newManager) })
	t.Run("LogoutInFlight", func(t *testing.T) {
		t.Parallel()
		testNoRevival(t, newManager, func(s *core.Session) { s.Destroy() })
	})
	t.Run("LoginInFlight", func(t *testing.T) {
		t.Parallel()
		testNoRevival(t, newManager, func(s *core.Session) { s.Set("user", "bob"); s.Regenerate() })
	})
}

// pair returns two Managers on one backend, like two processes.
func pair(newManager func() *core.Manager) [2]*core.Manager {
	return [2]*core.Manager{newManager(), newManager()}
}

// SaveNew saves a new session holding data through m and returns its id,
// failing the test if it cannot.
func SaveNew(t testing.TB, m *core.Manager, data map[string]any) string {
	t.Helper()
	ctx := context.Background()
	s := m.New(ctx)
	for k, v := range data {
		s.Set(k, v)
	}
	if _, err := m.Save(ctx, s); err != nil {
		t.Fatalf("Save of a new session: %v", err)
	}
	return s.ID()
}

// loaded loads id, failing the test if it is not stored.
func loaded(m *core.Manager, id string) (*core.Session, error) {
	s, err := m.Load(context.Background(), id)
	if err == nil && s.IsNew() {
		err = fmt.Errorf("session %.6s… is not stored", id)
	}
	return s, err
}

// Parallel runs work(0) … work(n-1) in n goroutines at once and fails the
// test with every error they return, after all have finished. Concurrency
// tests of backends, adapters and applications share it.
func Parallel(t testing.TB, n int, work func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := work(i); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// testIncrements has 50 workers add 1 twenty times each to one counter.
// A blind save keeps a fraction of the 1,000 increments.
func testIncrements(t *testing.T, newManager func() *core.Manager) {
	const workers, rounds = 50, 20
	ms := pair(newManager)
	id := SaveNew(t, ms[0], map[string]any{"n": 0})
	Parallel(t, workers, func(w int) error {
		m := ms[w%2]
		for range rounds {
			s, err := loaded(m, id)
			if err != nil {
				return err
			}
			if _, err := s.Incr("n", 1); err != nil {
				return err
			}
			if _, err := m.Save(context.Background(), s); err != nil {
				return fmt.Errorf("saving an increment: %w", err)
			}
		}
		return nil
	})
	s, err := loaded(ms[1], id)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := s.GetInt("n"); n != workers*rounds {
		t.Fatalf("%d concurrent increments kept of %d", n, workers*rounds)
	}
}

// testDistinctKeys has 50 workers each set a key of its own at once.
func testDistinctKeys(t *testing.T, newManager func() *core.Manager) {
	const workers = 50
	ms := pair(newManager)
	id := SaveNew(t, ms[0], map[string]any{"user": "alice"})
	Parallel(t, workers, func(w int) error {
		m := ms[w%2]
		s, err := loaded(m, id)
		if err != nil {
			return err
		}
		s.Set(fmt.Sprintf("k%02d", w), int64(w))
		if _, err := m.Save(context.Background(), s); err != nil {
			return fmt.Errorf("saving key %d: %w", w, err)
		}
		return nil
	})
	s, err := loaded(ms[1], id)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(s.Keys()); got != workers+1 {
		t.Fatalf("%d of %d concurrently set keys kept: %q", got-1, workers, s.Keys())
	}
}

// testNoRevival ends a session (logout, or login's Regenerate) while
// writers that loaded it keep saving: once ended, the old id must never
// hold data again. It repeats, since a lost race is a matter of timing.
func testNoRevival(t *testing.T, newManager func() *core.Manager, end func(*core.Session)) {
	const trials, writers = 5, 8
	ms := pair(newManager)
	for range trials {
		id := SaveNew(t, ms[0], map[string]any{"user": "alice"})
		ended := make(chan struct{})
		var endErr error
		go func() {
			defer close(ended)
			time.Sleep(5 * time.Millisecond)
			s, err := loaded(ms[1], id)
			if err == nil {
				end(s)
				_, err = ms[1].Save(context.Background(), s)
			}
			endErr = err
		}()
		Parallel(t, writers, func(w int) error {
			m := ms[w%2]
			for i := 0; i < 10_000; i++ {
				s, err := m.Load(context.Background(), id)
				if err != nil {
					return err
				}
				if s.IsNew() {
					return nil // ended, and seen as ended
				}
				s.Set(fmt.Sprintf("w%d", w), int64(i))
				_, err = m.Save(context.Background(), s)
				if errors.Is(err, core.ErrInterrupted) {
					return nil // ended while this request was in flight
				}
				if err != nil {
					return fmt.Errorf("writer save: %w", err)
				}
			}
			return errors.New("the session was never seen to end")
		})
		<-ended
		if endErr != nil {
			t.Fatalf("ending the session: %v", endErr)
		}
		if s, err := ms[0].Load(context.Background(), id); err != nil || !s.IsNew() {
			t.Fatalf("the ended session's id still loads (new=%v, err=%v): a request in flight revived it", s != nil && s.IsNew(), err)
		}
	}
}
