package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/backends/redis"
	sqlstore "github.com/cloakroom/cloakroom/backends/sql"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
	"github.com/cloakroom/cloakroom/internal/demo"
)

// loginRemembering logs c in as user, asking to be remembered or not, and
// returns the cookie the login set.
func (c *client) loginRemembering(user string, remember bool) *http.Cookie {
	c.t.Helper()
	_, h := c.do("POST", "/api/login", fmt.Sprintf(`{"user":%q,"remember":%t}`, user, remember), 204)
	return setCookie(c.t, h)
}

// setCookie returns the one cookie h sets.
func setCookie(t *testing.T, h http.Header) *http.Cookie {
	t.Helper()
	lines := h.Values("Set-Cookie")
	if len(lines) != 1 {
		t.Fatalf("Set-Cookie %q, want the session's alone", lines)
	}
	ck, err := http.ParseSetCookie(lines[0])
	if err != nil {
		t.Fatalf("Set-Cookie %q: %v", lines[0], err)
	}
	return ck
}

// checkRemembered checks that ck lasts 30 days from a moment between
// before and after, in both the attributes a browser may read.
func checkRemembered(t *testing.T, ck *http.Cookie, before, after time.Time) {
	t.Helper()
	if ck.MaxAge != 30*24*3600 {
		t.Errorf("remembered login: Set-Cookie %q has Max-Age %d, want 2592000 (30 days)", ck.Raw, ck.MaxAge)
	}
	// Expires counts whole seconds.
	if lo, hi := before.Add(demo.RememberFor).Add(-time.Second), after.Add(demo.RememberFor).Add(time.Second); ck.Expires.Before(lo) || ck.Expires.After(hi) {
		t.Errorf("remembered login: Set-Cookie %q expires at %v, want between %v and %v", ck.Raw, ck.Expires, lo, hi)
	}
}

// checkForgotten checks that ck ends with the browser session.
func checkForgotten(t *testing.T, ck *http.Cookie) {
	t.Helper()
	if ck.MaxAge != 0 || ck.RawExpires != "" {
		t.Errorf("login not remembered: Set-Cookie %q, want neither Max-Age nor Expires", ck.Raw)
	}
}

// withCookie returns a client of c's server that holds ck alone.
func (c *client) withCookie(ck *http.Cookie) *client {
	other := newClient(c.t, c.base)
	other.http.Jar.SetCookies(mustURL(c.base), []*http.Cookie{{Name: ck.Name, Value: ck.Value}})
	return other
}

var expiryTime = regexp.MustCompile(`This session expires at <time datetime="([^"]+)">`)

// checkPage checks that page tells the session ends within span of a
// moment between before and after, that long from now, and whether its
// cookie outlives the browser.
func checkPage(t *testing.T, page string, before, after time.Time, span time.Duration, in, cookie string) {
	t.Helper()
	m := expiryTime.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the page does not say when the session expires:\n%s", page)
	}
	at, err := time.Parse(time.RFC3339, m[1])
	if err != nil {
		t.Fatalf("the page's expiry %q: %v", m[1], err)
	}
	if lo, hi := before.Add(span).Add(-time.Second), after.Add(span).Add(time.Second); at.Before(lo) || at.After(hi) {
		t.Errorf("the page says the session expires at %v, want between %v and %v", at, lo, hi)
	}
	for _, want := range []string{"(in " + in + ")", cookie} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q:\n%s", want, page)
		}
	}
}

const (
	keptFor30Days = "Its cookie is kept for 30 days, even when you close the browser."
	endsWithTab   = "Its cookie ends when you close the browser."
)

// TestDemoRememberMe logs in with and without "remember me" on every
// Framework: a remembered login's cookie lasts 30 days, and keeps doing so
// at each later write; a login not remembered gets a cookie that ends with
// the browser, and a session of 12 hours without requests, since -idle is
// not set. The page tells both, and says nothing of a session it has just
// created.
func TestDemoRememberMe(t *testing.T) {
	for _, fw := range frameworks {
		t.Run(fw, func(t *testing.T) {
			store := memory.New(memory.Options{})
			defer store.Close()
			base := startDemo(t, fw, store)

			visitor := newClient(t, base)
			if page, _ := visitor.do("GET", "/", "", 200); strings.Contains(page, "This session expires") {
				t.Errorf("the page of a new session tells its expiry:\n%s", page)
			}
			before := time.Now()
			page, _ := visitor.do("GET", "/", "", 200)
			checkPage(t, page, before, time.Now(), 14*24*time.Hour, "14 days", "Its cookie is kept for 14 days")

			kept := newClient(t, base)
			before = time.Now()
			checkRemembered(t, kept.loginRemembering("alice", true), before, time.Now())
			before = time.Now()
			page, h := kept.do("GET", "/", "", 200)
			after := time.Now()
			checkRemembered(t, setCookie(t, h), before, after) // the visit was written
			checkPage(t, page, before, after, demo.RememberFor, "30 days", keptFor30Days)

			dropped := newClient(t, base)
			checkForgotten(t, dropped.loginRemembering("bob", false))
			before = time.Now()
			page, h = dropped.do("GET", "/", "", 200)
			checkForgotten(t, setCookie(t, h))
			checkPage(t, page, before, time.Now(), demo.DefaultForgetAfter, "12 hours", endsWithTab)
		})
	}
}

