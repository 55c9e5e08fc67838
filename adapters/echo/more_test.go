package echosession_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	echosession "github.com/cloakroom/cloakroom/adapters/echo"
	"github.com/cloakroom/cloakroom/core"
)

// TestSkipper: a skipped request has no session and costs nothing.
func TestSkipper(t *testing.T) {
	f := newFixture(t)
	e := echo.New()
	e.Use(echosession.MiddlewareWithConfig(echosession.Config{
		Manager: f.m,
		Skipper: func(c echo.Context) bool { return c.Path() == "/health" },
	}))
	var got error
	e.GET("/health", func(c echo.Context) error {
		_, got = echosession.Get(c)
		return c.String(200, "ok")
	})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/health", nil)
	req.AddCookie(&http.Cookie{Name: "session", Value: core.RandomID{}.NewID()})
	e.ServeHTTP(rec, req)
	if !errors.Is(got, core.ErrNoSession) {
		t.Errorf("Get on a skipped request = %v, want core.ErrNoSession", got)
	}
	if rec.Header().Get("Set-Cookie") != "" || rec.Header().Get("Vary") != "" {
		t.Errorf("skipped request got headers %v", rec.Header())
	}
}

// TestGetWithoutMiddleware: Get tells a missing middleware apart.
func TestGetWithoutMiddleware(t *testing.T) {
	e := echo.New()
	c := e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder())
	if _, err := echosession.Get(c); !errors.Is(err, core.ErrNoSession) {
		t.Errorf("Get = %v, want core.ErrNoSession", err)
	}
}

// TestNilManager: a Config without Manager fails at construction.
func TestNilManager(t *testing.T) {
	defer func() {
		if err, _ := recover().(error); !errors.Is(err, core.ErrNilManager) {
			t.Errorf("MiddlewareWithConfig without a Manager panicked with %v, want core.ErrNilManager", err)
		}
	}()
	echosession.MiddlewareWithConfig(echosession.Config{})
	t.Error("MiddlewareWithConfig without a Manager did not panic")
}

// TestFlushFirst documents Echo's bare Flush: it bypasses
// Response.WriteHeader, so the status line goes out before the commit. An
// existing session's change is still saved (a new session's cookie could
// not be sent).
func TestFlushFirst(t *testing.T) {
	f := newFixture(t)
	f.e.GET("/sse", setThen(func(c echo.Context) error {
		c.Response().Flush()
		_, err := io.WriteString(c.Response(), "data: 1\n\n")
		return err
	}))
	cookie := f.login("k", "old")
	if rec := f.do("/sse", cookie); rec.Body.String() != "data: 1\n\n" {
		t.Fatalf("body = %q", rec.Body.String())
	}
	if got := f.stored(cookie, "k"); got != "v" {
		t.Errorf("stored %q, want v", got)
	}
}

// TestStaticPassesThrough: static paths get no session and no headers.
func TestStaticPassesThrough(t *testing.T) {
	f := newFixture(t)
	var got error
	f.e.GET("/static/*", func(c echo.Context) error {
		_, got = echosession.Get(c)
		return c.String(200, "file")
	})
	rec := f.do("/static/app.css", f.login("k", "v"))
	if !errors.Is(got, core.ErrNoSession) || rec.Header().Get("Set-Cookie") != "" || rec.Header().Get("Vary") != "" {
		t.Errorf("static request: Get = %v, headers %v", got, rec.Header())
	}
}

// TestContextTimeoutInside: middleware.ContextTimeout, inside the
// sessions', cancels the context it put on the request as it returns,
// before the error handler writes or the middleware commits after a silent
// handler. The save must not fail for that.
func TestContextTimeoutInside(t *testing.T) {
	for name, handler := range map[string]echo.HandlerFunc{
		"silent": func(echo.Context) error { return nil },
		"error":  func(echo.Context) error { return echo.NewHTTPError(http.StatusTeapot, "teapot") },
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.e.Use(middleware.ContextTimeout(time.Minute))
			f.e.GET("/t", func(c echo.Context) error {
				s, err := echosession.Get(c)
				if err != nil {
					return err
				}
				s.Set("k", "v")
				return handler(c)
			})
			rec := httptest.NewRecorder()
			f.e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/t", nil))
			if rec.Code == http.StatusServiceUnavailable || len(rec.Result().Cookies()) == 0 {
				t.Fatalf("status %d, cookies %v: the save failed on the cancelled context", rec.Code, rec.Result().Cookies())
			}
		})
	}
}
