package core_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cloakroom/cloakroom/core"
)

func TestTransportsAreValidated(t *testing.T) {
	for name, tr := range map[string]core.Transport{
		"header name with a space": core.HeaderTransport("X Token"),
		"header name with a colon": core.HeaderTransport("X-Token:"),
		"empty chain":              core.ChainTransport(),
		"nil in a chain":           core.ChainTransport(core.CookieTransport(), nil),
		"bad header in a chain":    core.ChainTransport(core.CookieTransport(), core.HeaderTransport("a/b")),
	} {
		m := core.NewManager(newCounting(t))
		m.Transport = tr
		if err := m.Validate(); !errors.Is(err, core.ErrConfig) {
			t.Errorf("%s: Validate = %v, want core.ErrConfig", name, err)
		}
	}
	m := core.NewManager(newCounting(t))
	m.Transport = core.ChainTransport(core.CookieTransport(), core.HeaderTransport(""), core.BearerTransport())
	if err := m.Validate(); err != nil {
		t.Errorf("a chain of every transport: Validate = %v", err)
	}
}

// countingSigner counts the tokens it is asked to verify.
type countingSigner struct {
	testSigner
	unsigned int
}

func (s *countingSigner) Unsign(v string) (string, error) {
	s.unsigned++
	return s.testSigner.Unsign(v)
}

// An oversized token is not verified nor looked up, whatever carries it.
func TestOversizedTokenIsAbsent(t *testing.T) {
	b := newCounting(t)
	m := core.NewManager(b)
	signer := &countingSigner{}
	m.Signer, m.Transport = signer, core.HeaderTransport("")
	ex := newExchange("127.0.0.1:1")
	ex.header.Set(core.DefaultTokenHeader, strings.Repeat("A", 5000)+".sig")
	s, err := m.Begin(ex).Session(context.Background())
	if err != nil || !s.IsNew() {
		t.Fatalf("Session = new %v, %v; want a new session", s != nil && s.IsNew(), err)
	}
	if signer.unsigned != 0 {
		t.Errorf("Unsign called %d times for a 5 KB token", signer.unsigned)
	}
	wantCalls(t, b)
}

