package ginsession

import (
	"fmt"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/internal/headers"
	"github.com/gin-gonic/gin"
)

// firstKey is the gin.Context key under which the first Middleware keeps
// the request's *core.Request; slotKey{m} is that of any other Manager m,
// so that a request served by one Manager stores one value.
type (
	firstKey struct{}
	slotKey  struct{ m *core.Manager }
)

// errNoSession is Get's answer when the middleware did not run.
var errNoSession = fmt.Errorf("ginsession: middleware not run or static request: %w", core.ErrNoSession)

// Middleware returns gin middleware that gives every request that asks for
// it a session managed by m. Register it with Engine.Use or RouterGroup.Use
// before the handlers that call Get. Requests that m marks static pass
// through untouched, as do requests that already have m's session:
// installing it on the engine and again on a group costs nothing. It panics
// with the error of m.Validate (such as core.ErrNilManager) when m cannot
// work.
func Middleware(m *core.Manager) gin.HandlerFunc {
	if err := m.Validate(); err != nil {
		panic(err)
	}
	return func(c *gin.Context) {
		first, taken := c.Get(firstKey{})
		if m.Skip(c.Request.URL.Path) || slot(c, m) != nil {
			if !taken { // Get must not reach a later Manager's session
				c.Set(firstKey{}, (*core.Request)(nil))
			}
			return
		}
		w := &sessionWriter{ResponseWriter: c.Writer, c: c}
		firstRequest, _ := first.(*core.Request)
		m.BeginAt(&w.session, exchange{w}, firstRequest)
		if taken {
			c.Set(slotKey{m}, &w.session)
		} else {
			c.Set(firstKey{}, &w.session)
		}
		c.Writer = w
		defer w.release()
		c.Next()
		w.commit()
	}
}

// Get returns the session of the first Middleware the request went
// through, loading it on first use. It returns an error wrapping
// core.ErrNoSession when the request did not pass through Middleware or is
// for a static file, and the load's error when the backend fails or holds
// corrupt data. It also works on a c.Copy() handed to a goroutine, but
// changes made there after the response was committed are reported to the
// Manager's ErrorHandler, not saved.
func Get(c *gin.Context) (*core.Session, error) {
	if c == nil || c.Request == nil {
		return nil, errNoSession
	}
	v, _ := c.Get(firstKey{})
	r, _ := v.(*core.Request)
	if r == nil {
		return nil, errNoSession
	}
	return r.Session(c.Request.Context())
}

// GetFor is Get for the session that m manages, when several Managers
// serve the request.
func GetFor(c *gin.Context, m *core.Manager) (*core.Session, error) {
	if c == nil || c.Request == nil {
		return nil, errNoSession
	}
	r := slot(c, m)
	if r == nil {
		return nil, errNoSession
	}
	return r.Session(c.Request.Context())
}

// slot returns the request's session handling for m, or nil.
func slot(c *gin.Context, m *core.Manager) *core.Request {
	v, _ := c.Get(firstKey{})
	if r, _ := v.(*core.Request); r != nil && r.Manager() == m {
		return r
	}
	v, _ = c.Get(slotKey{m})
	r, _ := v.(*core.Request)
	return r
}

// exchange is the core's view of a gin request and its response.
type exchange struct{ w *sessionWriter }

func (e exchange) RemoteAddr() string { return e.w.c.Request.RemoteAddr }

func (e exchange) RequestHeader(name string) string {
	return headers.Get(e.w.c.Request.Header, name, ",")
}

func (e exchange) AddResponseHeader(name, value string) {
	e.w.headers.Add(e.w.ResponseWriter.Header(), name, value)
}

func (e exchange) ResponseHeader(name string) string {
	return headers.Get(e.w.ResponseWriter.Header(), name, ", ")
}

func (e exchange) SetResponseHeader(name, value string) {
	e.w.headers.Set(e.w.ResponseWriter.Header(), name, value)
}
