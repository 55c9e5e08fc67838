package echosession_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v5"

	echosession "github.com/cloakroom/cloakroom/adapters/echo5"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// pair is two Managers over one backend: login, with the default cookie
// and keys, and flash, whose cookie and keys are called flash.
type pair struct {
	backend      *backendtest.Recorder
	login, flash *core.Manager
}

func newPair(t *testing.T) *pair {
	p := &pair{backend: backendtest.NewRecorder(t)}
	p.login = core.NewManager(p.backend)
	p.flash = core.NewManager(p.backend)
	p.flash.Cookie.Name, p.flash.KeyPrefix = "flash", "flash:"
	for _, m := range []*core.Manager{p.login, p.flash} {
		m.ErrorHandler = func(context.Context, error) {} // failures show in the replies
	}
	return p
}

// probe is a handler that sets who=<name> in each session it is given and
// answers with what Get, GetFor(login) and GetFor(flash) returned: the
// name of the session's Manager, or "none" for core.ErrNoSession.
func (p *pair) probe(c *echo.Context) error {
	get, err1 := echosession.Get(c)
	login, err2 := echosession.GetFor(c, p.login)
	flash, err3 := echosession.GetFor(c, p.flash)
	name := func(s *core.Session, err error) string {
		switch {
		case errors.Is(err, core.ErrNoSession):
			return "none"
		case err != nil:
			return err.Error()
		case s == login:
			return "login"
		case s == flash:
			return "flash"
		}
		return "another"
	}
	if login != nil {
		login.Set("who", "login")
	}
	if flash != nil {
		flash.Set("who", "flash")
	}
	return c.String(http.StatusOK, name(get, err1)+" "+name(login, err2)+" "+name(flash, err3))
}

// serve runs one GET of path through e.
func serve(e *echo.Echo, path string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

// names returns the names of the cookies a response sets, sorted.
func names(rec *httptest.ResponseRecorder) []string {
	var out []string
	for _, c := range rec.Result().Cookies() {
		out = append(out, c.Name)
	}
	slices.Sort(out)
	return out
}

// TestTwoManagers: each Manager has its own session; Get returns the
// outer one's, GetFor each its own, and the response carries two cookies.
func TestTwoManagers(t *testing.T) {
	p := newPair(t)
	e := quietEcho()
	e.Use(echosession.Middleware(p.login), echosession.Middleware(p.flash))
	e.GET("/probe", p.probe)
	e.GET("/read", func(c *echo.Context) error {
		var out []string
		for _, m := range []*core.Manager{p.login, p.flash} {
			s, err := echosession.GetFor(c, m)
			if err != nil {
				return err
			}
			v, _ := s.GetString("who")
			out = append(out, v)
		}
		return c.String(http.StatusOK, strings.Join(out, " "))
	})

	rec := serve(e, "/probe")
	if got := rec.Body.String(); got != "login login flash" {
		t.Errorf("Get, GetFor(login), GetFor(flash) = %q, want login login flash", got)
	}
	if got := names(rec); !slices.Equal(got, []string{"flash", "session"}) {
		t.Errorf("cookies set = %q, want session and flash", got)
	}
	calls := p.backend.Calls()
	if len(calls) != 2 || !contains(calls, "set session:") || !contains(calls, "set flash:") {
		t.Errorf("backend calls = %q, want one write per Manager", calls)
	}
	if got := serve(e, "/read", rec.Result().Cookies()...).Body.String(); got != "login flash" {
		t.Errorf("read back %q, want login flash", got)
	}
}

// TestSkipperOfOneManager: one middleware's Skipper leaves its Manager's
// slot empty; it never hands the request another Manager's session.
func TestSkipperOfOneManager(t *testing.T) {
	health := func(c *echo.Context) bool { return c.Path() == "/health" }
	for _, tc := range []struct {
		name         string
		skip         func(p *pair) *core.Manager // whose middleware skips
		want, cookie string
	}{
		{"OuterSkipped", func(p *pair) *core.Manager { return p.login }, "none none flash", "flash"},
		{"InnerSkipped", func(p *pair) *core.Manager { return p.flash }, "login login none", "session"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t)
			e := quietEcho()
			for _, m := range []*core.Manager{p.login, p.flash} {
				cfg := echosession.Config{Manager: m}
				if m == tc.skip(p) {
					cfg.Skipper = health
				}
				e.Use(echosession.MiddlewareWithConfig(cfg))
			}
			e.GET("/health", p.probe)
			e.GET("/probe", p.probe)
			rec := serve(e, "/health")
			if got := rec.Body.String(); got != tc.want {
				t.Errorf("Get, GetFor(login), GetFor(flash) = %q, want %q", got, tc.want)
			}
			if got := names(rec); !slices.Equal(got, []string{tc.cookie}) {
				t.Errorf("cookies set = %q, want %s only", got, tc.cookie)
			}
			if got := serve(e, "/probe").Body.String(); got != "login login flash" {
				t.Errorf("a route not skipped: %q, want login login flash", got)
			}
		})
	}
}

