package interop_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/adapters/nethttp"
	sqlstore "github.com/cloakroom/cloakroom/backends/sql"
	"github.com/cloakroom/cloakroom/backends/sql/postgres"
	"github.com/cloakroom/cloakroom/core"
)

// The issue's "a session Django gave set_expiry(60) expires in Go after
// 60 s idle, and vice versa", scaled down to keep the test short.
const (
	idleLifetime = 3 * time.Second
	// idleWait is how long the test leaves such a session alone before it
	// must be gone: the lifetime with room for a loaded machine.
	idleWait = 5 * time.Second
	// cookieAge is Django's SESSION_COOKIE_AGE, the Django Manager's
	// Lifetime: what a browser-close session's row lives.
	cookieAge = 14 * 24 * time.Hour
	fromGo    = "written by Go"
)

// djangoExpiry is the Django project's GET /expiry answer.
type djangoExpiry struct {
	Session      map[string]any `json:"session"`
	Age          int            `json:"age"`           // get_expiry_age()
	BrowserClose bool           `json:"browser_close"` // get_expire_at_browser_close()
	Date         time.Time      `json:"date"`          // get_expiry_date()
	ExpireDate   *time.Time     `json:"expire_date"`   // the row's; nil: no live row
}

func (d *djangoSetup) expiry(t *testing.T, cookie string) djangoExpiry {
	t.Helper()
	r := d.django.mustCall(t, 200, "GET", "/expiry", "sessionid", cookie, "")
	var out djangoExpiry
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("Django /expiry: %v: %s", err, r.body)
	}
	return out
}

// setExpiry has Django call set_expiry(seconds) on a new session holding
// "from_django" and returns its cookie.
func (d *djangoSetup) setExpiry(t *testing.T, seconds int) string {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"expiry": seconds})
	r := d.django.call(t, "POST", "/set_expiry", "sessionid", "", string(b))
	if r.status != http.StatusNoContent {
		t.Fatalf("Django POST /set_expiry %s: status %d, want 204; body: %s", b, r.status, r.body)
	}
	return setCookie(t, "Django /set_expiry", r, "sessionid")
}

// goDjango is a Go service on the Django project's table: a Manager from
// core.NewDjangoManager, used directly and behind net/http.
type goDjango struct {
	m    *core.Manager
	http *peer // POST /write stores "from_go" in the session
}

