package echosession_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v5"

	echosession "github.com/cloakroom/cloakroom/adapters/echo5"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

// benchApp is the app the benchmarks drive in-process, with the session
// middleware of each Manager given (none for the baseline).
func benchApp(b *testing.B, managers int) *echo.Echo {
	e := quietEcho()
	store := memory.New(memory.Options{})
	b.Cleanup(func() { store.Close() })
	for i := range managers {
		m := core.NewManager(store)
		if i > 0 {
			m.Cookie.Name, m.KeyPrefix = "flash", "flash:"
		}
		e.Use(echosession.Middleware(m))
	}
	e.GET("/none", func(c *echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET("/read", func(c *echo.Context) error {
		s, err := echosession.Get(c)
		if err != nil {
			return err
		}
		v, _ := s.GetString("user")
		return c.String(http.StatusOK, v)
	})
	e.GET("/write", func(c *echo.Context) error {
		s, err := echosession.Get(c)
		if err != nil {
			return err
		}
		s.Set("user", "alice")
		return c.String(http.StatusOK, "ok")
	})
	return e
}

// run serves req n times and fails on an unexpected status.
func run(b *testing.B, e *echo.Echo, req *http.Request) {
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// withSession returns a request for path carrying an existing session.
func withSession(b *testing.B, e *echo.Echo, path string) *http.Request {
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/write", nil))
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for _, c := range rec.Result().Cookies() {
		req.AddCookie(c)
	}
	if req.Header.Get("Cookie") == "" {
		b.Fatal("no session cookie")
	}
	return req
}

func BenchmarkBaseline(b *testing.B) {
	run(b, benchApp(b, 0), httptest.NewRequest(http.MethodGet, "/none", nil))
}

func BenchmarkNoSession(b *testing.B) {
	run(b, benchApp(b, 1), httptest.NewRequest(http.MethodGet, "/none", nil))
}

func BenchmarkRead(b *testing.B) {
	e := benchApp(b, 1)
	run(b, e, withSession(b, e, "/read"))
}

func BenchmarkWrite(b *testing.B) {
	e := benchApp(b, 1)
	run(b, e, withSession(b, e, "/write"))
}

func BenchmarkNew(b *testing.B) {
	run(b, benchApp(b, 1), httptest.NewRequest(http.MethodGet, "/write", nil))
}

// BenchmarkNoSessionTwoManagers is NoSession with a second Manager's
// middleware, whose slot has a key of its own.
func BenchmarkNoSessionTwoManagers(b *testing.B) {
	run(b, benchApp(b, 2), httptest.NewRequest(http.MethodGet, "/none", nil))
}
