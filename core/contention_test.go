package core_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// TestQueuedSavesWriteTogether: saves of one session that queue in one
// process are made together by the one that gets the turn, on what the
// one before them wrote, so none conflicts and none reads the session
// again, however stale its load.
func TestQueuedSavesWriteTogether(t *testing.T) {
	const requests = 50
	b := newCounting(t)
	m := core.NewManager(b)
	core.SetTurnPatience(m, time.Minute) // the first save holds its turn on purpose
	var conflicts atomic.Int64
	m.OnEvent = func(_ context.Context, e core.Event) {
		if e.Kind == core.EventConflict {
			conflicts.Add(1)
		}
	}
	id := stored(t, m).ID()
	sessions := make([]*core.Session, requests)
	ctx := context.Background()
	for i := range sessions {
		s, err := m.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		sessions[i] = s // every one loaded before any saves: all stale but the first
	}
	// The first save holds its turn until all the others queue behind it.
	var first sync.Once
	b.BeforeCall(func(op, key string) {
		if op != "set" {
			return
		}
		first.Do(func() {
			for deadline := time.Now().Add(10 * time.Second); core.WaitingSaves(m, id) < requests-1; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Errorf("%d saves queued after 10s, want %d", core.WaitingSaves(m, id), requests-1)
					return
				}
			}
		})
	})
	b.Calls()
	var wg sync.WaitGroup
	for i, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Set("k"+strconv.Itoa(i), i)
			if _, err := s.Incr("n", 1); err != nil {
				t.Error(err)
			}
			if _, err := m.Save(ctx, s); err != nil {
				t.Errorf("Save: %v", err)
			}
		}()
	}
	wg.Wait()
	// The first write, then one for the 49 that queued behind it.
	if calls := b.Calls(); len(calls) != 2 || countPrefix(calls, "set ") != 2 {
		t.Errorf("%d saves made the calls %q; want two writes and no read", requests, calls)
	}
	if n := conflicts.Load(); n != 0 {
		t.Errorf("%d conflicts among saves of one process", n)
	}
	final := reloaded(t, m, sessions[0])
	if n, _ := final.GetInt("n"); n != requests {
		t.Errorf("n = %d after %d increments", n, requests)
	}
	if got := len(final.Keys()); got != requests+2 { // a, n and one key each
		t.Errorf("%d keys after %d saves each set its own: %q", got, requests, final.Keys())
	}
}

// TestSaveBoundUnderConflicts: a save that keeps conflicting with another
// process on a slow store gives up within about 2 seconds, by default,
// with a 503 error, not after 32 attempts of whatever each call takes.
func TestSaveBoundUnderConflicts(t *testing.T) {
	b := newCounting(t)
	m := core.NewManager(b)
	s := reloaded(t, m, stored(t, m))
	writes := rivalWrites(b, "session:"+s.ID(), 100*time.Millisecond) // a slow store
	s.Set("b", 2)
	start := time.Now()
	_, err := m.Save(context.Background(), s)
	elapsed := time.Since(start)
	if !errors.Is(err, core.ErrBackend) || core.HTTPStatus(err) != 503 {
		t.Fatalf("Save under endless conflicts on a slow store = %v, want a 503 ErrBackend", err)
	}
	if elapsed > 3*time.Second {
		t.Fatalf("gave up after %v, want about 2s", elapsed)
	}
	if n := writes.Load(); n >= 32 {
		t.Fatalf("%d attempts: the bound is time, not the attempt count", n)
	}
}

// TestSaveBoundOnAStalledRetry: when the store stalls after a conflict,
// the retry ends with the save's 2-second bound although the Manager has
// no BackendTimeout and the backend bounds nothing.
func TestSaveBoundOnAStalledRetry(t *testing.T) {
	b := newCounting(t)
	m := core.NewManager(b)
	s := reloaded(t, m, stored(t, m))
	key := "session:" + s.ID()
	_ = b.Store().Set(context.Background(), key, []byte(`{"a":2}`), time.Hour) // another process wrote
	sb := &stallAfter{Recorder: b, key: key}
	m.Backend = sb
	s.Set("b", 2)
	start := time.Now()
	_, err := m.Save(context.Background(), s)
	if !errors.Is(err, core.ErrBackend) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Save whose retry stalls = %v, want ErrBackend with the deadline", err)
	}
	if d := time.Since(start); d < 1500*time.Millisecond || d > 3*time.Second {
		t.Fatalf("gave up after %v, want the 2s bound", d)
	}
}

// stallAfter is a store whose calls on key block until their context ends
// once a write of it has conflicted.
type stallAfter struct {
	*backendtest.Recorder
	key      string
	conflict atomic.Bool
}

