package core_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
)

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

// TestErrorHandlerMayUseTheSession: reports come without the session's

// lock held, so an ErrorHandler that logs the session's id does not hang.

func TestValidate(t *testing.T) {
	var nilManager *core.Manager
	if err := nilManager.Validate(); !errors.Is(err, core.ErrNilManager) {
		t.Errorf("nil Manager: %v", err)
	}
	if err := core.NewManager(nil).Validate(); !errors.Is(err, core.ErrConfig) {
		t.Errorf("Manager without a Backend: %v, want ErrConfig", err)
	}
	cookies, err := core.NewCookieManager("a secret of at least thirty-two bytes!")
	if err != nil {
		t.Fatal(err)
	}
	if err := cookies.Validate(); err != nil {
		t.Errorf("cookie Manager: %v", err)
	}
	cookies.Lifetime = 0
	if err := cookies.Validate(); !errors.Is(err, core.ErrConfig) {
		t.Errorf("cookie sessions that never expire: %v, want ErrConfig", err)
	}
	if err := core.NewManager(newCounting(t)).Validate(); err != nil {
		t.Errorf("default Manager: %v", err)
	}
}

func TestShortSecretIsReportedOnce(t *testing.T) {
	for _, secrets := range [][]string{{"short"}, {"a secret of at least thirty-two bytes!", "old"}} {
		m, err := core.NewCookieManager(secrets...)
		if err != nil {
			t.Fatal(err)
		}
		var reports []error
		m.ErrorHandler = func(_ context.Context, err error) { reports = append(reports, err) }
		serve(t, m, "", "192.0.2.1:1", nil)
		serve(t, m, "", "192.0.2.1:1", nil)
		if len(reports) != 1 || !errors.Is(reports[0], core.ErrWeakSecret) {
			t.Errorf("secrets %q: reports = %v, want one ErrWeakSecret", secrets, reports)
		}
	}
	if _, err := core.NewCookieManager(""); err == nil {
		t.Error("an empty secret was accepted")
	}
}
