package adaptertest

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/signing"
)

// testDuplicateCookies: a request with two session cookies of different
// values (one planted by a sibling subdomain) adopts neither, looks neither
// up, and does not expire the client's cookie; the same value twice is one
// cookie.
func testDuplicateCookies(t *testing.T, e *env) {
	victim, planted := e.login("user", "victim"), e.login("user", "attacker")
	name := e.m.Cookie.Name
	for header, want := range map[string]string{
		name + "=" + planted + "; " + name + "=" + victim: "",
		name + "=" + victim + "; " + name + "=" + planted: "",
		name + "=" + victim + "; " + name + "=" + victim:  "victim",
		"other=1; " + name + "=" + victim + "; another=2": "victim",
	} {
		r, err := e.fetchWith("/get?k=user", http.Header{"Cookie": {header}})
		if err != nil {
			t.Fatal(err)
		}
		if r.status != 200 || r.body != want {
			t.Errorf("Cookie: %s: /get = %d %q, want %q", strings.ReplaceAll(header, victim, "<victim>"), r.status, r.body, want)
		}
		wantNoCookie(t, r)
		if want == "" {
			e.wantCalls()
		} else {
			e.wantCalls("get")
		}
	}
}

// overlapping serves two Managers over one backend and one KeyPrefix: a
// token of either would open the other's sessions.
func overlapping(m *core.Manager) []*core.Manager {
	prefs := core.NewManager(m.Backend)
	prefs.Cookie.Name = "prefs"
	return []*core.Manager{m, prefs}
}

// testOverlapping: such Managers fail at the first request that loads a
// session, with a configuration error, rather than serve each other's
// sessions.
func testOverlapping(t *testing.T, e *env) {
	for _, path := range []string{"/get?k=a", "/get?k=a&slot=1"} {
		r := e.get(path, "")
		if r.status != http.StatusInternalServerError || !strings.Contains(r.body, core.ErrConfig.Error()) {
			t.Errorf("%s = %d %q, want 500 with core.ErrConfig", path, r.status, r.body)
		}
	}
	e.wantCalls()
}

// testCookieSecret signs the suite's cookie sessions.
const testCookieSecret = "adaptertest: a cookie secret of 32+ bytes"

// cookieSessions is a setup that keeps sessions in signed cookies with the
// given IdleTimeout.
func cookieSessions(idle time.Duration) setup {
	return func(*core.Manager) []*core.Manager {
		m, err := core.NewCookieManager(testCookieSecret)
		if err != nil {
			panic(err)
		}
		m.IdleTimeout = idle
		return []*core.Manager{m}
	}
}

// oldCookie returns a cookie session holding user=alice signed age ago,
// as the Manager signs them (its cookie is Flask's "session").
func oldCookie(t *testing.T, age time.Duration) string {
	t.Helper()
	ser, err := signing.NewCookieSerializer(testCookieSecret)
	if err != nil {
		t.Fatal(err)
	}
	return ser.Dumps([]byte(`{"_permanent":true,"user":"alice"}`), time.Now().Add(-age))
}

// testCookieIdle: a cookie session idle for longer than IdleTimeout is a
// new session, and one within it is signed again, which extends it.
func testCookieIdle(t *testing.T, e *env) {
	r := e.get("/get?k=user", oldCookie(t, 30*time.Second))
	if r.body != "alice" {
		t.Fatalf("a cookie idle for 30 s under a 1 min IdleTimeout: /get = %d %q, want alice", r.status, r.body)
	}
	renewed := r.cookie(e.m.Cookie.Name)
	if renewed == nil || renewed.Value == "" {
		t.Fatalf("the cookie was not signed again: Set-Cookie %q", r.header.Values("Set-Cookie"))
	}
	if again := e.get("/get?k=user", renewed.Value); again.body != "alice" {
		t.Errorf("the renewed cookie: /get = %q, want alice", again.body)
	}
	r = e.get("/get?k=user", oldCookie(t, 2*time.Minute))
	if r.status != 200 || r.body != "" {
		t.Errorf("a cookie idle for 2 min under a 1 min IdleTimeout: /get = %d %q, want a new session", r.status, r.body)
	}
	wantExpired(t, r, e.m.Cookie.Name)
}

// testWeakSecret: the adapter refuses, when it is built, a Manager that
// signs with a secret shorter than 32 bytes, and takes it when the
// application opts in.
func testWeakSecret(h Harness) func(*testing.T, *env) {
	return func(t *testing.T, _ *env) {
		m, err := core.NewCookieManager("q")
		if err != nil {
			t.Fatal(err)
		}
		err = builds(t, h, m)
		if !errors.Is(err, core.ErrWeakSecret) {
			t.Fatalf("building the adapter with a 1-byte secret: %v, want a panic with ErrWeakSecret", err)
		}
		m.AllowWeakSecret = true
		if err := builds(t, h, m); err != nil {
			t.Fatalf("building it with AllowWeakSecret: %v", err)
		}
	}
}

// builds serves ms through h and checks that the server answers; it
// returns what h panicked with, if anything.
func builds(t *testing.T, h Harness, ms ...*core.Manager) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if err, _ = v.(error); err == nil {
				err = fmt.Errorf("%v", v)
			}
		}
	}()
	e := &env{t: t, url: h(t, ms...)}
	if r := e.get("/healthz", ""); r.status != 200 {
		return fmt.Errorf("/healthz = %d %q", r.status, r.body)
	}
	return nil
}
