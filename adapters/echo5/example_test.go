package echosession_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/labstack/echo/v5"

	echosession "github.com/cloakroom/cloakroom/adapters/echo5"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

// visit serves one GET of path through e with the cookies given, prints
// the status and body, and returns the cookies the response set.
func visit(e *echo.Echo, path string, cookies []*http.Cookie) []*http.Cookie {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	fmt.Println(strings.TrimSpace(fmt.Sprint(rec.Code, " ", rec.Body)))
	return rec.Result().Cookies()
}

// A visit counter: the session cookie from the first response brings the
// count back on the next request.
func Example() {
	store := memory.New(memory.Options{})
	defer store.Close()
	m := core.NewManager(store)

	e := echo.New()
	e.Use(echosession.Middleware(m))
	e.GET("/", func(c *echo.Context) error {
		s, err := echosession.Get(c)
		if err != nil {
			return err
		}
		n, _ := s.GetInt("visits")
		s.Set("visits", n+1)
		return c.String(http.StatusOK, fmt.Sprintf("visit %d", n+1))
	})

	cookies := visit(e, "/", nil)
	visit(e, "/", cookies)
	// Output:
	// 200 visit 1
	// 200 visit 2
}

// A health check kept away from sessions with a Skipper.
func ExampleMiddlewareWithConfig() {
	store := memory.New(memory.Options{})
	defer store.Close()

	e := echo.New()
	e.Use(echosession.MiddlewareWithConfig(echosession.Config{
		Manager: core.NewManager(store),
		Skipper: func(c *echo.Context) bool { return c.Path() == "/healthz" },
	}))
	e.GET("/healthz", func(c *echo.Context) error {
		_, err := echosession.Get(c)
		return c.String(http.StatusOK, fmt.Sprint(err))
	})

	visit(e, "/healthz", nil)
	// Output:
	// 200 echosession: cloakroom: no session for this request (middleware not installed, skipped, or static path)
}

// Two sessions per request: a long-lived login session and a short-lived
// one for notices, each with its own cookie. Get returns the outer
// middleware's session, GetFor the one of the Manager it names.
func ExampleGetFor() {
	store := memory.New(memory.Options{})
	defer store.Close()
	login := core.NewManager(store)
	notices := core.NewManager(store)
	notices.Cookie.Name, notices.KeyPrefix, notices.Permanent = "notices", "notices:", false

	e := echo.New()
	e.Use(echosession.Middleware(login), echosession.Middleware(notices))
	e.GET("/login", func(c *echo.Context) error {
		s, err := echosession.Get(c) // login's
		if err != nil {
			return err
		}
		n, err := echosession.GetFor(c, notices)
		if err != nil {
			return err
		}
		s.Set("user", "alice")
		n.Set("notice", "welcome back")
		return c.NoContent(http.StatusNoContent)
	})
	e.GET("/", func(c *echo.Context) error {
		s, err := echosession.Get(c)
		if err != nil {
			return err
		}
		n, err := echosession.GetFor(c, notices)
		if err != nil {
			return err
		}
		user, _ := s.GetString("user")
		notice, _ := n.GetString("notice")
		return c.String(http.StatusOK, user+": "+notice)
	})

	cookies := visit(e, "/login", nil)
	fmt.Println(len(cookies), "cookies")
	visit(e, "/", cookies)
	// Output:
	// 204
	// 2 cookies
	// 200 alice: welcome back
}
