package echosession

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/internal/headers"
)

// state is one request's session handling. It is also the core's
// core.Exchange over the echo.Context, so a request costs one allocation
// for both.
type state struct {
	c         echo.Context
	req       core.Request    // held here, which spares an allocation per request
	headers   headers.Values  // the session's headers cost no allocation of their own
	ctx       context.Context // the request's context when the middleware ran
	abandoned bool            // the handler panicked: save nothing
}

// beforeWrite is the Response.Before hook: Echo runs it inside
// Response.WriteHeader, after the status is chosen and before the status
// line is written, which is the last moment the cookie can be set. A failed
// save turns the response into an error (503 when the backend failed).
func (s *state) beforeWrite() {
	if s.abandoned {
		return
	}
	if err := s.req.Commit(s.commitContext()); err != nil {
		res := s.c.Response()
		res.Status = core.HTTPStatus(err)
		res.Writer = &dropWriter{w: res.Writer, res: res, status: res.Status}
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

// RemoteAddr implements core.Exchange with the connection's peer; the core
// decides itself which forwarding headers to believe.
func (s *state) RemoteAddr() string { return s.c.Request().RemoteAddr }

// RequestHeader implements core.Exchange.
func (s *state) RequestHeader(name string) string {
	return headers.Get(s.c.Request().Header, name, ",")
}

// AddResponseHeader implements core.Exchange.
func (s *state) AddResponseHeader(name, value string) {
	s.headers.Add(s.c.Response().Header(), name, value)
}

// ResponseHeader implements core.Exchange.
func (s *state) ResponseHeader(name string) string {
	return headers.Get(s.c.Response().Header(), name, ", ")
}

// SetResponseHeader implements core.Exchange.
func (s *state) SetResponseHeader(name, value string) {
	s.headers.Set(s.c.Response().Header(), name, value)
}
