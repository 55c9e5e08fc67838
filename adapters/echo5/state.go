package echosession

import (
	"bufio"
	"context"
	"net"
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/internal/headers"
)

// state is one request's session handling for one Manager. It is the
// core's Exchange over the echo.Context and, slipped in under Echo's
// Response as its ResponseWriter, the writer that commits the session at
// the first WriteHeader, Write, Flush or Hijack, whichever writer above
// the Response (middleware.Gzip, c.JSON's delayed status, the
// HTTPErrorHandler) the response takes. One allocation serves for all.
type state struct {
	c       *echo.Context
	res     *echo.Response
	w       http.ResponseWriter // what the Response wrote to before s
	ctx     context.Context     // the request's context when the middleware ran
	req     core.Request        // held here, which spares an allocation per request
	headers headers.Values      // the session's headers cost no allocation of their own

	wrote     bool // the status line, the handler's or the replacement, went out
	failed    int  // the replacement's status once the commit failed, else 0
	abandoned bool // the handler panicked: save nothing
}

// begin slips a new state under the request's Echo Response.
func begin(c *echo.Context) *state {
	res, err := echo.UnwrapResponse(c.Response())
	if err != nil {
		// A writer that hides Echo's Response: give the chain a
		// Response of its own above it, as echo.WrapMiddleware does.
		res = echo.NewResponse(c.Response(), c.Logger())
		c.SetResponse(res)
	}
	s := &state{c: c, res: res, w: res.ResponseWriter, ctx: c.Request().Context()}
	res.ResponseWriter = s
	return s
}

// commit commits the session once; a failure turns the response into the
// replacement error.
func (s *state) commit() {
	if s.abandoned {
		return
	}
	if err := s.req.Commit(s.commitContext()); err != nil {
		s.failed = core.HTTPStatus(err)
	}
}

// commitContext is the request's context, unless a middleware inside this
// one cancelled the context it put on the request before the response
// went out: middleware.ContextTimeout does that when it returns, before
// the HTTPErrorHandler writes. Then it is the context this middleware saw.
func (s *state) commitContext() context.Context {
	if ctx := s.c.Request().Context(); ctx.Err() == nil {
		return ctx
	}
	return s.ctx
}

// Header implements http.ResponseWriter.
func (s *state) Header() http.Header { return s.w.Header() }

// WriteHeader commits the session, then sends the status line: the
// handler's, or the replacement's when the commit failed. Echo's Response
// calls it after its Before hooks, so their headers are in place.
func (s *state) WriteHeader(code int) {
	if s.wrote {
		return
	}
	s.wrote = true
	if s.failed == 0 {
		s.commit()
	}
	if s.failed != 0 {
		s.replace()
		return
	}
	s.w.WriteHeader(code)
}

// Write implements http.ResponseWriter; writes after a failed commit are
// dropped.
func (s *state) Write(p []byte) (int, error) {
	if !s.wrote {
		s.WriteHeader(http.StatusOK)
	}
	if s.failed != 0 {
		return 0, ErrResponseDropped
	}
	return s.w.Write(p)
}

// FlushError commits before a streaming handler's first flush sends the
// status line, which Echo's Response.Flush does without WriteHeader. It
// returns the error of the writer underneath, http.ErrNotSupported when
// that cannot flush, as http.ResponseController expects.
func (s *state) FlushError() error {
	if !s.wrote {
		s.sendStatus(s.res.Status)
	}
	return http.NewResponseController(s.w).Flush()
}

// Flush implements http.Flusher for code that asserts it.
func (s *state) Flush() { _ = s.FlushError() }

// Hijack commits before handing the connection over, so that a websocket
// upgrade keeps the session changes made before it. No header can reach
// the client past this point: a new session's cookie is lost.
func (s *state) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if !s.wrote && s.failed == 0 {
		s.commit()
		if s.failed != 0 {
			s.sendStatus(s.failed)
		}
	}
	if s.failed != 0 {
		return nil, nil, ErrResponseDropped
	}
	return http.NewResponseController(s.w).Hijack()
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (s *state) Unwrap() http.ResponseWriter { return s.w }

// sendStatus sends the status line now, through Echo's Response when it
// has not sent one, so that its Status, Committed and Before hooks stay
// right.
func (s *state) sendStatus(code int) {
	if code == 0 {
		code = http.StatusOK
	}
	if s.res.Committed {
		s.WriteHeader(code)
		return
	}
	s.res.WriteHeader(code)
}

// RemoteAddr implements core.Exchange with the connection's peer; the core
// decides itself which forwarding headers to believe.
func (s *state) RemoteAddr() string { return s.c.Request().RemoteAddr }

// RequestHeader implements core.Exchange, joining repeated header lines.
func (s *state) RequestHeader(name string) string {
	return headers.Get(s.c.Request().Header, name, ",")
}

// AddResponseHeader implements core.Exchange.
func (s *state) AddResponseHeader(name, value string) {
	s.headers.Add(s.w.Header(), name, value)
}

// ResponseHeader implements core.Exchange.
func (s *state) ResponseHeader(name string) string {
	return headers.Get(s.w.Header(), name, ", ")
}

// SetResponseHeader implements core.Exchange.
func (s *state) SetResponseHeader(name, value string) {
	s.headers.Set(s.w.Header(), name, value)
}
