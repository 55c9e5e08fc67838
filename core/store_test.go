package core_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// twoRequests loads one stored session twice, as two overlapping requests
// of one browser would.
func twoRequests(t *testing.T, m *core.Manager) (id string, a, b *core.Session) {
	t.Helper()
	s := stored(t, m)
	return s.ID(), reloaded(t, m, s), reloaded(t, m, s)
}

func save(t *testing.T, m *core.Manager, s *core.Session) {
	t.Helper()
	if _, err := m.Save(context.Background(), s); err != nil {
		t.Fatalf("Save: %v", err)
	}
}

func TestConcurrentChangesMerge(t *testing.T) {
	m := core.NewManager(newCounting(t))
	id, a, b := twoRequests(t, m)
	a.Set("x", "from a")
	a.Delete("a")
	b.Set("y", "from b")
	b.Flash("message", "b's flash")
	save(t, m, b)
	a.Flash("message", "a's flash")
	save(t, m, a)

	s := reloaded(t, m, a)
	if s.ID() != id {
		t.Fatalf("id changed from %q to %q", id, s.ID())
	}
	if got := s.Keys(); !slices.Equal(got, []string{"_flashes", "x", "y"}) {
		t.Fatalf("keys after two concurrent saves = %q, want _flashes, x, y (a deleted)", got)
	}
	var msgs []string
	for _, f := range s.Flashes() {
		msgs = append(msgs, f.Message)
	}
	if !slices.Equal(msgs, []string{"b's flash", "a's flash"}) {
		t.Fatalf("flashes = %q, want both in save order", msgs)
	}
}

func TestUpdateRunsAgainOnFreshData(t *testing.T) {
	b := newCounting(t)
	m := core.NewManager(b)
	_, r1, r2 := twoRequests(t, m)
	if n, err := r1.Incr("a", 10); err != nil || n != 11 {
		t.Fatalf("Incr = %d, %v", n, err)
	}
	if n, err := r2.Incr("a", 100); err != nil || n != 101 {
		t.Fatalf("Incr = %d, %v", n, err)
	}
	save(t, m, r1)
	b.Calls()
	save(t, m, r2) // conflicts: reads again and adds 100 to 11
	wantCalls(t, b, "set session:"+r2.ID(), "get session:"+r2.ID(), "set session:"+r2.ID())
	if n, _ := reloaded(t, m, r2).GetInt("a"); n != 111 {
		t.Fatalf("a = %d after +10 and +100 concurrently, want 111", n)
	}
}

func TestUpdateThatFailsOnFreshDataFailsTheSave(t *testing.T) {
	m := core.NewManager(newCounting(t))
	_, r1, r2 := twoRequests(t, m)
	r1.Set("a", "not a number")
	if _, err := r2.Incr("a", 1); err != nil {
		t.Fatal(err)
	}
	save(t, m, r1)
	if _, err := m.Save(context.Background(), r2); !errors.Is(err, core.ErrNotInteger) {
		t.Fatalf("Save = %v, want ErrNotInteger from the re-run", err)
	}
	if v, _ := reloaded(t, m, r1).GetString("a"); v != "not a number" {
		t.Fatalf("a = %q: the failed save wrote", v)
	}
}

func TestIncrRefusesOverflowAndOtherTypes(t *testing.T) {
	m := core.NewManager(newCounting(t))
	s := m.New(context.Background())
	s.Set("max", int64(1<<63-1))
	s.Set("word", "x")
	if _, err := s.Incr("max", 1); !errors.Is(err, core.ErrOverflow) {
		t.Errorf("Incr past MaxInt64: %v, want ErrOverflow", err)
	}
	if _, err := s.Incr("word", 1); !errors.Is(err, core.ErrNotInteger) {
		t.Errorf("Incr of a string: %v, want ErrNotInteger", err)
	}
	if n, err := s.Incr("new", -2); err != nil || n != -2 {
		t.Errorf("Incr of an absent key = %d, %v; want -2", n, err)
	}
	if v, _ := s.GetInt("max"); v != 1<<63-1 {
		t.Errorf("a failed Incr changed the value to %d", v)
	}
}