func (s *stallAfter) GetVersion(ctx context.Context, key string) ([]byte, core.Version, error) {
	if key == s.key && s.conflict.Load() {
		<-ctx.Done()
		return nil, nil, ctx.Err()
	}
	return s.Recorder.GetVersion(ctx, key)
}

func (s *stallAfter) SetIf(ctx context.Context, key string, v core.Version, value []byte, ttl time.Duration) error {
	err := s.Recorder.SetIf(ctx, key, v, value, ttl)
	if key == s.key && errors.Is(err, core.ErrConflict) {
		s.conflict.Store(true)
	}
	return err
}

// TestIncrNowNeverRepeats: concurrent requests of one session get
// distinct numbers from IncrNow, the ones it stored.
func TestIncrNowNeverRepeats(t *testing.T) {
	const requests = 50
	b := newCounting(t)
	m := core.NewManager(b)
	id := stored(t, m).ID()
	ctx := context.Background()
	got := make([]int64, requests)
	var wg sync.WaitGroup
	for i := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := m.Load(ctx, id)
			if err == nil {
				got[i], err = s.IncrNow(ctx, "n", 1)
			}
			if err != nil {
				t.Errorf("IncrNow: %v", err)
			}
		}()
	}
	wg.Wait()
	slices.Sort(got)
	for i, n := range got {
		if n != int64(i+1) {
			t.Fatalf("IncrNow handed out %v, want 1 to %d once each", got, requests)
		}
	}
}

// TestIncrNowInARequest: the value is stored before the response, a new
// session still gets its cookie, and later changes are saved as usual.
func TestIncrNowInARequest(t *testing.T) {
	b := newCounting(t)
	m := core.NewManager(b)
	ctx := context.Background()
	var stored int64
	ex := serve(t, m, "", "192.0.2.1:1", func(s *core.Session) {
		n, err := s.IncrNow(ctx, "n", 5)
		if err != nil || n != 5 {
			t.Fatalf("IncrNow = %d, %v; want 5", n, err)
		}
		stored = countPrefix(b.Calls(), "set ")
		s.Set("after", true)
	})
	if stored != 1 {
		t.Fatalf("IncrNow made %d writes before the response, want 1", stored)
	}
	c := ex.setCookie(m.Cookie.Name)
	if c == nil || c.Value == "" {
		t.Fatal("a session first stored by IncrNow got no cookie")
	}
	serve(t, m, c.Value, "192.0.2.1:1", func(s *core.Session) {
		if after, _ := s.GetBool("after"); !after {
			t.Error("a change after IncrNow was not saved with the response")
		}
		if n, err := s.IncrNow(ctx, "n", 1); err != nil || n != 6 {
			t.Errorf("next request's IncrNow = %d, %v; want 6", n, err)
		}
	})

	// Once the response is committed, it refuses and changes nothing.
	ex = newExchange("192.0.2.1:1")
	r := m.Begin(ex)
	s, _ := r.Session(ctx)
	if err := r.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IncrNow(ctx, "n", 1); !errors.Is(err, core.ErrLateChange) {
		t.Fatalf("IncrNow after commit = %v, want ErrLateChange", err)
	}
	if _, ok := s.Get("n"); ok {
		t.Fatal("IncrNow after commit changed the session")
	}
}

// TestIncrNowInCookieSessions is Incr: the cookie carries the value.
func TestIncrNowInCookieSessions(t *testing.T) {
	m, err := core.NewCookieManager(strings.Repeat("k", 32))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ex := serve(t, m, "", "192.0.2.1:1", func(s *core.Session) {
		if n, err := s.IncrNow(ctx, "n", 2); err != nil || n != 2 {
			t.Fatalf("IncrNow = %d, %v; want 2", n, err)
		}
	})
	serve(t, m, ex.setCookie(m.Cookie.Name).Value, "192.0.2.1:1", func(s *core.Session) {
		if n, _ := s.GetInt("n"); n != 2 {
			t.Errorf("the cookie carries n = %d, want 2", n)
		}
	})
}