// A cookie session (the whole session signed) travels in a header too, and
// each change hands out a new token.
func TestCookieSessionInHeader(t *testing.T) {
	m, err := core.NewCookieManager("a test secret of thirty-two bytes")
	if err != nil {
		t.Fatal(err)
	}
	m.Transport = core.HeaderTransport("X-State")
	step := func(token string, change func(*core.Session)) (*exchange, *core.Session) {
		t.Helper()
		ex := newExchange("127.0.0.1:1")
		if token != "" {
			ex.header.Set("X-State", token)
		}
		r := m.Begin(ex)
		s, err := r.Session(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		change(s)
		if err := r.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
		if sc := ex.out.Values("Set-Cookie"); len(sc) > 0 {
			t.Errorf("Set-Cookie = %q, want none", sc)
		}
		return ex, s
	}
	ex, _ := step("", func(s *core.Session) { s.Set("n", 1) })
	first := ex.out.Get("X-State")
	if first == "" {
		t.Fatal("no token handed out")
	}
	ex, s := step(first, func(s *core.Session) {})
	if n, _ := s.GetInt("n"); n != 1 || ex.out.Values("X-State") != nil {
		t.Errorf("read: n = %d, X-State = %q; want 1 and no new token", n, ex.out.Values("X-State"))
	}
	ex, _ = step(first, func(s *core.Session) { s.Set("n", 2) })
	if second := ex.out.Get("X-State"); second == "" || second == first {
		t.Errorf("a change handed out token %q, want a new one", second)
	}
}

// A token the client could not send back is refused at the save, as a
// cookie over 4093 bytes is.
func TestTokenTooLarge(t *testing.T) {
	m, err := core.NewCookieManager("a test secret of thirty-two bytes")
	if err != nil {
		t.Fatal(err)
	}
	m.Transport = core.HeaderTransport("")
	r := m.Begin(newExchange("127.0.0.1:1"))
	s, _ := r.Session(context.Background())
	var big strings.Builder
	for range 120 { // random, so that compression cannot shrink it
		big.WriteString(core.RandomID{}.NewID())
	}
	s.Set("big", big.String())
	if err := r.Commit(context.Background()); !errors.Is(err, core.ErrCookieTooLarge) {
		t.Errorf("Commit = %v, want core.ErrCookieTooLarge", err)
	}
}

// Two Managers on one response vary on Cookie once.
func TestVaryIsAddedOnce(t *testing.T) {
	ex := newExchange("127.0.0.1:1")
	for range 2 {
		m := core.NewManager(newCounting(t))
		if _, err := m.Begin(ex).Session(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if v := ex.out.Values("Vary"); len(v) != 1 || v[0] != "Cookie" {
		t.Errorf("Vary = %q, want Cookie once", v)
	}
	ex = newExchange("127.0.0.1:1")
	ex.out.Add("Vary", "Accept-Encoding, cookie")
	if _, err := core.NewManager(newCounting(t)).Begin(ex).Session(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v := ex.out.Values("Vary"); len(v) != 1 {
		t.Errorf("Vary = %q, want the handler's, which names cookie already", v)
	}
}

// A response that hands out a token is private, and its no-cache names the
// header the token is in: one directive, however many Managers hand one
// out.
func TestTokenResponsesNameTheirField(t *testing.T) {
	cookies := core.NewManager(newCounting(t))
	device := core.NewManager(newCounting(t))
	device.Transport = core.HeaderTransport("X-Device-Token")
	for _, tc := range []struct {
		ms   []*core.Manager
		want string
	}{
		{[]*core.Manager{device}, `private, no-cache="X-Device-Token"`},
		{[]*core.Manager{cookies, cookies}, `private, no-cache="Set-Cookie"`},
		{[]*core.Manager{cookies, device}, `private, no-cache="Set-Cookie, X-Device-Token"`},
	} {
		ex := newExchange("127.0.0.1:1")
		for _, m := range tc.ms {
			r := m.Begin(ex)
			s, err := r.Session(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			s.Set("a", 1)
			if err := r.Commit(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if cc := ex.out.Values("Cache-Control"); len(cc) != 1 || cc[0] != tc.want {
			t.Errorf("%d Managers: Cache-Control = %q, want %q", len(tc.ms), cc, tc.want)
		}
	}
}

// Two session cookies of different values mean one was planted (a sibling
// subdomain can set one for the whole domain): neither is adopted, and the
// response does not expire the victim's own. The same value twice is one.
func TestDuplicateCookiesAreRefused(t *testing.T) {
	b := newCounting(t)
	m := core.NewManager(b)
	victim, planted := stored(t, m), stored(t, m)
	for name, c := range map[string]struct {
		header string
		want   string // the id adopted, "" for a new session
	}{
		"two values":               {"session=" + planted.ID() + "; session=" + victim.ID(), ""},
		"two values, other order":  {"session=" + victim.ID() + "; other=1; session=" + planted.ID(), ""},
		"an empty one beside":      {"session=; session=" + victim.ID(), ""},
		"the same value twice":     {"session=" + victim.ID() + ";session=" + victim.ID(), victim.ID()},
		"quoted, as net/http":      {`a=b; session="` + victim.ID() + `"`, victim.ID()},
		"a name that only ends so": {"xsession=" + planted.ID() + "; session=" + victim.ID(), victim.ID()},
	} {
		ex := newExchange("192.0.2.1:1")
		ex.header.Set("Cookie", c.header)
		r := m.Begin(ex)
		s, err := r.Session(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := s.ID(); (c.want == "") != s.IsNew() || c.want != "" && got != c.want {
			t.Errorf("%s: session new %v id %s, want %s", name, s.IsNew(), core.LogID(got), core.LogID(c.want))
		}
		if err := r.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
		if sc := ex.out.Values("Set-Cookie"); len(sc) != 0 {
			t.Errorf("%s: response set %q", name, sc)
		}
	}
}

// Two token headers are refused as two cookies are, and the response does
// not tell the client to drop the tokens it holds.
func TestDuplicateHeaderTokensAreRefused(t *testing.T) {
	m := core.NewManager(newCounting(t))
	m.Transport = core.BearerTransport()
	s := stored(t, m)
	ex := newExchange("192.0.2.1:1")
	ex.header.Add("Authorization", "Bearer "+s.ID())
	ex.header.Add("Authorization", "Bearer "+s.ID())
	r := m.Begin(ex)
	got, err := r.Session(context.Background())
	if err != nil || !got.IsNew() {
		t.Fatalf("Session = new %v, %v; want a new session", got != nil && got.IsNew(), err)
	}
	if err := r.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v, sent := ex.out[core.DefaultTokenHeader]; sent {
		t.Errorf("response carries %s: %q", core.DefaultTokenHeader, v)
	}
}

// In a chain, a cookie that is not a valid token does not hide the valid
// bearer token behind it; the junk alone is dropped.
func TestChainSkipsInvalidTokens(t *testing.T) {
	m := core.NewManager(newCounting(t))
	m.Transport = core.ChainTransport(core.CookieTransport(), core.BearerTransport())
	s := stored(t, m)
	ex := newExchange("192.0.2.1:1")
	ex.cookies["session"] = "junk"
	ex.header.Set("Authorization", "Bearer "+s.ID())
	r := m.Begin(ex)
	got, err := r.Session(context.Background())
	if err != nil || got.IsNew() || got.ID() != s.ID() {
		t.Fatalf("Session = new %v, %v; want the bearer token's session", got != nil && got.IsNew(), err)
	}
	got.Set("b", 2)
	if err := r.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if sc := ex.out.Values("Set-Cookie"); len(sc) != 0 {
		t.Errorf("a session read by bearer token answered with a cookie: %q", sc)
	}

	ex = newExchange("192.0.2.1:1")
	ex.cookies["session"] = "junk"
	r = m.Begin(ex)
	if _, err := r.Session(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c := ex.setCookie("session"); c == nil || c.MaxAge >= 0 {
		t.Errorf("a junk cookie alone was not expired: %v", c)
	}
}
