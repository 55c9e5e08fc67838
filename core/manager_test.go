package core_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/signing"
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

func TestWeakSecretIsRefused(t *testing.T) {
	const strong = "a secret of at least thirty-two bytes!"
	shortSigner, _ := signing.NewSigner(signing.QuartSessionSalt, strong, "old")
	longSigner, _ := signing.NewSigner(signing.QuartSessionSalt, strong)
	cookie := func(secrets ...string) *core.Manager {
		m, err := core.NewCookieManager(secrets...)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	django := func(secrets ...string) *core.Manager {
		m, err := core.NewDjangoManager(newCounting(t), secrets...)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	signed := func(s *signing.Signer) *core.Manager {
		m := core.NewManager(newCounting(t))
		m.Signer = s
		return m
	}
	for name, c := range map[string]struct {
		m    *core.Manager
		weak bool
	}{
		"cookie, short":           {cookie("short"), true},
		"cookie, short fallback":  {cookie(strong, "old"), true},
		"cookie, strong":          {cookie(strong), false},
		"django, short":           {django("django-secret"), true},
		"django, strong":          {django(strong), false},
		"signed ids, short":       {signed(shortSigner), true},
		"signed ids, strong":      {signed(longSigner), false},
		"unsigned ids, no secret": {core.NewManager(newCounting(t)), false},
	} {
		m := c.m
		var reports []error
		m.ErrorHandler = func(_ context.Context, err error) { reports = append(reports, err) }
		err := m.Validate()
		if c.weak != errors.Is(err, core.ErrWeakSecret) || c.weak != errors.Is(err, core.ErrConfig) {
			t.Errorf("%s: Validate = %v, want ErrWeakSecret %v", name, err, c.weak)
		}
		_, err = m.Begin(newExchange("192.0.2.1:1")).Session(context.Background())
		if c.weak != errors.Is(err, core.ErrWeakSecret) {
			t.Errorf("%s: first request = %v, want ErrWeakSecret %v", name, err, c.weak)
		}
		if c.weak && len(reports) != 1 {
			t.Errorf("%s: reports = %v, want the refusal reported once", name, reports)
		}
		if !c.weak {
			continue
		}
		// A Manager checks its setup once; a fresh one for the opt-in.
		m.AllowWeakSecret = true
		if err := m.Validate(); err != nil {
			t.Errorf("%s with AllowWeakSecret: Validate = %v", name, err)
		}
	}
	if _, err := core.NewCookieManager(""); err == nil {
		t.Error("an empty secret was accepted")
	}
	m := cookie("short")
	m.AllowWeakSecret = true
	serve(t, m, "", "192.0.2.1:1", func(s *core.Session) { s.Set("a", 1) })
}

// A cookie name's __Host- or __Secure- prefix is a promise to browsers
// that the Manager checks: they drop a cookie that breaks it.
func TestCookiePrefixes(t *testing.T) {
	for name, c := range map[string]struct {
		cookie core.CookieOptions
		ok     bool
	}{
		"__Host- as required":  {core.CookieOptions{Name: "__Host-session", Path: "/", Secure: true}, true},
		"__Host- not Secure":   {core.CookieOptions{Name: "__Host-session", Path: "/"}, false},
		"__Host- with Domain":  {core.CookieOptions{Name: "__Host-session", Path: "/", Secure: true, Domain: "example.com"}, false},
		"__Host- under a Path": {core.CookieOptions{Name: "__Host-session", Path: "/app", Secure: true}, false},
		"__Secure- Secure":     {core.CookieOptions{Name: "__Secure-session", Path: "/app", Secure: true, Domain: "example.com"}, true},
		"__Secure- not Secure": {core.CookieOptions{Name: "__Secure-session", Path: "/"}, false},
	} {
		m := core.NewManager(newCounting(t))
		m.Cookie = c.cookie
		if err := m.Validate(); c.ok != (err == nil) || err != nil && !errors.Is(err, core.ErrConfig) {
			t.Errorf("%s: Validate = %v", name, err)
		}
	}
	m := core.NewManager(newCounting(t))
	m.Cookie.Name, m.Cookie.Secure = "__Host-session", true
	ex := serve(t, m, "", "192.0.2.1:1", func(s *core.Session) { s.Set("a", 1) })
	c := ex.setCookie("__Host-session")
	if c == nil || !c.Secure || c.Path != "/" || c.Domain != "" {
		t.Fatalf("__Host- cookie set as %v", c)
	}
	serve(t, m, c.Value, "192.0.2.1:1", func(s *core.Session) {
		if s.IsNew() {
			t.Error("the __Host- cookie did not bring its session back")
		}
	})
}

// One client address cannot store more new sessions a minute than
// NewSessionsPerClient; other clients, existing sessions and logins are
// not held back by it.
func TestNewSessionsPerClient(t *testing.T) {
	b := newCounting(t)
	m := core.NewManager(b)
	m.ErrorHandler = func(context.Context, error) {}
	m.NewSessionsPerClient = 3
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	core.SetClock(m, clk.Now)
	start := func(remote string) (*exchange, error) {
		ex := newExchange(remote)
		r := m.Begin(ex)
		s, err := r.Session(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		s.Set("a", 1)
		return ex, r.Commit(context.Background())
	}
	var first *http.Cookie
	for i := range 3 {
		ex, err := start("192.0.2.1:1000")
		if err != nil {
			t.Fatalf("new session %d of 3: %v", i+1, err)
		}
		if first == nil {
			first = ex.setCookie("session")
		}
	}
	b.Calls()
	ex, err := start("192.0.2.1:1001")
	if !errors.Is(err, core.ErrTooManySessions) || core.HTTPStatus(err) != http.StatusTooManyRequests {
		t.Fatalf("a fourth new session within the minute: %v, want ErrTooManySessions (429)", err)
	}
	if sc := ex.out.Values("Set-Cookie"); len(sc) != 0 {
		t.Errorf("the refused session sent %q", sc)
	}
	wantCalls(t, b) // nothing was written
	if _, err := start("192.0.2.2:1000"); err != nil {
		t.Errorf("another client was held back: %v", err)
	}
	serve(t, m, first.Value, "192.0.2.1:1000", func(s *core.Session) {
		if s.IsNew() {
			t.Fatal("the first session is gone")
		}
		s.Regenerate() // a login replaces a session: no new one is counted
		s.Set("user", "alice")
	})
	clk.Advance(2 * time.Minute)
	if _, err := start("192.0.2.1:1000"); err != nil {
		t.Errorf("still refused two minutes later: %v", err)
	}
}