// TestSameManagerTwice: a Manager installed app-wide and again on a group
// has one session, saved once with one cookie, also with another Manager
// between the two: what a middleware between them sets and what the
// handler sets land in the same session.
func TestSameManagerTwice(t *testing.T) {
	for _, both := range []bool{false, true} {
		t.Run(fmt.Sprintf("both=%v", both), func(t *testing.T) {
			p := newPair(t)
			ms := []*core.Manager{p.login}
			if both {
				ms = append(ms, p.flash)
			}
			e := quietEcho()
			var again []echo.MiddlewareFunc
			for _, m := range ms {
				e.Use(echosession.Middleware(m))
				again = append(again, echosession.Middleware(m))
			}
			e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
				return func(c *echo.Context) error {
					for _, m := range ms {
						if s, err := echosession.GetFor(c, m); err == nil {
							s.Set("early", "yes")
						}
					}
					return next(c)
				}
			})
			g := e.Group("/g", again...)
			g.GET("/probe", p.probe)
			g.GET("/read", func(c *echo.Context) error {
				var out []string
				for _, m := range ms {
					s, err := echosession.GetFor(c, m)
					if err != nil {
						return err
					}
					early, _ := s.GetString("early")
					who, _ := s.GetString("who")
					out = append(out, early+"/"+who)
				}
				return c.String(http.StatusOK, strings.Join(out, " "))
			})

			rec := serve(e, "/g/probe")
			want := []string{"session"}
			if both {
				want = []string{"flash", "session"}
			}
			if got := names(rec); !slices.Equal(got, want) {
				t.Errorf("cookies set = %q, want %q", got, want)
			}
			if calls := p.backend.Calls(); len(calls) != len(ms) || !contains(calls, "set session:") {
				t.Errorf("backend calls = %q, want one write per Manager", calls)
			}
			if got := rec.Body.String(); !strings.HasPrefix(got, "login login ") {
				t.Errorf("Get, GetFor(login), GetFor(flash) = %q", got)
			}
			wantRead := "yes/login"
			if both {
				wantRead = "yes/login yes/flash"
			}
			if got := serve(e, "/g/read", rec.Result().Cookies()...).Body.String(); got != wantRead {
				t.Errorf("stored %q, want %q", got, wantRead)
			}
		})
	}
}

// TestSecondMiddlewareServesSkipped: a Manager skipped app-wide and
// installed again on a group serves the group's requests, and Get answers
// for it, since its middleware came first; another Manager never does.
func TestSecondMiddlewareServesSkipped(t *testing.T) {
	p := newPair(t)
	e := quietEcho()
	e.Use(echosession.MiddlewareWithConfig(echosession.Config{
		Manager: p.login,
		Skipper: func(c *echo.Context) bool { return strings.HasPrefix(c.Path(), "/g/") },
	}))
	e.Use(echosession.Middleware(p.flash))
	g := e.Group("/g", echosession.Middleware(p.login))
	g.GET("/write", p.probe)
	e.GET("/write", p.probe)
	rec := serve(e, "/g/write")
	if got := rec.Body.String(); !strings.HasPrefix(got, "login login flash") {
		t.Errorf("Get, GetFor(login), GetFor(flash) = %q, want login login flash", got)
	}
	if calls := p.backend.Calls(); len(calls) != 2 {
		t.Errorf("backend calls = %q, want one write per Manager", calls)
	}
	e2 := quietEcho()
	e2.Use(echosession.MiddlewareWithConfig(echosession.Config{
		Manager: p.login,
		Skipper: func(*echo.Context) bool { return true },
	}), echosession.Middleware(p.flash))
	e2.GET("/write", p.probe)
	if got := serve(e2, "/write").Body.String(); !strings.HasPrefix(got, "none none flash") {
		t.Errorf("first Manager skipped: Get, GetFor(login), GetFor(flash) = %q, want none none flash", got)
	}
}

// TestTwoManagersFailedSave: when one Manager's save fails, the response is
// the 503; the other Manager's session is still saved.
func TestTwoManagersFailedSave(t *testing.T) {
	p := newPair(t)
	other := backendtest.NewRecorder(t)
	p.flash.Backend = other
	e := quietEcho()
	e.Use(echosession.Middleware(p.login), echosession.Middleware(p.flash))
	e.GET("/probe", p.probe)
	other.FailWrites(errBoom)
	rec := serve(e, "/probe")
	if rec.Code != 503 || rec.Body.String() != "session could not be saved\n" {
		t.Errorf("reply = %d %q, want the adapter's 503", rec.Code, rec.Body)
	}
	if calls := p.backend.Calls(); !contains(calls, "set session:") {
		t.Errorf("login's backend calls = %q, want its write", calls)
	}
}
