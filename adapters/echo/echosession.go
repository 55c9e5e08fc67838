package echosession

import (
	"errors"
	"fmt"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/cloakroom/cloakroom/core"
)

// storeKey is where the middleware keeps a request's session state in the
// echo.Context.
const storeKey = "github.com/cloakroom/cloakroom/adapters/echo"

var (
	// ErrResponseDropped is returned by writes to a response that was
	// replaced by an error because the session could not be saved. Handlers
	// can test for it with errors.Is; Echo's default HTTPErrorHandler
	// ignores it since the response is already committed.
	ErrResponseDropped = errors.New("echosession: response dropped: the session could not be saved")

	errNoSession = fmt.Errorf("echosession: %w (middleware not installed, skipped, or static path)", core.ErrNoSession)
)

// Config configures the middleware, in Echo's middleware idiom.
type Config struct {
	// Manager runs the sessions. Required.
	Manager *core.Manager
	// Skipper selects requests that go without a session, on top of the
	// Manager's static paths. Default: middleware.DefaultSkipper.
	Skipper middleware.Skipper
}

// Middleware returns middleware that gives every request that asks for it a
// session managed by m. Requests that m marks static pass through untouched.
func Middleware(m *core.Manager) echo.MiddlewareFunc {
	return MiddlewareWithConfig(Config{Manager: m})
}

// MiddlewareWithConfig is Middleware with a Skipper, for applications that
// want to keep some routes (health checks, metrics) away from sessions. It
// panics with the error of Manager.Validate, such as core.ErrNilManager
// when cfg.Manager is nil.
func MiddlewareWithConfig(cfg Config) echo.MiddlewareFunc {
	m, skip := cfg.Manager, cfg.Skipper
	if skip == nil {
		skip = middleware.DefaultSkipper
	}
	if err := m.Validate(); err != nil {
		panic(err)
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if skip(c) || m.Skip(c.Request().URL.Path) {
				return next(c)
			}
			return serve(m, c, next)
		}
	}
}

// serve runs next with a session and makes sure it is committed.
func serve(m *core.Manager, c echo.Context, next echo.HandlerFunc) error {
	s := &state{c: c}
	s.req = m.Begin(s)
	c.Set(storeKey, s)
	res := c.Response()
	res.Before(s.beforeWrite)
	err := next(c)
	if err != nil || res.Committed {
		// Whoever writes the response, the HTTPErrorHandler included,
		// goes through Response.WriteHeader and so through beforeWrite.
		return err
	}
	// The handler wrote nothing: net/http will send the headers as they
	// are once Echo returns, so commit now.
	if err := s.req.Commit(c.Request().Context()); err != nil {
		return echo.NewHTTPError(core.HTTPStatus(err), notSaved).SetInternal(err)
	}
	return nil
}

// Get returns the request's session, loading it on first use. It returns
// an error wrapping core.ErrNoSession when the middleware did not run for
// the request (not installed, skipped, or a static path), and the load's
// error when the backend fails or holds corrupt data.
func Get(c echo.Context) (*core.Session, error) {
	s, ok := c.Get(storeKey).(*state)
	if !ok {
		return nil, errNoSession
	}
	return s.req.Session(c.Request().Context())
}
