package core_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
)

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

func TestCookieResponsesAreKeptFromSharedCaches(t *testing.T) {
	m := core.NewManager(newCounting(t))
	var reports []error
	m.ErrorHandler = func(_ context.Context, err error) { reports = append(reports, err) }
	for _, tc := range []struct{ handler, want string }{
		{"", `private, no-cache="Set-Cookie"`},
		{"max-age=60", `max-age=60, private, no-cache="Set-Cookie"`},
		{"public, max-age=3600", `max-age=3600, private, no-cache="Set-Cookie"`},
	} {
		ex := newExchange("192.0.2.1:1")
		if tc.handler != "" {
			ex.out.Set("Cache-Control", tc.handler)
		}
		r := m.Begin(ex)
		s, _ := r.Session(context.Background())
		s.Set("a", 1)
		if err := r.Commit(context.Background()); err != nil {
			t.Fatalf("Commit: %v", err)
		}
		if got := ex.out.Get("Cache-Control"); got != tc.want {
			t.Errorf("handler's %q: Cache-Control = %q, want %q", tc.handler, got, tc.want)
		}
	}
	if len(reports) != 1 || !errors.Is(reports[0], core.ErrPublicSession) {
		t.Errorf("reports = %v, want one ErrPublicSession for the public page", reports)
	}
	// A read-only request sets no cookie and leaves caching to the handler.
	ex := serve(t, m, "", "192.0.2.1:1", nil)
	if cc := ex.out.Get("Cache-Control"); cc != "" {
		t.Errorf("a request without Set-Cookie got Cache-Control %q", cc)
	}
}

// A response made with a user's session is private even when it hands out
// no token, so that a cache that ignores Vary cannot serve it to another
// user; the handler's own Cache-Control is kept.
func TestSessionResponsesArePrivate(t *testing.T) {
	m := core.NewManager(newCounting(t))
	s := stored(t, m)
	for name, c := range map[string]struct {
		cookie, own, want string
		read              bool
	}{
		"reads a stored session":     {cookie: s.ID(), read: true, want: "private"},
		"says how to cache it":       {cookie: s.ID(), read: true, own: "no-store", want: "no-store"},
		"never asks for its session": {cookie: s.ID(), want: ""},
		"reads a new empty session":  {read: true, want: ""},
	} {
		ex := newExchange("192.0.2.1:1")
		if c.cookie != "" {
			ex.cookies["session"] = c.cookie
		}
		if c.own != "" {
			ex.out.Set("Cache-Control", c.own)
		}
		r := m.Begin(ex)
		if c.read {
			if _, err := r.Session(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := ex.out.Get("Cache-Control"); got != c.want {
			t.Errorf("%s: Cache-Control %q, want %q", name, got, c.want)
		}
	}
}

// Managers that serve one request and would read each other's sessions
// fail at the first load; Managers kept apart serve.
func TestManagersBesideEachOtherAreKeptApart(t *testing.T) {
	b := newCounting(t)
	cookieManager := func(name string) *core.Manager {
		m, err := core.NewCookieManager("a secret of at least thirty-two bytes!")
		if err != nil {
			t.Fatal(err)
		}
		m.Cookie.Name = name
		return m
	}
	named := func(name, prefix string) *core.Manager {
		m := core.NewManager(b)
		m.Cookie.Name, m.KeyPrefix = name, prefix
		return m
	}
	for name, c := range map[string]struct {
		ms      []*core.Manager
		overlap bool
	}{
		"one backend, one prefix":       {[]*core.Manager{named("session", "session:"), named("prefs", "session:")}, true},
		"one backend, two prefixes":     {[]*core.Manager{named("session", "session:"), named("prefs", "prefs:")}, false},
		"two backends, one prefix":      {[]*core.Manager{named("session", "session:"), core.NewManager(newCounting(t))}, false},
		"the third overlaps the second": {[]*core.Manager{named("a", "a:"), named("b", "b:"), named("c", "b:")}, true},
		"cookies of one name":           {[]*core.Manager{cookieManager("session"), cookieManager("session")}, true},
		"cookies of two names":          {[]*core.Manager{cookieManager("session"), cookieManager("prefs")}, false},
		"a store and a cookie":          {[]*core.Manager{named("session", "session:"), cookieManager("session")}, false},
	} {
		var first *core.Request
		var rs []*core.Request
		for _, m := range c.ms {
			r := m.BeginBeside(newExchange("192.0.2.1:1"), first)
			if first == nil {
				first = r
			}
			rs = append(rs, r)
		}
		for i, r := range rs {
			_, err := r.Session(context.Background())
			if c.overlap != errors.Is(err, core.ErrConfig) {
				t.Errorf("%s: Manager %d: Session = %v, want ErrConfig %v", name, i, err, c.overlap)
			}
		}
	}
}
