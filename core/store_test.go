package core_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	rivalWrites(b, "session:"+s.ID(), 0)
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
	if sets := countPrefix(b.Calls(), "set "); sets < 2 || sets > 32 {
		t.Fatalf("%d attempts, want a few and at most 32", sets)
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

func TestSaveWritesOnlyWhenNeeded(t *testing.T) {
	ctx := context.Background()
	b := newCounting(t)
	m := core.NewManager(b)

	s := m.New(ctx)
	if wrote, err := m.Save(ctx, s); wrote || err != nil {
		t.Fatalf("Save of an untouched new session = %v, %v; want no write", wrote, err)
	}
	wantCalls(t, b)

	s.Set("user", "alice")
	if wrote, err := m.Save(ctx, s); !wrote || err != nil {
		t.Fatalf("Save of a changed session = %v, %v; want a write", wrote, err)
	}
	wantCalls(t, b, "set session:"+s.ID())
	if wrote, _ := m.Save(ctx, s); wrote {
		t.Fatal("a second Save without changes wrote again")
	}

	loaded, err := m.Load(ctx, s.ID())
	if err != nil {
		t.Fatal(err)
	}
	if loaded.IsNew() || loaded.ID() != s.ID() {
		t.Fatalf("Load(%q) = new %v, id %q", s.ID(), loaded.IsNew(), loaded.ID())
	}
	if v, _ := loaded.GetString("user"); v != "alice" {
		t.Fatalf("user = %q, want alice", v)
	}
	if !loaded.Permanent() {
		t.Error("sessions are permanent by default")
	}
}

func TestLoadNeverAdoptsUnknownIDs(t *testing.T) {
	ctx := context.Background()
	b := newCounting(t)
	m := core.NewManager(b)
	unknown := core.RandomID{}.NewID()
	s, err := m.Load(ctx, unknown)
	if err != nil {
		t.Fatal(err)
	}
	if !s.IsNew() || s.ID() == unknown {
		t.Fatalf("Load of an unknown id: new=%v id=%q; want a fresh id", s.IsNew(), s.ID())
	}
	wantCalls(t, b, "get session:"+unknown)

	for _, bad := range []string{"", "short", unknown + "A", strings.Repeat("x", 5000), "../../etc/passwd", unknown[:42] + "B"} {
		s, err := m.Load(ctx, bad)
		if err != nil || !s.IsNew() {
			t.Fatalf("Load(%.20q) = %v, %v", bad, s, err)
		}
		wantCalls(t, b) // malformed ids never reach the backend
	}
}

func TestEmptiedSessionIsDeleted(t *testing.T) {
	ctx := context.Background()
	b := newCounting(t)
	m := core.NewManager(b)
	s := reloaded(t, m, stored(t, m))
	b.Calls()

	s.Clear()
	if s.Len() != 0 || len(s.Keys()) != 0 {
		t.Fatalf("after Clear: Len %d, Keys %q", s.Len(), s.Keys())
	}
	if wrote, err := m.Save(ctx, s); !wrote || err != nil {
		t.Fatalf("Save after Clear = %v, %v", wrote, err)
	}
	wantCalls(t, b, "delete session:"+s.ID())
	if _, err := b.Store().Get(ctx, "session:"+s.ID()); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("cleared session still stored: %v", err)
	}
}

func TestRegenerateMovesDataAndDeletesOldID(t *testing.T) {
	ctx := context.Background()
	b := newCounting(t)
	m := core.NewManager(b)
	s := reloaded(t, m, stored(t, m))
	first := s.ID()
	s.Regenerate()
	s.Regenerate() // twice before a save: the stored id still goes
	b.Calls()
	m.Save(ctx, s)
	// The old id goes first: a concurrent Regenerate or logout of the same
	// session then makes this save fail instead of forking the session.
	wantCalls(t, b, "delete session:"+first, "set session:"+s.ID())
	if s.ID() == first {
		t.Fatal("Regenerate kept the id")
	}
	loaded, _ := m.Load(ctx, s.ID())
	if n, _ := loaded.GetInt("a"); n != 1 {
		t.Fatalf("data under the new id: a = %d", n)
	}
}

func TestDestroyThenSetStartsAFreshSession(t *testing.T) {
	ctx := context.Background()
	b := newCounting(t)
	m := core.NewManager(b)
	s := reloaded(t, m, stored(t, m))
	old := s.ID()
	s.Destroy()
	s.Set("b", 2)
	b.Calls()
	m.Save(ctx, s)
	wantCalls(t, b, "delete session:"+old, "set session:"+s.ID())
	loaded, _ := m.Load(ctx, s.ID())
	if _, ok := loaded.Get("a"); ok {
		t.Fatal("Destroy kept the old data")
	}
}

func TestFailedLoadIsAnError(t *testing.T) {
	ctx := context.Background()
	b := newCounting(t)
	m := core.NewManager(b)
	b.FailReads(errDown)
	b.FailWrites(errDown)
	_, err := m.Load(ctx, core.RandomID{}.NewID())
	if !errors.Is(err, errDown) {
		t.Fatalf("Load with a failing backend: err = %v, want it to wrap the backend's", err)
	}
}

