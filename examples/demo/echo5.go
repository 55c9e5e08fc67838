package main

import (
	"net/http"

	echosession "github.com/cloakroom/cloakroom/adapters/echo5"
	"github.com/cloakroom/cloakroom/core"
	"github.com/labstack/echo/v5"
)

func echo5Handler(a *app, m *core.Manager) http.Handler {
	e := echo.New()
	e.Use(echosession.Middleware(m))
	e.StaticFS("/static", staticRoot())
	if a.metrics != nil {
		e.GET("/metrics", echo.WrapHandler(a.metrics))
	}
	e.Any("/*", func(c *echo.Context) error {
		r := c.Request()
		writeReply(c.Response(), a.serve(r.Context(), request{
			method:  r.Method,
			path:    r.URL.Path,
			body:    r.Body,
			session: func() (*core.Session, error) { return echosession.Get(c) },
		}))
		return nil
	})
	return e
}
