package fibersession

import (
	"github.com/gofiber/fiber/v3"
	"github.com/valyala/fasthttp"

	"github.com/cloakroom/cloakroom/core"
)

// The slots live among the fasthttp context's user values, which is where
// c.Locals keeps its values: storing there directly spares the allocation
// of c.Locals' variadic argument on every request.

// firstKey is the user value key of the default slot, Get's: it belongs
// to the first (outermost) session middleware a request reaches, which
// keeps its *core.Request there, or, when it lets the request pass
// without a session (Next, a static path), its *core.Manager, so that the
// slot stays its own and Get does not fall through to a deeper Manager.
// With one Manager it is the only value the middleware stores. Being
// unexported, no other package can collide with it.
type firstKey struct{}

// managerKey is the user value key of the *core.Request of any other
// Manager. It holds only a pointer, so it is a comparable key that goes
// into an interface without allocating.
type managerKey struct{ m *core.Manager }

// pass records that m's middleware lets the request through without a
// session: the default slot, if still free, becomes m's, empty.
func pass(ctx *fasthttp.RequestCtx, m *core.Manager) {
	if ctx.UserValue(firstKey{}) == nil {
		ctx.SetUserValue(firstKey{}, m)
	}
}

// claim returns the key under which m's request is to be kept, or false
// when an outer middleware already serves m on this request.
func claim(ctx *fasthttp.RequestCtx, m *core.Manager) (key any, free bool) {
	switch first := ctx.UserValue(firstKey{}).(type) {
	case nil:
		return firstKey{}, true
	case *core.Manager:
		if first == m {
			return firstKey{}, true // m's outer middleware passed; this one serves m
		}
	case *core.Request:
		if first.Manager() == m {
			return nil, false
		}
	}
	if slot(ctx, managerKey{m}) != nil {
		return nil, false
	}
	return managerKey{m}, true
}

// lookup returns m's request, nil when m's middleware did not serve the
// request.
func lookup(ctx *fasthttp.RequestCtx, m *core.Manager) *core.Request {
	switch first := ctx.UserValue(firstKey{}).(type) {
	case nil:
		return nil // no session middleware ran
	case *core.Manager:
		if first == m {
			return nil
		}
	case *core.Request:
		if first.Manager() == m {
			return first
		}
	}
	return slot(ctx, managerKey{m})
}

// slot returns the request kept under key, nil when there is none.
func slot(ctx *fasthttp.RequestCtx, key any) *core.Request {
	r, _ := ctx.UserValue(key).(*core.Request)
	return r
}

// Get returns the session of the outermost session middleware the request
// reached, loading it on first use with c.Context(), so that mounting a
// second Manager deeper never changes what Get returns. It returns an
// error wrapping core.ErrNoSession when that middleware let
// the request pass without a session (Next, a static path) or none is
// mounted, and the load's error when the backend fails or holds corrupt
// data.
//
// Do not call it from a body stream writer or any goroutine that
// outlives the handler: c is recycled by then; keep the *core.Session
// instead.
func Get(c fiber.Ctx) (*core.Session, error) {
	r := slot(c.RequestCtx(), firstKey{})
	if r == nil {
		return nil, core.ErrNoSession
	}
	return r.Session(c.Context())
}

// GetFor returns the session of m's middleware, loading it on first use
// with c.Context(). It returns an error wrapping core.ErrNoSession when
// m's middleware did not run for the request (not mounted, skipped by
// Next, or a static path), and the load's error when the backend fails or
// holds corrupt data. The same caveat as for Get applies.
func GetFor(c fiber.Ctx, m *core.Manager) (*core.Session, error) {
	r := lookup(c.RequestCtx(), m)
	if r == nil {
		return nil, core.ErrNoSession
	}
	return r.Session(c.Context())
}