func countPrefix(calls []string, prefix string) int64 {
	n := int64(0)
	for _, c := range calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

// TestJoinedSaveThatCannotApplyFailsAlone: when a queued save's Update
// fails on what the saves before it wrote, that save fails with the
// function's error and the others it was made with are stored.
func TestJoinedSaveThatCannotApplyFailsAlone(t *testing.T) {
	b := newCounting(t)
	m := core.NewManager(b)
	core.SetTurnPatience(m, time.Minute) // the first save holds its turn on purpose
	id := stored(t, m).ID()
	ctx := context.Background()
	load := func() *core.Session {
		s, err := m.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	first, picky, counter := load(), load(), load()
	errTaken := errors.New("k is taken")
	if _, err := picky.Update("k", func(old any) (any, error) {
		if old != nil {
			return nil, errTaken
		}
		return "picky", nil
	}); err != nil {
		t.Fatal(err)
	}
	counter.Incr("n", 1)
	first.Set("k", "first")

	// The first save holds its turn until both others queue behind it.
	errs := saveBehindFirst(t, m, b, id, first, picky, counter)
	if errs[0] != nil || errs[2] != nil {
		t.Fatalf("saves = %v, %v, %v; want the first and the counter stored", errs[0], errs[1], errs[2])
	}
	if !errors.Is(errs[1], errTaken) {
		t.Fatalf("the save whose Update failed = %v, want its function's error", errs[1])
	}
	final := reloaded(t, m, first)
	if k, _ := final.GetString("k"); k != "first" {
		t.Errorf("k = %q, want the first save's", k)
	}
	if n, _ := final.GetInt("n"); n != 1 {
		t.Errorf("n = %d, want the counter's increment", n)
	}
}

// rivalWrites makes every call on key take delay and every write of key
// lose to another process's, which writes first; it returns the count of
// those writes.
func rivalWrites(b *backendtest.Recorder, key string, delay time.Duration) *atomic.Int64 {
	var writes atomic.Int64
	b.BeforeCall(func(op, k string) {
		if k != key {
			return
		}
		time.Sleep(delay)
		if op == "set" {
			_ = b.Store().Set(context.Background(), key, []byte(`{"a":`+strconv.FormatInt(writes.Add(1), 10)+`}`), time.Hour)
		}
	})
	return &writes
}

// applyThenFail is a backend whose write number failAt is made and then
// reported failed, as when a connection drops after the server committed.
type applyThenFail struct {
	*backendtest.Recorder
	sets   atomic.Int64
	failAt atomic.Int64
}

var errLostReply = errors.New("connection reset after the write")

func (b *applyThenFail) SetIf(ctx context.Context, key string, version core.Version, value []byte, ttl time.Duration) error {
	err := b.Recorder.SetIf(ctx, key, version, value, ttl)
	if err == nil && b.sets.Add(1) == b.failAt.Load() {
		return errLostReply
	}
	return err
}

// TestJoinedSaveLostInFlightIsNotRetried: when the write that makes
// queued saves together fails in a way that does not say whether it was
// made, the queued saves fail with it rather than make their changes again
// on their own: had the write been made, they would count twice.
func TestJoinedSaveLostInFlightIsNotRetried(t *testing.T) {
	b := &applyThenFail{Recorder: newCounting(t)}
	m := core.NewManager(b)
	core.SetTurnPatience(m, time.Minute) // the first save holds its turn on purpose
	id := stored(t, m).ID()
	ctx := context.Background()
	sessions := make([]*core.Session, 3)
	for i := range sessions {
		s, err := m.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Incr("n", 1); err != nil {
			t.Fatal(err)
		}
		sessions[i] = s
	}
	// The first save holds its turn until both others queue behind it;
	// the next holder then writes for both, and that write is lost.
	b.failAt.Store(b.sets.Load() + 2)
	errs := saveBehindFirst(t, m, b.Recorder, id, sessions...)
	if errs[0] != nil {
		t.Fatalf("the first save = %v, want it stored", errs[0])
	}
	for i, err := range errs[1:] {
		if !errors.Is(err, errLostReply) {
			t.Errorf("queued save %d = %v, want the lost write's error", i+1, err)
		}
	}
	if n, _ := reloaded(t, m, sessions[0]).GetInt("n"); n != 3 {
		t.Errorf("n = %d after three increments, one stored and two lost in flight, want 3", n)
	}
}

// saveBehindFirst saves sessions of the stored session id at once, the
// first holding its turn until all the others queue behind it, and returns
// their errors in order.
func saveBehindFirst(t *testing.T, m *core.Manager, b *backendtest.Recorder, id string, sessions ...*core.Session) []error {
	t.Helper()
	var once sync.Once
	b.BeforeCall(func(op, _ string) {
		if op == "set" {
			once.Do(func() {
				for core.WaitingSaves(m, id) < len(sessions)-1 {
					time.Sleep(time.Millisecond)
				}
			})
		}
	})
	b.Calls()
	var wg sync.WaitGroup
	errs := make([]error, len(sessions))
	for i, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = m.Save(context.Background(), s)
		}()
		for i == 0 && countPrefix(b.Calls(), "set ") == 0 {
			time.Sleep(time.Millisecond) // until the first save holds the turn
		}
	}
	wg.Wait()
	return errs
}