func TestFlashesTakenKeepThoseAddedMeanwhile(t *testing.T) {
	m := core.NewManager(newCounting(t))
	s := stored(t, m)
	s.Flash("message", "old")
	save(t, m, s)
	reader, writer := reloaded(t, m, s), reloaded(t, m, s)
	if got := reader.Flashes(); len(got) != 1 || got[0].Message != "old" {
		t.Fatalf("Flashes = %v", got)
	}
	writer.Flash("message", "new")
	save(t, m, writer)
	save(t, m, reader)
	got := reloaded(t, m, s).Flashes()
	if len(got) != 1 || got[0].Message != "new" {
		t.Fatalf("flashes left = %v, want only the one added meanwhile", got)
	}
}

func TestLogoutInterruptsRequestsInFlight(t *testing.T) {
	b := newCounting(t)
	m := core.NewManager(b)
	id, writer, logout := twoRequests(t, m)
	logout.Destroy()
	save(t, m, logout)
	writer.Set("x", 1)
	if _, err := m.Save(context.Background(), writer); !errors.Is(err, core.ErrInterrupted) {
		t.Fatalf("Save after logout = %v, want ErrInterrupted", err)
	}
	if core.HTTPStatus(core.ErrInterrupted) != http.StatusConflict {
		t.Error("ErrInterrupted does not answer 409")
	}
	if _, err := b.Store().Get(context.Background(), "session:"+id); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("the logged-out session is stored again: %v", err)
	}
}

func TestConcurrentRegenerateDoesNotFork(t *testing.T) {
	b := newCounting(t)
	m := core.NewManager(b)
	id, first, second := twoRequests(t, m)
	first.Regenerate()
	save(t, m, first)
	second.Regenerate()
	if _, err := m.Save(context.Background(), second); !errors.Is(err, core.ErrInterrupted) {
		t.Fatalf("second Regenerate = %v, want ErrInterrupted", err)
	}
	var keys []string
	for k, err := range b.Store().Keys(context.Background(), "session:") {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	if !slices.Equal(keys, []string{"session:" + first.ID()}) {
		t.Fatalf("stored sessions = %q, want only %q (old %q)", keys, first.ID(), id)
	}
}

func TestInterruptedCommitSendsNoCookie(t *testing.T) {
	m := core.NewManager(newCounting(t))
	s := stored(t, m)
	ex := newExchange("192.0.2.1:1")
	ex.cookies["session"] = s.ID()
	r := m.Begin(ex)
	inFlight, err := r.Session(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	serve(t, m, s.ID(), "192.0.2.1:2", func(s *core.Session) { s.Destroy() })
	inFlight.Set("x", 1)
	if err := r.Commit(context.Background()); !errors.Is(err, core.ErrInterrupted) {
		t.Fatalf("Commit = %v, want ErrInterrupted", err)
	}
	if sc := ex.out.Values("Set-Cookie"); len(sc) != 0 {
		t.Fatalf("an interrupted commit sent %q", sc)
	}
}

func TestConflictRetriesAreBounded(t *testing.T) {
	b := newCounting(t)
	m := core.NewManager(b)
	s := reloaded(t, m, stored(t, m))
	key := "session:" + s.ID()
	b.BeforeCall(func(op, k string) {
		if op == "set" && k == key { // another process writes first, every time
			_ = b.Store().Set(context.Background(), key, []byte(`{"a":`+time.Now().Format("150405.000000000")+`}`), time.Hour)
		}
	})
	s.Set("b", 2)
	b.Calls()
	start := time.Now()
	_, err := m.Save(context.Background(), s)
	if !errors.Is(err, core.ErrConflict) || !errors.Is(err, core.ErrBackend) {
		t.Fatalf("Save under endless conflicts = %v, want ErrConflict and ErrBackend", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("gave up after %v", d)
	}
	sets := 0
	for _, c := range b.Calls() {
		if strings.HasPrefix(c, "set ") {
			sets++
		}
	}
	if sets < 2 || sets > 16 {
		t.Fatalf("%d attempts, want a few and at most 16", sets)
	}
}

func TestPlainBackendIsReportedOnce(t *testing.T) {
	var reports []error
	m := core.NewManager(backendtest.Plain(newCounting(t)))
	m.ErrorHandler = func(_ context.Context, err error) { reports = append(reports, err) }
	for range 3 {
		s := m.New(context.Background())
		s.Set("a", 1)
		save(t, m, s)
	}
	if len(reports) != 1 || !strings.Contains(reports[0].Error(), "not Conditional") {
		t.Fatalf("reports = %v, want one saying the backend is not Conditional", reports)
	}
}
