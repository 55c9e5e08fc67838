package echosession_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	echosession "github.com/cloakroom/cloakroom/adapters/echo"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

var errBoom = errors.New("injected write failure")

// fixture is an Echo app with the session middleware, its backend, and the
// errors reported to the Manager's ErrorHandler and to Echo's
// HTTPErrorHandler.
type fixture struct {
	t       *testing.T
	e       *echo.Echo
	m       *core.Manager
	backend *backendtest.Recorder

	mu       sync.Mutex
	reported []error // Manager.ErrorHandler
	handled  []error // echo.HTTPErrorHandler
}

// newFixture builds the app; outer middleware goes before the sessions'.
func newFixture(t *testing.T, outer ...echo.MiddlewareFunc) *fixture {
	f := &fixture{t: t, e: echo.New(), backend: backendtest.NewRecorder(t)}
	f.m = core.NewManager(f.backend)
	f.m.ErrorHandler = func(_ context.Context, err error) { f.note(&f.reported, err) }
	f.e.HTTPErrorHandler = func(err error, c echo.Context) {
		f.note(&f.handled, err)
		f.e.DefaultHTTPErrorHandler(err, c)
	}
	f.e.Use(outer...)
	f.e.Use(echosession.Middleware(f.m))
	f.e.GET("/get", func(c echo.Context) error {
		s, err := echosession.Get(c)
		if err != nil {
			return err
		}
		v, _ := s.GetString(c.QueryParam("k"))
		return c.String(http.StatusOK, v)
	})
	return f
}

func (f *fixture) note(list *[]error, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	*list = append(*list, err)
}

func (f *fixture) errs(list *[]error) []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]error(nil), *list...)
}

// do serves one GET in-process, with the session cookie when not empty.
func (f *fixture) do(path, cookie string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: f.m.Cookie.Name, Value: cookie})
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	f.e.ServeHTTP(rec, req)
	return rec
}

// sessionCookie returns the session cookie a response sets, or "".
func (f *fixture) sessionCookie(rec *httptest.ResponseRecorder) string {
	for _, c := range rec.Result().Cookies() {
		if c.Name == f.m.Cookie.Name {
			return c.Value
		}
	}
	return ""
}

// stored returns the value of k in the session of cookie, read back
// through the app.
func (f *fixture) stored(cookie, k string) string {
	f.t.Helper()
	return f.do("/get?k="+k, cookie).Body.String()
}

// login starts a session holding k=v and returns its cookie value.
func (f *fixture) login(k, v string) string {
	f.t.Helper()
	f.e.GET("/login", func(c echo.Context) error {
		s, err := echosession.Get(c)
		if err != nil {
			return err
		}
		s.Set(c.QueryParam("k"), c.QueryParam("v"))
		return c.NoContent(http.StatusNoContent)
	})
	cookie := f.sessionCookie(f.do("/login?k="+k+"&v="+v, ""))
	if cookie == "" {
		f.t.Fatal("/login set no session cookie")
	}
	return cookie
}

// setThen is a handler that sets k=v in its session, then answers with
// respond.
func setThen(respond func(c echo.Context) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		s, err := echosession.Get(c)
		if err != nil {
			return err
		}
		s.Set("k", "v")
		return respond(c)
	}
}