func TestCorruptData(t *testing.T) {
	ctx := context.Background()
	b := newCounting(t)
	m := core.NewManager(b)
	id := core.RandomID{}.NewID()
	b.Store().Set(ctx, "session:"+id, []byte("\x00garbage"), time.Hour)

	m.StrictDecode = true
	if _, err := m.Load(ctx, id); !errors.Is(err, core.ErrCorrupt) {
		t.Fatalf("Load of corrupt data with StrictDecode: err = %v, want ErrCorrupt", err)
	}
	if v, _ := b.Store().Get(ctx, "session:"+id); string(v) != "\x00garbage" {
		t.Fatal("a failed load changed the stored data")
	}

	var reported error
	m.StrictDecode = false // the default
	m.ErrorHandler = func(_ context.Context, err error) { reported = err }
	s, err := m.Load(ctx, id)
	if err != nil || !s.IsNew() || s.ID() == id {
		t.Fatalf("Load of corrupt data = %v, %v; want a fresh session", s, err)
	}
	if !errors.Is(reported, core.ErrCorrupt) {
		t.Fatalf("reported %v, want ErrCorrupt", reported)
	}
	b.Calls()
	m.Save(ctx, s)
	wantCalls(t, b, "delete session:"+id)
}

func TestIdleTimeoutTouchesOncePerInterval(t *testing.T) {
	ctx := context.Background()
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	for _, tc := range []struct {
		name    string
		backend func(*backendtest.Recorder) core.Backend
		extend  string
	}{
		{"Toucher", func(b *backendtest.Recorder) core.Backend { return b }, "touch"},
		{"Rewrite", func(b *backendtest.Recorder) core.Backend { return backendtest.Plain(b) }, "set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newCounting(t)
			m := core.NewManager(tc.backend(b))
			core.SetClock(m, clk.Now)
			m.IdleTimeout = 30 * time.Minute
			m.TouchInterval = time.Minute
			s := stored(t, m)
			key := "session:" + s.ID()
			b.Calls()
			read := func() {
				t.Helper()
				s, err := m.Load(ctx, s.ID())
				if err != nil || s.IsNew() {
					t.Fatalf("Load = %v, %v", s, err)
				}
				m.Save(ctx, s)
			}
			read()
			read()
			wantCalls(t, b, "get "+key, "get "+key) // written just now: nothing due
			clk.Advance(61 * time.Second)
			read()
			read()
			wantCalls(t, b, "get "+key, tc.extend+" "+key, "get "+key)
			clk.Advance(3 * time.Minute)
			read()
			wantCalls(t, b, "get "+key, tc.extend+" "+key)
		})
	}
}

func TestHashKeys(t *testing.T) {
	ctx := context.Background()
	b := newCounting(t)
	m := core.NewManager(b)
	m.HashKeys = true
	s := stored(t, m)
	calls := b.Calls()
	if len(calls) != 1 || strings.Contains(calls[0], s.ID()) {
		t.Fatalf("calls %q: the id must not appear in the backend key", calls)
	}
	loaded, err := m.Load(ctx, s.ID())
	if err != nil || loaded.IsNew() {
		t.Fatalf("Load with hashed keys = %v, %v", loaded, err)
	}
}

func TestBackendErrorsAreMarked(t *testing.T) {
	ctx := context.Background()
	b := newCounting(t)
	m := core.NewManager(b)
	s := m.New(ctx)
	s.Set("a", 1)
	b.FailReads(errDown)
	b.FailWrites(errDown)
	_, err := m.Save(ctx, s)
	if !errors.Is(err, core.ErrBackend) || !errors.Is(err, errDown) || core.HTTPStatus(err) != 503 {
		t.Fatalf("Save error %v: want ErrBackend and the backend's error, status 503", err)
	}
	_, err = m.Load(ctx, core.RandomID{}.NewID())
	if !errors.Is(err, core.ErrBackend) {
		t.Fatalf("Load error %v: want ErrBackend", err)
	}
	b.FailReads(nil)
	b.FailWrites(nil)
	s.Set("ch", make(chan int)) // no codec can write a channel
	_, err = m.Save(ctx, s)
	if err == nil || errors.Is(err, core.ErrBackend) || core.HTTPStatus(err) != 500 {
		t.Fatalf("encode error %v: want a non-backend error, status 500", err)
	}
}

// stalled is a backend whose calls block until their context ends, like a
// frozen server behind a client that honours deadlines.
type stalled struct{ *backendtest.Recorder }

func (s stalled) GetVersion(ctx context.Context, key string) ([]byte, core.Version, error) {
	<-ctx.Done()
	return nil, nil, ctx.Err()
}

