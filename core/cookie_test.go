package core_test

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/codec"
	"github.com/cloakroom/cloakroom/core/signing"
)

func TestCookieSessionsMatchFlask(t *testing.T) {
	var v struct {
		Secret   string `json:"secret_key"`
		Time     int64  `json:"timestamp"`
		Vectors  []cookieVector
		Invalid  []cookieVector
		Rotation struct {
			OldSecret string `json:"old_secret"`
			NewSecret string `json:"new_secret"`
			Cookie    string
		}
		Expired struct {
			VerifyAt int64 `json:"verify_at"`
			Cookie   string
		}
	}
	readVectors(t, "flask_cookie_session.json", &v)
	clk := &clock{now: time.Unix(v.Time, 0)}
	m, err := core.NewCookieManager(v.Secret)
	if err != nil {
		t.Fatal(err)
	}
	m.AllowWeakSecret = true // Flask's vectors were made with a short one
	core.SetClock(m, clk.Now)

	for _, vec := range v.Vectors {
		want, err := codec.TaggedJSON{}.Decode([]byte(vec.SessionJSON))
		if err != nil {
			t.Fatal(err)
		}
		serve(t, m, vec.Cookie, "127.0.0.1:1", func(s *core.Session) {
			if s.IsNew() {
				t.Errorf("%s: Flask's cookie was not accepted", vec.Name)
				return
			}
			for k, w := range want {
				if got, _ := s.Get(k); !equalValue(got, w) {
					t.Errorf("%s: %s = %#v, want %#v", vec.Name, k, got, w)
				}
			}
		})
	}
	for _, vec := range v.Invalid {
		ex := serve(t, m, vec.Cookie, "127.0.0.1:1", func(s *core.Session) {
			if !s.IsNew() {
				t.Errorf("%s: a forged cookie was accepted", vec.Name)
			}
		})
		if vec.Cookie != "" {
			if c := ex.setCookie("session"); c == nil || c.MaxAge >= 0 {
				t.Errorf("%s: the bad cookie was not expired", vec.Name)
			}
		}
	}

	clk.now = time.Unix(v.Expired.VerifyAt, 0)
	serve(t, m, v.Expired.Cookie, "127.0.0.1:1", func(s *core.Session) {
		if !s.IsNew() {
			t.Error("an expired cookie was accepted")
		}
	})

	clk.now = time.Unix(v.Time, 0)
	for secrets, accept := range map[string]bool{v.Rotation.NewSecret: false, v.Rotation.NewSecret + "," + v.Rotation.OldSecret: true} {
		rm, err := core.NewCookieManager(strings.Split(secrets, ",")...)
		if err != nil {
			t.Fatal(err)
		}
		rm.AllowWeakSecret = true
		core.SetClock(rm, clk.Now)
		serve(t, rm, v.Rotation.Cookie, "127.0.0.1:1", func(s *core.Session) {
			if user, _ := s.GetString("user"); (user == "bob") != accept {
				t.Errorf("secrets %q: user = %q, accept = %v", secrets, user, accept)
			}
		})
	}
}