func startGoDjango(t *testing.T) *goDjango {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := postgres.Open(ctx, djangoPG(t).String(), sqlstore.Options{Table: sqlstore.DjangoTable})
	if err != nil {
		t.Fatalf("opening django_session: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	m, err := core.NewDjangoManager(store, djangoSecret)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /write", func(w http.ResponseWriter, r *http.Request) {
		s, err := nethttp.Get(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		s.Set("from_go", fromGo)
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewServer(nethttp.Middleware(m)(mux))
	t.Cleanup(srv.Close)
	return &goDjango{m: m, http: &peer{name: "Go", base: srv.URL}}
}

func (g *goDjango) load(t *testing.T, id string) *core.Session {
	t.Helper()
	s, err := g.m.Load(context.Background(), id)
	if err != nil {
		t.Fatalf("Go: Load: %v", err)
	}
	return s
}

// create saves a new session holding "from_go", set up by setup, and
// returns its id and when the save started and ended.
func (g *goDjango) create(t *testing.T, setup func(*core.Session)) (id string, before, after time.Time) {
	t.Helper()
	s := g.m.New(context.Background())
	s.Set("from_go", fromGo)
	setup(s)
	before = time.Now()
	if _, err := g.m.Save(context.Background(), s); err != nil {
		t.Fatalf("Go: Save: %v", err)
	}
	return s.ID(), before, time.Now()
}

// write has the Go service store "from_go" in the session over HTTP and
// returns the cookie it sent and when the request started and ended.
func (g *goDjango) write(t *testing.T, cookie string) (c *http.Cookie, before, after time.Time) {
	t.Helper()
	before = time.Now()
	r := g.http.mustCall(t, 204, "POST", "/write", "sessionid", cookie, "")
	after = time.Now()
	c, ok := r.cookie("sessionid")
	if !ok || c.Value != cookie {
		t.Fatalf("Go's write answered Set-Cookie %q, want the session %q kept", r.header.Values("Set-Cookie"), cookie)
	}
	return c, before, after
}

// checkRowExpires checks that the row's expire_date is ttl after a write
// made between before and after.
func checkRowExpires(t *testing.T, who string, e djangoExpiry, ttl time.Duration, before, after time.Time) {
	t.Helper()
	if e.ExpireDate == nil {
		t.Errorf("after %s's write Django found no live row", who)
		return
	}
	if lo, hi := before.Add(ttl-time.Millisecond), after.Add(ttl+time.Millisecond); e.ExpireDate.Before(lo) || e.ExpireDate.After(hi) {
		t.Errorf("after %s's write the row expires at %v, want %v after the write: between %v and %v",
			who, e.ExpireDate.UTC(), ttl, lo.UTC(), hi.UTC())
	}
}

// checkGone checks, after a session's idle time, that Django and Go both
// find it gone.
func checkGone(t *testing.T, d *djangoSetup, g *goDjango, cookie string) {
	t.Helper()
	if e := d.expiry(t, cookie); len(e.Session) != 0 || e.ExpireDate != nil {
		t.Errorf("Django after %v idle: session %v, row expiring at %v; want none", idleWait, e.Session, e.ExpireDate)
	}
	if s := g.load(t, cookie); !s.IsNew() || s.Reason() != core.Expired {
		t.Errorf("Go after %v idle: new %v, reason %v; want a new session, reason expired", idleWait, s.IsNew(), s.Reason())
	}
}

// testDjangoExpiry: a session's own expiry, set with Django's set_expiry or
// Go's SetExpiry and SetPermanent, holds on both sides.
func testDjangoExpiry(t *testing.T, d *djangoSetup) {
	g := startGoDjango(t)
	t.Run("DjangoSetExpiry60sScaledTo3s", func(t *testing.T) { t.Parallel(); testDjangoIdle(t, d, g) })
	t.Run("GoSetExpiry60sScaledTo3s", func(t *testing.T) { t.Parallel(); testGoIdle(t, d, g) })
	t.Run("DjangoBrowserClose", func(t *testing.T) { t.Parallel(); testDjangoBrowserClose(t, d, g) })
	t.Run("GoBrowserClose", func(t *testing.T) { t.Parallel(); testGoBrowserClose(t, d, g) })
}

// testDjangoIdle: Django's set_expiry(3) is Go's Expiry{Lifetime: 3s}; a
// Go write keeps it, restarts it (the row's expire_date is 3 s after the
// write) and sends it as the cookie's Max-Age; 3 s without requests end the
// session on both sides.
func testDjangoIdle(t *testing.T, d *djangoSetup, g *goDjango) {
	cookie := d.setExpiry(t, int(idleLifetime/time.Second))

	s := g.load(t, cookie)
	if s.IsNew() {
		t.Fatalf("Go does not find the session Django stored (reason %v)", s.Reason())
	}
	if got := s.Expiry(); got != (core.Expiry{Lifetime: idleLifetime}) {
		t.Errorf("Go: Expiry() = %+v, want Lifetime %v alone", got, idleLifetime)
	}
	if !s.Permanent() {
		t.Error("Go: Permanent() = false for set_expiry(3), want true")
	}
	if v, _ := s.Get("from_django"); v != true {
		t.Errorf("Go: from_django = %#v, want true", v)
	}

	c, before, after := g.write(t, cookie)
	if c.MaxAge != int(idleLifetime/time.Second) {
		t.Errorf("Go's cookie has Max-Age %d, want %d", c.MaxAge, int(idleLifetime/time.Second))
	}
	e := d.expiry(t, cookie)
	if e.Age != int(idleLifetime/time.Second) || e.BrowserClose {
		t.Errorf("Django after Go's write: get_expiry_age() = %d, get_expire_at_browser_close() = %v; want %d, false",
			e.Age, e.BrowserClose, int(idleLifetime/time.Second))
	}
	if e.Session["from_go"] != fromGo || e.Session["from_django"] != true {
		t.Errorf("Django after Go's write: session %v, want from_go and from_django", e.Session)
	}
	checkRowExpires(t, "Go", e, idleLifetime, before, after)

	time.Sleep(time.Until(after.Add(idleWait)))
	checkGone(t, d, g, cookie)
}

// testGoIdle: Go's SetExpiry(Expiry{Lifetime: 3s}) is Django's
// set_expiry(3); a Django write keeps it and restarts it; 3 s without
// requests end the session on both sides.
func testGoIdle(t *testing.T, d *djangoSetup, g *goDjango) {
	cookie, before, after := g.create(t, func(s *core.Session) {
		s.SetExpiry(core.Expiry{Lifetime: idleLifetime})
	})
	e := d.expiry(t, cookie)
	if e.Age != int(idleLifetime/time.Second) || e.BrowserClose {
		t.Errorf("Django: get_expiry_age() = %d, get_expire_at_browser_close() = %v; want %d, false",
			e.Age, e.BrowserClose, int(idleLifetime/time.Second))
	}
	if e.Session["from_go"] != fromGo {
		t.Errorf("Django: session %v, want from_go", e.Session)
	}
	checkRowExpires(t, "Go", e, idleLifetime, before, after)

	// Django's own write restarts the same lifetime.
	before = time.Now()
	r := d.django.mustCall(t, 204, "POST", "/set", "sessionid", cookie, "")
	after = time.Now()
	if c, ok := r.cookie("sessionid"); !ok || c.MaxAge != int(idleLifetime/time.Second) {
		t.Errorf("Django's write answered Set-Cookie %q, want Max-Age=%d", r.header.Values("Set-Cookie"), int(idleLifetime/time.Second))
	}
	e = d.expiry(t, cookie)
	checkRowExpires(t, "Django", e, idleLifetime, before, after)
	if s := g.load(t, cookie); s.Expiry() != (core.Expiry{Lifetime: idleLifetime}) {
		t.Errorf("Go after Django's write: Expiry() = %+v, want Lifetime %v alone", s.Expiry(), idleLifetime)
	}

	time.Sleep(time.Until(after.Add(idleWait)))
	checkGone(t, d, g, cookie)
}

// testDjangoBrowserClose: Django's set_expiry(0) is a Go session that is
// not permanent: Go's cookie has no Max-Age or Expires, and Go's write
// keeps set_expiry(0) and Django's two-week row.
func testDjangoBrowserClose(t *testing.T, d *djangoSetup, g *goDjango) {
	cookie := d.setExpiry(t, 0)

	s := g.load(t, cookie)
	if s.IsNew() {
		t.Fatalf("Go does not find the session Django stored (reason %v)", s.Reason())
	}
	if s.Permanent() || s.Expiry() != (core.Expiry{}) {
		t.Errorf("Go: Permanent() = %v, Expiry() = %+v for set_expiry(0); want false and the Manager's", s.Permanent(), s.Expiry())
	}

	c, before, after := g.write(t, cookie)
	if c.MaxAge != 0 || c.RawExpires != "" {
		t.Errorf("Go's cookie for a browser-session: Max-Age %d, Expires %q; want neither", c.MaxAge, c.RawExpires)
	}
	e := d.expiry(t, cookie)
	if !e.BrowserClose || e.Session["_session_expiry"] != 0.0 || e.Age != int(cookieAge/time.Second) {
		t.Errorf("Django after Go's write: get_expire_at_browser_close() = %v, _session_expiry = %#v, get_expiry_age() = %d; want true, 0, %d",
			e.BrowserClose, e.Session["_session_expiry"], e.Age, int(cookieAge/time.Second))
	}
	if e.Session["from_go"] != fromGo || e.Session["from_django"] != true {
		t.Errorf("Django after Go's write: session %v, want from_go and from_django", e.Session)
	}
	checkRowExpires(t, "Go", e, cookieAge, before, after)
}

// testGoBrowserClose: Go's SetPermanent(false) is Django's set_expiry(0),
// which Django's own write keeps: its cookie has no Max-Age or Expires.
func testGoBrowserClose(t *testing.T, d *djangoSetup, g *goDjango) {
	cookie, before, after := g.create(t, func(s *core.Session) { s.SetPermanent(false) })
	e := d.expiry(t, cookie)
	if !e.BrowserClose || e.Session["_session_expiry"] != 0.0 || e.Age != int(cookieAge/time.Second) {
		t.Errorf("Django: get_expire_at_browser_close() = %v, _session_expiry = %#v, get_expiry_age() = %d; want true, 0, %d",
			e.BrowserClose, e.Session["_session_expiry"], e.Age, int(cookieAge/time.Second))
	}
	if e.Session["from_go"] != fromGo {
		t.Errorf("Django: session %v, want from_go", e.Session)
	}
	checkRowExpires(t, "Go", e, cookieAge, before, after)

	r := d.django.mustCall(t, 204, "POST", "/set", "sessionid", cookie, "")
	if c, ok := r.cookie("sessionid"); !ok || c.MaxAge != 0 || c.RawExpires != "" {
		t.Errorf("Django's write answered Set-Cookie %q, want a browser-session cookie", r.header.Values("Set-Cookie"))
	}
}
