package fibersession

import (
	"github.com/gofiber/fiber/v2"

	"github.com/cloakroom/cloakroom/core"
)

// Config configures the middleware returned by New.
type Config struct {
	// Manager runs the session lifecycle. Required: New panics with
	// core.ErrNilManager without it (see Manager.Validate).
	Manager *core.Manager
	// Next, when it returns true, lets the request pass through without a
	// session, as Fiber's own middlewares do; Get then returns
	// core.ErrNoSession.
	Next func(c *fiber.Ctx) bool
}

// firstKey is the c.Locals key under which the first middleware keeps the
// request's *core.Request, slotKey{m} that of any other Manager m, so that
// a request served by one Manager stores one value. Being unexported, no
// other package can collide with them.
type (
	firstKey struct{}
	slotKey  struct{ m *core.Manager }
)

// skipped holds the first slot of a request that m's middleware let pass
// without a session: Get then answers core.ErrNoSession rather than with a
// later Manager's session, while another middleware of m (on a group,
// without Next) may still serve the request there.
type skipped struct{ m *core.Manager }

// New returns middleware that gives every request that asks for it a
// session managed by config's Manager. Requests that the Manager marks
// static, those for which Next returns true, and those that already have
// the Manager's session (the middleware installed twice) pass through
// untouched. It panics with the error of Manager.Validate, such as
// core.ErrNilManager when the Config has no Manager.
func New(config ...Config) fiber.Handler {
	var cfg Config
	if len(config) > 0 {
		cfg = config[0]
	}
	m := cfg.Manager
	if err := m.Validate(); err != nil {
		panic(err)
	}
	return func(c *fiber.Ctx) error {
		v := c.Locals(firstKey{})
		if (cfg.Next != nil && cfg.Next(c)) || m.Skip(c.Path()) || slotFrom(c, m, v) != nil {
			if v == nil { // Get must not answer for a later Manager
				c.Locals(firstKey{}, skipped{m})
			}
			return c.Next()
		}
		first, _ := v.(*core.Request)
		r := m.BeginBeside(exchange{c}, first)
		if v == nil || v == any(skipped{m}) {
			c.Locals(firstKey{}, r)
		} else {
			c.Locals(slotKey{m}, r)
		}
		err := c.Next()
		// Fiber has buffered the response: the whole chain has run, the
		// error handler (for err) has not, and nothing is sent yet.
		if cerr := r.Commit(c.UserContext()); cerr != nil {
			replace(c, cerr)
			return nil // the error response stands; the error handler must not overwrite it
		}
		return err
	}
}

// replace drops the handler's response (status, headers, body, body
// stream) for an error (503 when the backend failed, else 500): answering
// success for a change that was lost would mislead the client. The failure
// itself went to the Manager's ErrorHandler.
func replace(c *fiber.Ctx, err error) {
	c.Context().Error("session could not be saved", core.HTTPStatus(err))
}

// Get returns the session of the first middleware the request went
// through, loading it on first use with c.UserContext(). It returns an
// error wrapping core.ErrNoSession when that middleware did not give the
// request a session (not installed, skipped by Next, or a static file),
// and the load's error when the backend fails or holds corrupt data. Do
// not call it from a body stream writer or any goroutine that outlives the
// handler: c is recycled by then; keep the *core.Session instead.
func Get(c *fiber.Ctx) (*core.Session, error) {
	r, _ := c.Locals(firstKey{}).(*core.Request)
	if r == nil {
		return nil, core.ErrNoSession
	}
	return r.Session(c.UserContext())
}

// GetFor is Get for the session that m manages, when several Managers
// serve the request.
func GetFor(c *fiber.Ctx, m *core.Manager) (*core.Session, error) {
	r := slot(c, m)
	if r == nil {
		return nil, core.ErrNoSession
	}
	return r.Session(c.UserContext())
}

// slot returns the request's session handling for m, or nil.
func slot(c *fiber.Ctx, m *core.Manager) *core.Request {
	return slotFrom(c, m, c.Locals(firstKey{}))
}

// slotFrom is slot, first being what the first slot holds.
func slotFrom(c *fiber.Ctx, m *core.Manager, first any) *core.Request {
	if r, _ := first.(*core.Request); r != nil && r.Manager() == m {
		return r
	}
	if first == nil {
		return nil // no middleware has run, so no other slot is taken
	}
	r, _ := c.Locals(slotKey{m}).(*core.Request)
	return r
}
