package echosession_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	echosession "github.com/cloakroom/cloakroom/adapters/echo"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// whose answers which Manager's session Get and GetFor return, and writes
// to each.
func whose(login, flash *core.Manager) echo.HandlerFunc {
	return func(c echo.Context) error {
		name := func(s *core.Session, err error) string {
			switch {
			case errors.Is(err, core.ErrNoSession):
				return "none"
			case err != nil:
				return err.Error()
			}
			v, _ := s.GetString("who")
			return v
		}
		l, errL := echosession.GetFor(c, login)
		if errL == nil {
			l.Set("who", "login")
		}
		f, errF := echosession.GetFor(c, flash)
		if errF == nil {
			f.Set("who", "flash")
		}
		g, errG := echosession.Get(c)
		return c.String(http.StatusOK, name(g, errG)+" "+name(l, errL)+" "+name(f, errF))
	}
}

// A Skipper of the first middleware keeps Get from answering for a later
// Manager (the v4 adapter once handed out the second Manager's session);
// a second middleware of the same Manager, on a group without the
// Skipper, serves the group's requests.
func TestSkipperWithSeveralManagers(t *testing.T) {
	b := backendtest.NewRecorder(t)
	login, flash := core.NewManager(b), core.NewManager(b)
	flash.Cookie.Name, flash.KeyPrefix = "flash", "flash:"
	skipAPI := func(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, "/api/") }

	e := echo.New()
	e.Use(echosession.MiddlewareWithConfig(echosession.Config{Manager: login, Skipper: skipAPI}))
	e.Use(echosession.Middleware(flash))
	e.GET("/api/open", whose(login, flash))
	e.Group("/api/group", echosession.Middleware(login)).GET("/x", whose(login, flash))
	e.GET("/page", whose(login, flash))

	for path, want := range map[string]string{
		"/page":        "login login flash",
		"/api/open":    "none none flash",
		"/api/group/x": "login login flash",
	} {
		sessions := 2 - strings.Count(want, "none")/2 // one write and one cookie each
		b.Calls()
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if got := rec.Body.String(); got != want {
			t.Errorf("%s: Get, GetFor(login), GetFor(flash) = %q, want %q", path, got, want)
		}
		if n := len(b.Calls()); n != sessions {
			t.Errorf("%s: %d backend calls, want %d", path, n, sessions)
		}
		if sc := rec.Header().Values("Set-Cookie"); len(sc) != sessions {
			t.Errorf("%s: Set-Cookie = %q", path, sc)
		}
	}
}
