package fibersession_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v3"

	fibersession "github.com/cloakroom/cloakroom/adapters/fiber3"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// twoManagers returns a login Manager and a flash Manager with their own
// cookies, each over a memory store of its own.
func twoManagers(t *testing.T) (login, flash *core.Manager) {
	login, _, _ = newManager(t)
	flash, _, _ = newManager(t)
	flash.Cookie.Name = "flash"
	return login, flash
}

// slots is a route that tells which session each accessor returns: the
// value of "who" in Get's, GetFor(login)'s and GetFor(flash)'s sessions,
// "-" for core.ErrNoSession. With ?set=1 it first stores who=login and
// who=flash through GetFor.
func slots(login, flash *core.Manager) fiber.Handler {
	return func(c fiber.Ctx) error {
		if c.Query("set") != "" {
			for m, who := range map[*core.Manager]string{login: "login", flash: "flash"} {
				s, err := fibersession.GetFor(c, m)
				if errors.Is(err, core.ErrNoSession) {
					continue
				} else if err != nil {
					return err
				}
				s.Set("who", who)
			}
		}
		var out []string
		for _, get := range []func() (*core.Session, error){
			func() (*core.Session, error) { return fibersession.Get(c) },
			func() (*core.Session, error) { return fibersession.GetFor(c, login) },
			func() (*core.Session, error) { return fibersession.GetFor(c, flash) },
		} {
			s, err := get()
			switch {
			case errors.Is(err, core.ErrNoSession):
				out = append(out, "-")
			case err != nil:
				return err
			default:
				who, _ := s.GetString("who")
				out = append(out, who)
			}
		}
		return c.SendString(strings.Join(out, " "))
	}
}

// TestTwoManagers: Get returns the outer Manager's session, GetFor each
// Manager's own, and each sets its own cookie.
func TestTwoManagers(t *testing.T) {
	login, flash := twoManagers(t)
	app := fiber.New()
	app.Use(fibersession.New(fibersession.Config{Manager: login}))
	app.Use(fibersession.New(fibersession.Config{Manager: flash}))
	app.Get("/", slots(login, flash))
	r := call(t, app, "/?set=1")
	if r.body != "login login flash" {
		t.Errorf("Get, GetFor(login), GetFor(flash) = %q, want login login flash", r.body)
	}
	lc, fc := r.cookie(login.Cookie.Name), r.cookie(flash.Cookie.Name)
	if lc == nil || fc == nil || len(r.header.Values("Set-Cookie")) != 2 {
		t.Fatalf("Set-Cookie = %q, want one cookie of each Manager", r.header.Values("Set-Cookie"))
	}
	if vary := r.header.Values("Vary"); len(vary) != 1 || vary[0] != "Cookie" {
		t.Errorf("Vary = %q, want Cookie once", vary)
	}
	if r := call(t, app, "/", lc, fc); r.body != "login login flash" {
		t.Errorf("read back with both cookies = %q, want login login flash", r.body)
	}
	if r := call(t, app, "/", fc); r.body != "  flash" {
		t.Errorf("read back with the flash cookie only = %q, want the login session empty", r.body)
	}
}

// TestNextSkipsOneManager: a Manager whose Next skips a request has no
// session there; when it is the outer one, Get has none either rather
// than the inner Manager's, so that mounting a Manager deeper never
// changes what Get returns.
func TestNextSkipsOneManager(t *testing.T) {
	for name, tc := range map[string]struct {
		skipLogin, skipFlash bool
		want                 string
	}{
		"outer skipped": {skipLogin: true, want: "- - flash"},
		"inner skipped": {skipFlash: true, want: "login login -"},
	} {
		t.Run(name, func(t *testing.T) {
			login, flash := twoManagers(t)
			skip := func(skipped bool) func(fiber.Ctx) bool {
				return func(fiber.Ctx) bool { return skipped }
			}
			app := fiber.New()
			app.Use(fibersession.New(fibersession.Config{Manager: login, Next: skip(tc.skipLogin)}))
			app.Use(fibersession.New(fibersession.Config{Manager: flash, Next: skip(tc.skipFlash)}))
			app.Get("/", slots(login, flash))
			r := call(t, app, "/?set=1")
			if r.body != tc.want {
				t.Errorf("Get, GetFor(login), GetFor(flash) = %q, want %q", r.body, tc.want)
			}
			if (r.cookie(login.Cookie.Name) != nil) == tc.skipLogin || (r.cookie(flash.Cookie.Name) != nil) == tc.skipFlash {
				t.Errorf("Set-Cookie = %q, want a cookie only from the Manager not skipped", r.header.Values("Set-Cookie"))
			}
		})
	}
}

