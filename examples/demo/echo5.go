package main

import (
	"net/http"

	echosession "github.com/cloakroom/cloakroom/adapters/echo5"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/internal/demo"
	"github.com/labstack/echo/v5"
)

func echo5Handler(a *demo.App) http.Handler {
	e := echo.New()
	e.Use(echosession.Middleware(a.Manager()))
	e.StaticFS("/static", demo.StaticFS())
	if a.Metrics != nil {
		e.GET("/metrics", echo.WrapHandler(a.Metrics))
	}
	e.Any("/*", func(c *echo.Context) error {
		r := c.Request()
		demo.WriteReply(c.Response(), a.Serve(r.Context(), demo.Request{
			Method:  r.Method,
			Path:    r.URL.Path,
			Body:    r.Body,
			Session: func() (*core.Session, error) { return echosession.Get(c) },
		}))
		return nil
	})
	return e
}