func (s stalled) SetIf(ctx context.Context, key string, v core.Version, value []byte, ttl time.Duration) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestFrozenBackendFailsWithinTheTimeout(t *testing.T) {
	b := newCounting(t)
	m := core.NewManager(b)
	id := stored(t, m).ID()
	m.Backend = stalled{b}
	m.BackendTimeout = 50 * time.Millisecond
	ctx := context.Background()

	start := time.Now()
	_, err := m.Load(ctx, id)
	if !errors.Is(err, core.ErrBackend) || !errors.Is(err, context.DeadlineExceeded) || core.HTTPStatus(err) != 503 {
		t.Fatalf("Load on a frozen backend = %v, want a 503 ErrBackend with the deadline", err)
	}
	s := m.New(ctx)
	s.Set("a", 1)
	_, err = m.Save(ctx, s)
	if !errors.Is(err, core.ErrBackend) || core.HTTPStatus(err) != 503 {
		t.Fatalf("Save on a frozen backend = %v, want a 503 ErrBackend", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("load and save took %v with a 50ms timeout", d)
	}
}

// chatty is a backend whose errors name the key, as most do.
type chatty struct{ *backendtest.Recorder }

func (c chatty) GetVersion(_ context.Context, key string) ([]byte, core.Version, error) {
	return nil, nil, fmt.Errorf("get %q: connection reset", key)
}

func (c chatty) SetIf(_ context.Context, key string, _ core.Version, _ []byte, _ time.Duration) error {
	return fmt.Errorf("set %q: connection reset", key)
}

func TestBackendErrorsHideTheSessionID(t *testing.T) {
	b := newCounting(t)
	m := core.NewManager(b)
	s := stored(t, m)
	id := s.ID()
	m.Backend = chatty{b}
	_, loadErr := m.Load(context.Background(), id)
	s.Set("b", 2)
	_, saveErr := m.Save(context.Background(), s)
	for _, err := range []error{loadErr, saveErr} {
		if !errors.Is(err, core.ErrBackend) {
			t.Fatalf("err = %v, want a backend error", err)
		}
		if strings.Contains(err.Error(), id) || !strings.Contains(err.Error(), core.LogID("session:"+id)) {
			t.Errorf("error text %q shows the session id or lacks its LogID", err)
		}
	}

	// A failed commit goes to the log through the default ErrorHandler.
	var logged bytes.Buffer
	m.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	r := m.Begin(newExchange("192.0.2.1:1"))
	fresh, _ := r.Session(context.Background())
	fresh.Set("a", 1)
	if err := r.Commit(context.Background()); err == nil {
		t.Fatal("Commit over a failing backend succeeded")
	}
	if !strings.Contains(logged.String(), "connection reset") || strings.Contains(logged.String(), fresh.ID()) {
		t.Errorf("log %q lacks the failure or shows the session id", logged.String())
	}
}

func TestMaxSize(t *testing.T) {
	b := newCounting(t)
	m := core.NewManager(b)
	s := reloaded(t, m, stored(t, m))
	s.Set("big", strings.Repeat("x", 300<<10)) // past the 256 KiB default
	b.Calls()
	_, err := m.Save(context.Background(), s)
	if !errors.Is(err, core.ErrTooLarge) || core.HTTPStatus(err) != http.StatusRequestEntityTooLarge {
		t.Fatalf("Save of a 300 KiB session = %v, want ErrTooLarge (413)", err)
	}
	wantCalls(t, b) // nothing written
	if _, ok := reloaded(t, m, s).Get("big"); ok {
		t.Fatal("the oversized value was stored")
	}
	m.MaxSize = -1
	s = reloaded(t, m, s)
	s.Set("big", strings.Repeat("x", 300<<10))
	if _, err := m.Save(context.Background(), s); err != nil {
		t.Fatalf("Save with no MaxSize: %v", err)
	}
}

// A session set after Destroy is a new one: the destroyed session's choice
// of a cookie that ends with the browser, and its age, do not carry over.
func TestDestroyThenSetStartsFromTheManagersDefaults(t *testing.T) {
	ctx := context.Background()
	m := core.NewManager(newCounting(t))
	m.AbsoluteTimeout = 48 * time.Hour
	c := &clock{now: time.Now()}
	core.SetClock(m, c.Now)
	s := m.New(ctx)
	s.Set("a", 1)
	s.SetPermanent(false)
	if _, err := m.Save(ctx, s); err != nil {
		t.Fatal(err)
	}

	c.Advance(24 * time.Hour)
	s = reloaded(t, m, s)
	if s.Permanent() {
		t.Fatal("SetPermanent(false) was not saved")
	}
	s.Destroy()
	s.Set("b", 2)
	if _, err := m.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	c.Advance(36 * time.Hour) // 60 h after the first session began
	next, err := m.Load(ctx, s.ID())
	if err != nil || next.IsNew() {
		t.Fatalf("the session after Destroy expired with its predecessor's age: %v, new %v", err, next != nil && next.IsNew())
	}
	if !next.Permanent() {
		t.Error("the session after Destroy kept its predecessor's SetPermanent(false)")
	}
}
