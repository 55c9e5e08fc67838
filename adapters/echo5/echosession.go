package echosession

import (
	"errors"
	"fmt"

	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"

	"github.com/cloakroom/cloakroom/core"
)

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
// session managed by m. Requests that m marks static pass through untouched,
// as do requests that already went through a middleware of m: installing it
// app-wide and again on a group costs nothing.
func Middleware(m *core.Manager) echo.MiddlewareFunc {
	return MiddlewareWithConfig(Config{Manager: m})
}

// MiddlewareWithConfig is Middleware with a Skipper, for applications that
// want to keep some routes (health checks, metrics) away from sessions. It
// panics with the error of Manager.Validate, such as core.ErrNilManager
// when cfg.Manager is nil.
func MiddlewareWithConfig(cfg Config) echo.MiddlewareFunc {
	m, skip := cfg.Manager, cfg.Skipper
	if err := m.Validate(); err != nil {
		panic(err)
	}
	if skip == nil {
		skip = middleware.DefaultSkipper
	}
	own := slotKey(m) // computed once, not per request
	mark := &skipMark{m: m}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			key, served := freeSlot(c, m, own)
			switch {
			case served:
				return next(c)
			case skip(c) || m.Skip(c.Request().URL.Path):
				// Claim the slot all the same, so that Get never
				// answers for a later Manager.
				c.Set(key, mark)
				return next(c)
			}
			return serve(c, m, key, next)
		}
	}
}

// serve runs next with a session and makes sure it is committed.
func serve(c *echo.Context, m *core.Manager, key string, next echo.HandlerFunc) error {
	s := begin(c)
	var first *core.Request
	if f, _ := c.Get(firstKey).(*state); f != nil {
		first = &f.req
	}
	m.BeginAt(&s.req, s, first)
	c.Set(key, s)
	returned := false
	defer func() {
		// A panic is on its way to a recover middleware, which will
		// write the error through s: save nothing of a handler that did
		// not finish, as a transaction rolls back.
		s.abandoned = !returned
	}()
	err := next(c)
	returned = true
	if err != nil || s.wrote {
		// A handler's error is rendered by the HTTPErrorHandler once
		// the chain has returned; its write goes through s, which
		// commits then, so the error handler can still use the session.
		return err
	}
	// The handler wrote nothing (or a writer above Echo's Response is
	// holding its status back, as middleware.Gzip does for a response
	// without a body): commit now, while the status line can still change.
	return s.finish()
}

// Get returns the session of the first (outermost) session middleware the
// request went through, loading it on first use. It returns an error
// wrapping core.ErrNoSession when that middleware did not give the request
// a session (not installed, skipped, or a static path), and the load's
// error when the backend fails or holds corrupt data.
func Get(c *echo.Context) (*core.Session, error) {
	return sessionOf(c, c.Get(firstKey))
}

// GetFor is Get for the session that m manages, when several Managers
// serve the request. It returns an error wrapping core.ErrNoSession when no
// middleware of m gave the request a session. For a Manager other than the
// request's first it formats that Manager's slot key, a small allocation.
func GetFor(c *echo.Context, m *core.Manager) (*core.Session, error) {
	if m == nil {
		return nil, errNoSession
	}
	v := c.Get(firstKey)
	if owner(v) != m {
		v = c.Get(slotKey(m))
	}
	return sessionOf(c, v)
}

// sessionOf returns the session of a slot's value.
func sessionOf(c *echo.Context, v any) (*core.Session, error) {
	s, ok := v.(*state)
	if !ok {
		return nil, errNoSession
	}
	return s.req.Session(c.Request().Context())
}