func TestCookieSessionRoundTripAndLimits(t *testing.T) {
	m, _ := core.NewCookieManager("a secret of at least thirty-two bytes!")
	ex := serve(t, m, "", "127.0.0.1:1", func(s *core.Session) {
		s.Set("user", "alice")
		s.Set("when", time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC))
		s.Flash("message", "hi")
	})
	c := ex.setCookie("session")
	if c == nil || c.MaxAge != 31*24*3600 || ex.out.Get("Vary") != "Cookie" {
		t.Fatalf("cookie %v, Vary %q", c, ex.out.Get("Vary"))
	}
	// What Go writes, itsdangerous reads: check with the signing package
	// as a verifier independent of the Manager.
	ser, _ := signing.NewCookieSerializer("a secret of at least thirty-two bytes!")
	payload, _, err := ser.Loads(c.Value, time.Hour, time.Now())
	if err != nil || !strings.Contains(string(payload), `"user":"alice"`) || !strings.Contains(string(payload), `"_flashes":[{" t":["message","hi"]}]`) {
		t.Fatalf("payload %s, %v", payload, err)
	}
	serve(t, m, c.Value, "127.0.0.1:1", func(s *core.Session) {
		if u, _ := s.GetString("user"); u != "alice" {
			t.Errorf("user = %q after a round trip", u)
		}
	})

	var reported error
	m.ErrorHandler = func(_ context.Context, err error) { reported = err }
	ex = newExchange("127.0.0.1:1")
	r := m.Begin(ex)
	s, _ := r.Session(context.Background())
	blob := make([]byte, 4000) // random: zlib cannot shrink it under the limit
	rand.Read(blob)
	s.Set("blob", blob)
	if err := r.Commit(context.Background()); !errors.Is(err, core.ErrCookieTooLarge) {
		t.Fatalf("Commit of an oversized cookie session = %v, want ErrCookieTooLarge", err)
	}
	if !errors.Is(reported, core.ErrCookieTooLarge) || ex.out.Get("Set-Cookie") != "" {
		t.Fatalf("reported %v, Set-Cookie %q", reported, ex.out.Get("Set-Cookie"))
	}

	ex = serve(t, m, c.Value, "127.0.0.1:1", func(s *core.Session) { s.Destroy() })
	if c := ex.setCookie("session"); c == nil || c.MaxAge >= 0 {
		t.Fatalf("Destroy of a cookie session: cookie %v, want it expired", c)
	}
	if _, err := m.Load(context.Background(), "x"); !errors.Is(err, core.ErrNoBackend) {
		t.Fatalf("Load on a cookie manager = %v", err)
	}
}

func TestCookieSessionAbsoluteTimeout(t *testing.T) {
	m, err := core.NewCookieManager("a secret of at least thirty-two bytes!")
	if err != nil {
		t.Fatal(err)
	}
	m.AbsoluteTimeout = time.Hour
	clk := &clock{now: time.Now()}
	core.SetClock(m, clk.Now)
	c := serve(t, m, "", "127.0.0.1:1", func(s *core.Session) { s.Set("user", "alice") }).setCookie("session")
	clk.Advance(59 * time.Minute)
	serve(t, m, c.Value, "127.0.0.1:1", func(s *core.Session) {
		if u, _ := s.GetString("user"); u != "alice" {
			t.Errorf("user = %q before the absolute timeout", u)
		}
	})
	clk.Advance(2 * time.Minute)
	ex := serve(t, m, c.Value, "127.0.0.1:1", func(s *core.Session) {
		if !s.IsNew() || s.Len() != 0 {
			t.Errorf("a cookie past the absolute timeout was accepted: %v", s.Keys())
		}
	})
	if back := ex.setCookie("session"); back == nil || back.MaxAge >= 0 {
		t.Errorf("the expired cookie was not dropped: %v", back)
	}
}

// IdleTimeout holds in cookie mode: a cookie idle for longer is a new
// session, and a request due for a touch signs the cookie again, which
// extends it as a store's Touch would.
func TestCookieSessionIdleTimeout(t *testing.T) {
	m, err := core.NewCookieManager("a secret of at least thirty-two bytes!")
	if err != nil {
		t.Fatal(err)
	}
	m.IdleTimeout = 2 * time.Second
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	core.SetClock(m, clk.Now)
	c := serve(t, m, "", "127.0.0.1:1", func(s *core.Session) { s.Set("user", "alice") }).setCookie("session")

	clk.Advance(1500 * time.Millisecond) // past TouchInterval, within the idle limit
	ex := serve(t, m, c.Value, "127.0.0.1:1", func(s *core.Session) {
		if u, _ := s.GetString("user"); u != "alice" {
			t.Errorf("user = %q within the idle limit", u)
		}
	})
	renewed := ex.setCookie("session")
	if renewed == nil || renewed.Value == c.Value {
		t.Fatalf("a read due for a touch did not sign the cookie again: %v", renewed)
	}
	again := serve(t, m, renewed.Value, "127.0.0.1:1", nil)
	if sc := again.out.Values("Set-Cookie"); len(sc) != 0 {
		t.Errorf("a read within TouchInterval of the last signing sent %q", sc)
	}

	clk.Advance(1500 * time.Millisecond) // 3 s after the first cookie, 1.5 s after the renewed one
	serve(t, m, renewed.Value, "127.0.0.1:1", func(s *core.Session) {
		if s.IsNew() {
			t.Error("the renewed cookie expired within its idle limit")
		}
	})
	serve(t, m, c.Value, "127.0.0.1:1", func(s *core.Session) {
		if !s.IsNew() || s.Len() != 0 {
			t.Errorf("a cookie idle for 3 s under a 2 s IdleTimeout was accepted: %v", s.Keys())
		}
	})
}

