package fibersession

import (
	"github.com/gofiber/fiber/v3"

	"github.com/cloakroom/cloakroom/core"
)

// Config configures the middleware returned by New.
type Config struct {
	// Manager runs the session lifecycle. Required: New panics with
	// core.ErrNilManager without it (see Manager.Validate).
	Manager *core.Manager
	// Next, when it returns true, lets the request pass through without a
	// session from Manager, as in Fiber's own middlewares: GetFor then
	// returns core.ErrNoSession for Manager, and so does Get when this is
	// the outermost session middleware.
	Next func(c fiber.Ctx) bool
}

// New returns middleware that gives every request that asks for it a
// session managed by config's Manager. Requests that the Manager marks
// static, and those for which Next returns true, pass through untouched.
// It panics with the error of Manager.Validate, such as
// core.ErrNilManager when the Config has no Manager.
//
// Several New middlewares may serve one request, each with its own
// Manager: Get returns the session of the outermost one (none when it
// lets the request pass), GetFor the session of a given Manager. A
// Manager mounted twice on one route (app-wide and again on a group)
// keeps one session: the inner middleware passes the request on.
func New(config ...Config) fiber.Handler {
	var cfg Config
	if len(config) > 0 {
		cfg = config[0]
	}
	m, next := cfg.Manager, cfg.Next
	if err := m.Validate(); err != nil {
		panic(err)
	}
	return func(c fiber.Ctx) error {
		ctx := c.RequestCtx()
		if (next != nil && next(c)) || m.Skip(c.Path()) {
			pass(ctx, m)
			return c.Next()
		}
		key, free := claim(ctx, m)
		if !free {
			return c.Next() // an outer middleware serves m already
		}
		first, _ := ctx.UserValue(firstKey{}).(*core.Request)
		r := m.BeginBeside(exchange{ctx}, first)
		ctx.SetUserValue(key, r)
		return run(c, r)
	}
}

// run calls the rest of the chain and commits r when it returns. Fiber
// buffers the response: nothing has been sent then, and Fiber's error
// handler has not run yet for the chain's error.
//
// A panic unwinds through here without a commit, on its way to a recover
// middleware: nothing of a handler that did not finish is saved, as a
// transaction rolls back.
func run(c fiber.Ctx, r *core.Request) error {
	err := c.Next()
	if !commit(c, r) {
		return nil // the error response stands; Fiber's error handler must not overwrite it
	}
	return err
}

// commit saves r's session and reports whether the response may go out as
// the handler made it. When the save fails, the response is replaced.
func commit(c fiber.Ctx, r *core.Request) bool {
	err := r.Commit(c.Context())
	if err == nil {
		return true
	}
	replace(c.Response(), err)
	return false
}