// TestSameManagerTwice: a Manager mounted app-wide and again on a group
// keeps one session: one backend write, one Set-Cookie.
func TestSameManagerTwice(t *testing.T) {
	store := backendtest.NewRecorder(t)
	m := core.NewManager(store)
	app := fiber.New()
	app.Use(fibersession.New(fibersession.Config{Manager: m}))
	group := app.Group("/g", fibersession.New(fibersession.Config{Manager: m}))
	group.Get("/set", setAAsGetFor(m))
	r := call(t, app, "/g/set")
	if r.status != 200 || len(r.header.Values("Set-Cookie")) != 1 {
		t.Errorf("response = %d %q with Set-Cookie %q, want 200 and one cookie", r.status, r.body, r.header.Values("Set-Cookie"))
	}
	var writes int
	for _, c := range store.Calls() {
		if strings.HasPrefix(c, "set") {
			writes++
		}
	}
	if writes != 1 {
		t.Errorf("backend calls = %q, want one write", store.Calls())
	}
}

// TestGetForUnservedManager: GetFor a Manager no middleware serves, or a
// nil one, is core.ErrNoSession even while another Manager's middleware
// ran.
func TestGetForUnservedManager(t *testing.T) {
	login, other := twoManagers(t)
	app := newApp(login, fiber.Config{})
	app.Get("/", func(c fiber.Ctx) error {
		for _, m := range []*core.Manager{other, nil} {
			if _, err := fibersession.GetFor(c, m); !errors.Is(err, core.ErrNoSession) {
				return c.Status(http.StatusInternalServerError).SendString(err.Error())
			}
		}
		return c.SendString("ok")
	})
	if r := call(t, app, "/"); r.status != 200 {
		t.Errorf("GetFor an unserved Manager = %d %q, want core.ErrNoSession", r.status, r.body)
	}
}

// TestInnerFailedCommit: when the inner Manager's save fails, the response
// is replaced; the outer one's session was saved, so its cookie still goes
// out and no data is orphaned.
func TestInnerFailedCommit(t *testing.T) {
	login, _, _ := newManager(t)
	flash, rep := failingManager(t)
	flash.Cookie.Name = "flash"
	app := fiber.New()
	app.Use(fibersession.New(fibersession.Config{Manager: login}))
	app.Use(fibersession.New(fibersession.Config{Manager: flash}))
	app.Get("/", slots(login, flash))
	r := call(t, app, "/?set=1")
	if r.status != 503 || r.body != "session could not be saved" {
		t.Errorf("response = %d %q, want 503 %q", r.status, r.body, "session could not be saved")
	}
	if r.cookie(login.Cookie.Name) == nil || r.cookie(flash.Cookie.Name) != nil {
		t.Errorf("Set-Cookie = %q, want the login cookie only", r.header.Values("Set-Cookie"))
	}
	if cc := r.header.Get(fiber.HeaderCacheControl); !strings.HasPrefix(cc, "private") {
		t.Errorf("Cache-Control = %q, want the outer commit's private", cc)
	}
	if !rep.has(errDown) {
		t.Error("the failed save was not reported")
	}
}

// TestSameManagerInnerServesWhatOuterSkipped: a Manager mounted app-wide
// with a Next that skips /api, and again on the /api group without one,
// serves /api requests from the group's middleware, in Get's slot.
func TestSameManagerInnerServesWhatOuterSkipped(t *testing.T) {
	m, _, _ := newManager(t)
	app := fiber.New()
	app.Use(fibersession.New(fibersession.Config{
		Manager: m,
		Next:    func(c fiber.Ctx) bool { return strings.HasPrefix(c.Path(), "/api") },
	}))
	api := app.Group("/api", fibersession.New(fibersession.Config{Manager: m}))
	api.Get("/read", readA)
	api.Get("/set", setAAsGetFor(m))
	r := call(t, app, "/api/set")
	c := r.cookie(m.Cookie.Name)
	if r.status != 200 || c == nil {
		t.Fatalf("response = %d %q with Set-Cookie %q, want 200 and the session cookie", r.status, r.body, r.header.Values("Set-Cookie"))
	}
	if got := call(t, app, "/api/read", c); got.body != "1" {
		t.Errorf("a = %q under the new cookie, want 1", got.body)
	}
}

// setAAsGetFor returns a handler that sets a in the session Get returns,
// once it has checked that GetFor(m) returns the same one.
func setAAsGetFor(m *core.Manager) fiber.Handler {
	return func(c fiber.Ctx) error {
		s, err := fibersession.Get(c)
		if err != nil {
			return err
		}
		if named, err := fibersession.GetFor(c, m); err != nil || named != s {
			return errors.New("GetFor returned another session than Get")
		}
		s.Set("a", "1")
		return c.SendString("ok")
	}
}
