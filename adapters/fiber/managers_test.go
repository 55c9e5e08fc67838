package fibersession_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	fibersession "github.com/cloakroom/cloakroom/adapters/fiber"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// whose answers which Manager's session Get and GetFor return, and writes
// to each.
func whose(login, flash *core.Manager) fiber.Handler {
	return func(c *fiber.Ctx) error {
		name := func(s *core.Session, err error) string {
			switch {
			case errors.Is(err, core.ErrNoSession):
				return "none"
			case err != nil:
				return err.Error()
			}
			s.Set("seen", true)
			v, _ := s.GetString("who")
			return v
		}
		l, errL := fibersession.GetFor(c, login)
		if errL == nil {
			l.Set("who", "login")
		}
		f, errF := fibersession.GetFor(c, flash)
		if errF == nil {
			f.Set("who", "flash")
		}
		g, errG := fibersession.Get(c)
		return c.SendString(name(g, errG) + " " + name(l, errL) + " " + name(f, errF))
	}
}

// Next of the first middleware keeps Get from answering for a later
// Manager; a second middleware of the same Manager, on a group without
// Next, serves the group's requests.
func TestNextWithSeveralManagers(t *testing.T) {
	b := backendtest.NewRecorder(t)
	login, flash := core.NewManager(b), core.NewManager(b)
	flash.Cookie.Name, flash.KeyPrefix = "flash", "flash:"
	skipAPI := func(c *fiber.Ctx) bool { return strings.HasPrefix(c.Path(), "/api/") }

	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Use(fibersession.New(fibersession.Config{Manager: login, Next: skipAPI}))
	app.Use(fibersession.New(fibersession.Config{Manager: flash}))
	app.Get("/api/open", whose(login, flash))
	app.Group("/api/group", fibersession.New(fibersession.Config{Manager: login})).Get("/x", whose(login, flash))
	app.Get("/page", whose(login, flash))

	for path, want := range map[string]string{
		"/page":        "login login flash",
		"/api/open":    "none none flash",
		"/api/group/x": "login login flash",
	} {
		sessions := 2 - strings.Count(want, "none")/2 // one write and one cookie each
		b.Calls()
		r := call(t, app, path)
		if r.body != want {
			t.Errorf("%s: Get, GetFor(login), GetFor(flash) = %q, want %q", path, r.body, want)
		}
		if n := len(b.Calls()); n != sessions {
			t.Errorf("%s: %d backend calls, want %d", path, n, sessions)
		}
		if r.cookie("flash") == nil || (r.cookie("session") == nil) != strings.HasPrefix(want, "none") {
			t.Errorf("%s: Set-Cookie = %q", path, r.header.Values("Set-Cookie"))
		}
	}
}