// Two cookie Managers with one secret cannot read each other's cookies: a
// "prefs" session in which the user chose user=admin is no login.
func TestCookieSaltFollowsTheName(t *testing.T) {
	const secret = "a secret of at least thirty-two bytes!"
	login, _ := core.NewCookieManager(secret)
	prefs, _ := core.NewCookieManager(secret)
	prefs.Cookie.Name = "prefs"
	forged := serve(t, prefs, "", "127.0.0.1:1", func(s *core.Session) { s.Set("user", "admin") }).setCookie("prefs")
	serve(t, login, forged.Value, "127.0.0.1:1", func(s *core.Session) {
		if !s.IsNew() {
			t.Errorf("the login Manager accepted a prefs cookie: %v", s.Keys())
		}
	})
	// The header's name counts when the token travels in a header.
	api, _ := core.NewCookieManager(secret)
	api.Transport = core.HeaderTransport("")
	ex := newExchange("127.0.0.1:1")
	ex.header.Set(core.DefaultTokenHeader, forged.Value)
	s, err := api.Begin(ex).Session(context.Background())
	if err != nil || !s.IsNew() {
		t.Errorf("a header Manager accepted a prefs cookie: new %v, %v", s != nil && s.IsNew(), err)
	}
	// Flask's name keeps Flask's salt: TestCookieSessionsMatchFlask reads
	// Flask's own cookies.
	ser, _ := signing.NewCookieSerializer(secret)
	c := serve(t, login, "", "127.0.0.1:1", func(s *core.Session) { s.Set("a", 1) }).setCookie("session")
	if _, _, err := ser.Loads(c.Value, time.Hour, time.Now()); err != nil {
		t.Errorf("the cookie \"session\" is not signed with Flask's salt: %v", err)
	}
}

// Settings that a cookie session cannot honour are refused rather than
// ignored, at the adapter's construction (Validate) and at the first request.
func TestCookieManagerRefusesWhatItCannotHonour(t *testing.T) {
	for name, set := range map[string]func(*core.Manager){
		"Signer":   func(m *core.Manager) { m.Signer = testSigner{} },
		"HashKeys": func(m *core.Manager) { m.HashKeys = true },
	} {
		m, _ := core.NewCookieManager("a secret of at least thirty-two bytes!")
		m.ErrorHandler = func(context.Context, error) {}
		set(m)
		if err := m.Validate(); !errors.Is(err, core.ErrConfig) {
			t.Errorf("%s: Validate = %v, want ErrConfig", name, err)
		}
		if _, err := m.Begin(newExchange("127.0.0.1:1")).Session(context.Background()); !errors.Is(err, core.ErrConfig) {
			t.Errorf("%s: first request = %v, want ErrConfig", name, err)
		}
	}
}

// TestCookieLogoutCanBeUndone pins down what the README says cookie
// sessions cannot promise: a response that was in flight during a logout
// hands the client its logged-in cookie again. Should this ever change,
// the README must change with it.
func TestCookieLogoutCanBeUndone(t *testing.T) {
	m, err := core.NewCookieManager(strings.Repeat("s", 32))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	login := serve(t, m, "", "192.0.2.1:1", func(s *core.Session) { s.Set("user", "ada") })
	cookie := login.setCookie(m.Cookie.Name).Value

	// A slow request loads the session, then the user logs out.
	slow := newExchange("192.0.2.1:1")
	slow.cookies[m.Cookie.Name] = cookie
	r := m.Begin(slow)
	s, err := r.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	logout := serve(t, m, cookie, "192.0.2.1:1", func(s *core.Session) { s.Destroy() })
	if c := logout.setCookie(m.Cookie.Name); c == nil || c.MaxAge >= 0 {
		t.Fatalf("logout sent %v, want the cookie expired", c)
	}
	// The slow request answers after the logout, with a change.
	s.Set("theme", "dark")
	if err := r.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	undone := slow.setCookie(m.Cookie.Name)
	if undone == nil {
		t.Fatal("the slow response sent no cookie")
	}
	serve(t, m, undone.Value, "192.0.2.1:1", func(s *core.Session) {
		if user, _ := s.GetString("user"); user != "ada" {
			t.Fatalf("after the slow response, user = %q: cookie logouts now stick; update the README", user)
		}
	})
}
