package main

import (
	"bytes"
	"context"
	"net"
	"strings"

	fibersession "github.com/cloakroom/cloakroom/adapters/fiber3"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/internal/demo"
	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/adaptor"
	"github.com/gofiber/fiber/v3/middleware/static"
)

// fiber3Server serves the demo with Fiber v3, bounded by t as fiberServer
// is: fasthttp has no separate deadline for the headers.
func fiber3Server(a *demo.App, t demo.Timeouts) demo.Server {
	app := fiber.New(fiber.Config{
		ReadBufferSize: 8192,
		ReadTimeout:    t.Read,
		WriteTimeout:   t.Write,
		IdleTimeout:    t.Idle,
	})
	app.Use(fibersession.New(fibersession.Config{Manager: a.Manager()}))
	app.Get("/static*", static.New("", static.Config{FS: demo.StaticFS()}))
	if a.Metrics != nil {
		app.Get("/metrics", adaptor.HTTPHandler(a.Metrics))
	}
	app.All("/*", func(c fiber.Ctx) error {
		rep := a.Serve(c.Context(), demo.Request{
			Method:  c.Method(),
			Path:    strings.Clone(c.Path()), // fasthttp reuses the buffer behind it
			Body:    bytes.NewReader(c.Body()),
			Session: func() (*core.Session, error) { return fibersession.Get(c) },
		})
		if rep.ContentType != "" {
			c.Set(fiber.HeaderContentType, rep.ContentType)
		}
		return c.Status(rep.Status).Send(rep.Body)
	})
	return demo.Server{
		Serve: func(ln net.Listener) error {
			return app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true})
		},
		Shutdown: func(ctx context.Context) error { return app.ShutdownWithContext(ctx) },
	}
}
