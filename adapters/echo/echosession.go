package echosession

import (
	"errors"
	"fmt"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/cloakroom/cloakroom/core"
)

// firstKey is where the first middleware keeps a request's session state
// in the echo.Context; any other Manager's goes under a key of its own
// (slotKey), so that a request served by one Manager stores one value.
const firstKey = "github.com/cloakroom/cloakroom/adapters/echo"

// skipped holds the first slot of a request that m's middleware let pass
// without a session: Get then answers core.ErrNoSession rather than with a
// later Manager's session, while another middleware of m (on a group,
// without the Skipper) may still serve the request there.
type skipped struct{ m *core.Manager }

// slotKey returns the echo.Context key of m's session state when m is not
// the first Manager of a request.
func slotKey(m *core.Manager) string { return fmt.Sprintf("%s#%p", firstKey, m) }

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
// want to keep some routes (health checks, metrics) away from sessions. A
// request that already has the Manager's session (the middleware installed
// twice) passes through. It panics with the error of Manager.Validate, such
// as core.ErrNilManager when cfg.Manager is nil.
func MiddlewareWithConfig(cfg Config) echo.MiddlewareFunc {
	m, skip := cfg.Manager, cfg.Skipper
	if skip == nil {
		skip = middleware.DefaultSkipper
	}
	if err := m.Validate(); err != nil {
		panic(err)
	}
	key := slotKey(m)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			v := c.Get(firstKey)
			if skip(c) || m.Skip(c.Request().URL.Path) || slot(c, m, key) != nil {
				if v == nil { // Get must not answer for a later Manager
					c.Set(firstKey, skipped{m})
				}
				return next(c)
			}
			if v == nil || v == any(skipped{m}) {
				return serve(m, c, next, firstKey)
			}
			return serve(m, c, next, key)
		}
	}
}

// serve runs next with a session kept under key and makes sure it is
// committed.
func serve(m *core.Manager, c echo.Context, next echo.HandlerFunc, key string) error {
	s := &state{c: c, ctx: c.Request().Context()}
	var first *core.Request
	if f, _ := c.Get(firstKey).(*state); f != nil {
		first = &f.req
	}
	m.BeginAt(&s.req, s, first)
	c.Set(key, s)
	res := c.Response()
	res.Before(s.beforeWrite)
	returned := false
	defer func() {
		// A panic is on its way to a recover middleware, which will
		// write the error through Response.WriteHeader: save nothing of
		// a handler that did not finish, as a transaction rolls back.
		s.abandoned = !returned
	}()
	err := next(c)
	returned = true
	if err != nil || res.Committed {
		// Whoever writes the response, the HTTPErrorHandler included,
		// goes through Response.WriteHeader and so through beforeWrite.
		return err
	}
	// The handler wrote nothing: net/http will send the headers as they
	// are once Echo returns, so commit now.
	if err := s.req.Commit(s.commitContext()); err != nil {
		return echo.NewHTTPError(core.HTTPStatus(err), notSaved).SetInternal(err)
	}
	return nil
}

// Get returns the session of the first middleware the request went
// through, loading it on first use. It returns an error wrapping
// core.ErrNoSession when that middleware did not give the request a session
// (not installed, skipped, or a static path), and the load's error when the
// backend fails or holds corrupt data.
func Get(c echo.Context) (*core.Session, error) {
	s, _ := c.Get(firstKey).(*state)
	if s == nil {
		return nil, errNoSession
	}
	return s.req.Session(c.Request().Context())
}

// GetFor is Get for the session that m manages, when several Managers
// serve the request.
func GetFor(c echo.Context, m *core.Manager) (*core.Session, error) {
	s, _ := c.Get(firstKey).(*state)
	if s == nil || s.req.Manager() != m {
		s, _ = c.Get(slotKey(m)).(*state)
	}
	if s == nil {
		return nil, errNoSession
	}
	return s.req.Session(c.Request().Context())
}

// slot returns the request's session state for m, whose key is key when m
// is not the request's first Manager, or nil.
func slot(c echo.Context, m *core.Manager, key string) *state {
	if s, _ := c.Get(firstKey).(*state); s != nil && s.req.Manager() == m {
		return s
	}
	s, _ := c.Get(key).(*state)
	return s
}
