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

// localsKey is the c.Locals key under which the request's *core.Request is
// kept; being unexported, no other package can collide with it.
type localsKey struct{}

// New returns middleware that gives every request that asks for it a
// session managed by config's Manager. Requests that the Manager marks
// static, and those for which Next returns true, pass through untouched.
// It panics with the error of Manager.Validate, such as
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
		if (cfg.Next != nil && cfg.Next(c)) || m.Skip(c.Path()) {
			return c.Next()
		}
		r := m.Begin(exchange{c})
		c.Locals(localsKey{}, r)
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

// Get returns the request's session, loading it on first use with
// c.UserContext(). It returns an error wrapping core.ErrNoSession when the
// request did not pass through New's middleware, was skipped by Next or is
// for a static file, and the load's error when the backend fails or holds
// corrupt data. Do not call it from a body stream writer or any goroutine
// that outlives the handler: c is recycled by then; keep the *core.Session
// instead.
func Get(c *fiber.Ctx) (*core.Session, error) {
	r, ok := c.Locals(localsKey{}).(*core.Request)
	if !ok {
		return nil, core.ErrNoSession
	}
	return r.Session(c.UserContext())
}