// TestDemoRememberMeOutlivesIdle logs two clients of one user in at once
// under -idle 2s, on every framework and every backend, signed cookies
// included: after 3.5 s without requests the login not remembered has
// expired and the page says so, while the remembered one, which turned
// the idle timeout off, is still logged in.
func TestDemoRememberMeOutlivesIdle(t *testing.T) {
	cases := append(concurrencyCases(t), concurrencyCase{"cookie", demo.Config{Framework: "nethttp", Backend: "cookie",
		Secret: "a cookie secret of thirty-two bytes+"}})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each waits for the idle timeout
			c := tc.c
			c.Idle = 2 * time.Second
			// How long after its last write the session is surely gone.
			// memcached counts whole seconds and adds one, so that a 2 s
			// expiry lasts up to 4 s there.
			gone := 3500 * time.Millisecond
			if c.Backend == "memcached" {
				gone = 5 * time.Second
			}
			base := startConfigured(t, c)
			user := "carol-" + rand.Text()[:6] // the stores outlive the test
			kept, dropped := newClient(t, base), newClient(t, base)
			before := time.Now()
			checkRemembered(t, kept.loginRemembering(user, true), before, time.Now())
			stale := dropped.loginRemembering(user, false)
			checkForgotten(t, stale)
			time.Sleep(gone)

			// The page first: reading /api/session drops the stale cookie.
			page, _ := dropped.withCookie(stale).do("GET", "/", "", 200)
			if !strings.Contains(page, demo.Notice(core.Expired)) || strings.Contains(page, "Logged in as") {
				t.Errorf("%v after a login not remembered, under -idle 2s, the page does not say the session expired:\n%s", gone, page)
			}
			if body, _ := dropped.do("GET", "/api/session", "", 200); body != "{}" {
				t.Errorf("%v after a login not remembered, under -idle 2s: /api/session = %s, want {}", gone, body)
			}
			if body, _ := kept.do("GET", "/api/session", "", 200); !strings.Contains(body, `"user":"`+user+`"`) {
				t.Errorf("%v after a remembered login, under -idle 2s: /api/session = %s, want %s logged in", gone, body, user)
			}
			if page, _ := kept.do("GET", "/", "", 200); !strings.Contains(page, "Logged in as <strong>"+user+"</strong>") || !strings.Contains(page, keptFor30Days) {
				t.Errorf("%v after a remembered login, under -idle 2s, the page is:\n%s", gone, page)
			}
		})
	}
}

// TestDemoRememberMeStoredTTL checks what the stores that can be looked
// into keep: a remembered session for 30 days, one not remembered for its
// 12-hour idle limit, however long the Manager's Lifetime (31 days under
// the Quart preset, 14 otherwise).
func TestDemoRememberMeStoredTTL(t *testing.T) {
	redisDSN := "redis://" + backendtest.Env("CLOAKROOM_REDIS_ADDR", "127.0.0.1:6379") + "/0"
	for _, tc := range []struct {
		name   string
		c      demo.Config
		prefix string // before the cookie's value in the store's key: ids are not signed here
	}{
		{"redis", demo.Config{Backend: "redis", DSN: redisDSN}, "session:"},
		{"quart-preset", demo.Config{Backend: "redis", DSN: redisDSN, Preset: "quart"}, "session:"},
		{"postgres", demo.Config{Backend: "postgres"}, "session:"},
		{"django", demo.Config{Backend: "django", Secret: "django-insecure-remember-test-secret-key-0123456789"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.Framework = "nethttp"
			base, backend := startWithBackend(t, tc.c)
			user := "dave-" + rand.Text()[:6]
			kept := newClient(t, base).loginRemembering(user, true)
			dropped := newClient(t, base).loginRemembering(user, false)
			for _, s := range []struct {
				what string
				key  string
				want time.Duration
			}{
				{"remembered", tc.prefix + kept.Value, demo.RememberFor},
				{"not remembered", tc.prefix + dropped.Value, demo.DefaultForgetAfter},
			} {
				// A minute covers the time since the write on a loaded
				// machine; a second, Redis's rounding.
				if ttl := storedTTL(t, backend, s.key); ttl < s.want-time.Minute || ttl > s.want+time.Second {
					t.Errorf("%s login: the store keeps %q for %v, want %v", s.what, s.key, ttl, s.want)
				}
			}
		})
	}
}

// storedTTL returns how long backend keeps key from now.
func storedTTL(t *testing.T, backend core.Backend, key string) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	switch b := backend.(type) {
	case *redis.Store:
		ttl, err := b.Client().TTL(ctx, key).Result()
		if err != nil {
			t.Fatalf("TTL %s: %v", key, err)
		}
		return ttl
	case *sqlstore.Store:
		if b.Dialect() != sqlstore.Postgres {
			t.Fatalf("storedTTL reads PostgreSQL only, not %v", b.Dialect())
		}
		table := b.Table()
		var at time.Time
		q := fmt.Sprintf(`SELECT %s FROM %s WHERE %s = $1`, table.ExpiryColumn, table.Name, table.KeyColumn)
		if err := b.DB().QueryRowContext(ctx, q, key).Scan(&at); err != nil {
			t.Fatalf("%s with %s: %v", q, key, err)
		}
		return time.Until(at)
	}
	t.Fatalf("storedTTL cannot look into a %T", backend)
	return 0
}
