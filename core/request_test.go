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
