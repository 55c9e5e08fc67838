// Package nethttp plugs cloakroom sessions into net/http.
//
//	m := core.NewManager(memory.New(memory.Options{}))
//	http.ListenAndServe(addr, nethttp.Middleware(m)(mux))
//
// Handlers take their session with Get. The session is saved, and its
// cookie set, just before the response's status line is written.
//
// Several Managers can serve one request, say a login session and a
// short-lived one: install a Middleware for each. Get returns the session
// of the first (outermost); GetFor names the Manager.
package nethttp

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/internal/headers"
)

// firstKey is the context key of the first Manager's slot; slotKey{m}
// that of any other Manager m, so that a request served by one Manager
// stores one value.
type (
	firstKey struct{}
	slotKey  struct{ m *core.Manager }
)

// Middleware returns middleware that gives every request that asks for it a
// session managed by m. Requests that m marks static pass through untouched,
// as do requests that already have m's session: installing it twice on a
// route costs nothing. It panics with the error of m.Validate, such as
// core.ErrNilManager, when m cannot work.
func Middleware(m *core.Manager) func(http.Handler) http.Handler {
	if err := m.Validate(); err != nil {
		panic(err)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			first := r.Context().Value(firstKey{}) == nil
			if m.Skip(r.URL.Path) || slot(r.Context(), m) != nil {
				if first { // Get must not reach a later Manager's session
					r = r.WithContext(context.WithValue(r.Context(), firstKey{}, (*sessionWriter)(nil)))
				}
				next.ServeHTTP(w, r)
				return
			}
			sw := &sessionWriter{ResponseWriter: w}
			m.BeginAt(&sw.session, exchange{sw}, firstRequest(r.Context()))
			var key any = slotKey{m}
			if first {
				key = firstKey{}
			}
			sw.ctx = slotCtx{Context: r.Context(), key: key, sw: sw}
			r = r.WithContext(&sw.ctx)
			sw.request = r
			next.ServeHTTP(sw, r)
			sw.commit()
		})
	}
}

// Get returns the session of the first Middleware the request went
// through, loading it on first use. It returns an error wrapping
// core.ErrNoSession when the request did not pass through Middleware or
// that Middleware let it pass without a session (a static file), and the
// load's error when the backend fails or holds corrupt data.
func Get(r *http.Request) (*core.Session, error) {
	sw, _ := r.Context().Value(firstKey{}).(*sessionWriter)
	if sw == nil {
		return nil, core.ErrNoSession
	}
	return sw.session.Session(r.Context())
}

// GetFor is Get for the session that m manages, when several Managers
// serve the request.
func GetFor(r *http.Request, m *core.Manager) (*core.Session, error) {
	sw := slot(r.Context(), m)
	if sw == nil {
		return nil, core.ErrNoSession
	}
	return sw.session.Session(r.Context())
}

// firstRequest returns the first Manager's request, nil when there is
// none or it let the request pass without a session.
func firstRequest(ctx context.Context) *core.Request {
	if sw, _ := ctx.Value(firstKey{}).(*sessionWriter); sw != nil {
		return &sw.session
	}
	return nil
}

// slot returns the request's session writer for m, or nil.
func slot(ctx context.Context, m *core.Manager) *sessionWriter {
	if sw, _ := ctx.Value(firstKey{}).(*sessionWriter); sw != nil && sw.session.Manager() == m {
		return sw
	}
	sw, _ := ctx.Value(slotKey{m}).(*sessionWriter)
	return sw
}

// errNotSaved is what writes return after the session failed to save and
// the response was replaced by an error.
var errNotSaved = errors.New("nethttp: response dropped: the session could not be saved")

// sessionWriter commits the session before the first byte of the response.
// It holds all the middleware keeps for a request, so that a request costs
// one allocation of the middleware's own (and the copy WithContext makes).
type sessionWriter struct {
	http.ResponseWriter
	request   *http.Request
	session   core.Request
	ctx       slotCtx
	headers   headers.Values // the session's headers cost no allocation of their own
	committed bool
	failed    bool
}

// slotCtx is the request's context with the session writer under key, as
// context.WithValue would make it, but held in the writer.
type slotCtx struct {
	context.Context
	key any
	sw  *sessionWriter
}

func (c *slotCtx) Value(key any) any {
	if key == c.key {
		return c.sw
	}
	return c.Context.Value(key)
}

// commit saves the session once. When that fails and nothing has been
// written yet, the handler's response is replaced by an error (503 when the
// backend failed): answering success for a change that was lost would
// mislead the client.
func (w *sessionWriter) commit() {
	if w.committed {
		return
	}
	w.committed = true
	if err := w.session.Commit(w.request.Context()); err != nil {
		w.failed = true
		http.Error(w.ResponseWriter, "session could not be saved", core.HTTPStatus(err))
	}
}

func (w *sessionWriter) WriteHeader(code int) {
	w.commit()
	if !w.failed {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *sessionWriter) Write(p []byte) (int, error) {
	w.commit()
	if w.failed {
		return 0, errNotSaved
	}
	return w.ResponseWriter.Write(p)
}

// Flush commits and flushes, for streaming handlers.
func (w *sessionWriter) Flush() {
	w.commit()
	if !w.failed {
		_ = http.NewResponseController(w.ResponseWriter).Flush()
	}
}

// Hijack commits before handing the connection over, so that a websocket
// upgrade keeps the session it was given.
func (w *sessionWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.commit()
	if w.failed {
		return nil, nil, errNotSaved
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *sessionWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// exchange is the core's view of the request and response.
type exchange struct{ w *sessionWriter }

func (e exchange) RemoteAddr() string { return e.w.request.RemoteAddr }

func (e exchange) RequestHeader(name string) string {
	return headers.Get(e.w.request.Header, name, ",")
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
