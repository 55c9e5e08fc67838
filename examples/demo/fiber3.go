package main

import (
	"bytes"
	"context"
	"net"
	"strings"

	fibersession "github.com/cloakroom/cloakroom/adapters/fiber3"
	"github.com/cloakroom/cloakroom/core"
	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/adaptor"
	"github.com/gofiber/fiber/v3/middleware/static"
)

// fiber3Server serves the demo with Fiber v3, bounded by t as fiberServer
// is: fasthttp has no separate deadline for the headers.
func fiber3Server(a *app, m *core.Manager, t timeouts) server {
	app := fiber.New(fiber.Config{
		ReadBufferSize: 8192,
		ReadTimeout:    t.read,
		WriteTimeout:   t.write,
		IdleTimeout:    t.idle,
	})
	app.Use(fibersession.New(fibersession.Config{Manager: m}))
	app.Get("/static*", static.New("", static.Config{FS: staticRoot()}))
	if a.metrics != nil {
		app.Get("/metrics", adaptor.HTTPHandler(a.metrics))
	}
	app.All("/*", func(c fiber.Ctx) error {
		rep := a.serve(c.Context(), request{
			method:  c.Method(),
			path:    strings.Clone(c.Path()), // fasthttp reuses the buffer behind it
			body:    bytes.NewReader(c.Body()),
			session: func() (*core.Session, error) { return fibersession.Get(c) },
		})
		if rep.contentType != "" {
			c.Set(fiber.HeaderContentType, rep.contentType)
		}
		return c.Status(rep.status).Send(rep.body)
	})
	return server{
		serve: func(ln net.Listener) error {
			return app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true})
		},
		shutdown: func(ctx context.Context) error { return app.ShutdownWithContext(ctx) },
	}
}
