package core_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

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

	if _, err := m.Load(ctx, id); !errors.Is(err, core.ErrCorrupt) {
		t.Fatalf("Load of corrupt data: err = %v, want ErrCorrupt", err)
	}
	if v, _ := b.Store().Get(ctx, "session:"+id); string(v) != "\x00garbage" {
		t.Fatal("a failed load changed the stored data")
	}

	var reported error
	m.DiscardCorrupt = true
	m.ErrorHandler = func(_ context.Context, err error) { reported = err }
	s, err := m.Load(ctx, id)
	if err != nil || !s.IsNew() || s.ID() == id {
		t.Fatalf("Load with DiscardCorrupt = %v, %v; want a fresh session", s, err)
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

func TestAbsoluteTimeout(t *testing.T) {
	ctx := context.Background()
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	b := newCounting(t)
	m := core.NewManager(b)
	core.SetClock(m, clk.Now)
	m.AbsoluteTimeout = time.Hour
	s := stored(t, m)
	clk.Advance(40 * time.Minute)
	s, _ = m.Load(ctx, s.ID())
	s.Regenerate() // must not restart the clock
	m.Save(ctx, s)
	clk.Advance(21 * time.Minute)
	again, err := m.Load(ctx, s.ID())
	if err != nil || !again.IsNew() {
		t.Fatalf("Load after the absolute timeout = new %v, %v; want a fresh session", again.IsNew(), err)
	}
	b.Calls()
	m.Save(ctx, again)
	wantCalls(t, b, "delete session:"+s.ID())
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

func TestLateChangeIsReported(t *testing.T) {
	b := newCounting(t)
	m := core.NewManager(b)
	var reported []error
	m.ErrorHandler = func(_ context.Context, err error) { reported = append(reported, err) }
	ex := newExchange("127.0.0.1:1")
	r := m.Begin(ex)
	s, _ := r.Session(context.Background())
	s.Set("a", 1)
	if err := r.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Set("b", 2)
	if len(reported) != 1 || !errors.Is(reported[0], core.ErrLateChange) {
		t.Fatalf("reported %v, want one ErrLateChange", reported)
	}
	if err := r.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if calls := b.Calls(); len(calls) != 1 {
		t.Fatalf("calls %q: a second Commit must do nothing", calls)
	}
}

func TestSessionAfterCommitIsSealed(t *testing.T) {
	m := core.NewManager(newCounting(t))
	var reported error
	m.ErrorHandler = func(_ context.Context, err error) { reported = err }
	r := m.Begin(newExchange("127.0.0.1:1"))
	r.Commit(context.Background()) // the response went out before the handler asked
	s, err := r.Session(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.Set("a", 1)
	if !errors.Is(reported, core.ErrLateChange) {
		t.Fatalf("a change to a session first asked for after the commit: reported %v", reported)
	}
}

func TestFailedCommitIsReported(t *testing.T) {
	b := newCounting(t)
	m := core.NewManager(b)
	var reported error
	m.ErrorHandler = func(_ context.Context, err error) { reported = err }
	ex := newExchange("127.0.0.1:1")
	r := m.Begin(ex)
	s, _ := r.Session(context.Background())
	s.Set("a", 1)
	b.FailReads(errDown)
	b.FailWrites(errDown)
	if err := r.Commit(context.Background()); !errors.Is(err, errDown) {
		t.Fatalf("Commit = %v, want the backend's error", err)
	}
	if !errors.Is(reported, errDown) {
		t.Fatalf("reported %v", reported)
	}
	if c := ex.setCookie("session"); c != nil {
		t.Fatalf("a failed save set a cookie: %v", c)
	}
}

func TestCookies(t *testing.T) {
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	m := core.NewManager(newCounting(t))
	core.SetClock(m, clk.Now)
	m.Cookie.Secure, m.Cookie.Domain = true, "example.com"

	ex := serve(t, m, "", "127.0.0.1:1", func(s *core.Session) { s.Set("a", 1) })
	c := ex.setCookie("session")
	if c == nil || !c.Secure || c.Domain != "example.com" || !c.HttpOnly {
		t.Fatalf("cookie = %v", c)
	}
	if want := clk.Now().Add(m.Lifetime); !c.Expires.Equal(want) || c.MaxAge != int(m.Lifetime.Seconds()) {
		t.Fatalf("Expires %v Max-Age %d, want %v and %d", c.Expires, c.MaxAge, want, int(m.Lifetime.Seconds()))
	}
	if got := ex.out.Get("Vary"); got != "Cookie" {
		t.Fatalf("Vary = %q", got)
	}

	ex = serve(t, m, "", "127.0.0.1:1", func(s *core.Session) { s.SetPermanent(false); s.Set("a", 1) })
	if c := ex.setCookie("session"); c == nil || !c.Expires.IsZero() || c.MaxAge != 0 {
		t.Fatalf("a non-permanent session's cookie = %v, want no Expires nor Max-Age", c)
	}

	m.AbsoluteTimeout = time.Hour
	ex = serve(t, m, "", "127.0.0.1:1", func(s *core.Session) { s.Set("a", 1) })
	if c := ex.setCookie("session"); c == nil || c.MaxAge != 3600 {
		t.Fatalf("cookie under a one-hour absolute timeout = %v", c)
	}
}

func TestSkip(t *testing.T) {
	m := core.NewManager(newCounting(t))
	if !m.Skip("/static/app.css") || m.Skip("/") || m.Skip("/staticky") {
		t.Fatal("default static predicate")
	}
	m.StaticSessions = true
	if m.Skip("/static/app.css") {
		t.Fatal("StaticSessions must give static requests sessions")
	}
}

type testSigner struct{}

func (testSigner) Sign(id string) string { return id + ".sig" }
func (testSigner) Unsign(s string) (string, error) {
	id, ok := strings.CutSuffix(s, ".sig")
	if !ok {
		return "", errors.New("bad signature")
	}
	return id, nil
}

func TestSignedIDs(t *testing.T) {
	b := newCounting(t)
	m := core.NewManager(b)
	m.Signer = testSigner{}
	ex := serve(t, m, "", "127.0.0.1:1", func(s *core.Session) { s.Set("a", 1) })
	c := ex.setCookie("session")
	if c == nil || !strings.HasSuffix(c.Value, ".sig") {
		t.Fatalf("cookie = %v, want a signed id", c)
	}
	b.Calls()
	serve(t, m, c.Value, "127.0.0.1:1", func(s *core.Session) {
		if s.IsNew() {
			t.Error("a correctly signed id was not loaded")
		}
	})
	wantCalls(t, b, "get session:"+strings.TrimSuffix(c.Value, ".sig"))
	serve(t, m, strings.TrimSuffix(c.Value, ".sig"), "127.0.0.1:1", func(s *core.Session) {
		if !s.IsNew() {
			t.Error("an unsigned id was accepted")
		}
	})
	wantCalls(t, b) // a bad signature costs no I/O
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

// TestErrorHandlerMayUseTheSession: reports come without the session's
// lock held, so an ErrorHandler that logs the session's id does not hang.
func TestErrorHandlerMayUseTheSession(t *testing.T) {
	b := newCounting(t)
	m := core.NewManager(b)
	var s *core.Session
	var ids []string
	m.ErrorHandler = func(_ context.Context, err error) { ids = append(ids, s.ID()) }
	r := m.Begin(newExchange("127.0.0.1:1"))
	s, _ = r.Session(context.Background())
	s.Set("a", 1)
	b.FailReads(errDown)
	b.FailWrites(errDown)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Commit(context.Background()) // a failed save: reported
		s.Set("b", 2)                  // a late change: reported
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("deadlock: the ErrorHandler could not use the session")
	}
	if len(ids) != 2 {
		t.Fatalf("%d reports, want 2", len(ids))
	}
}
