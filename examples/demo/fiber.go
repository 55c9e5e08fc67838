package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"

	fibersession "github.com/cloakroom/cloakroom/adapters/fiber"
	"github.com/cloakroom/cloakroom/core"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
)

// fiberServer serves the demo with fiber, bounded by t. fasthttp has no
// separate deadline for the headers: its ReadTimeout runs from the first
// byte of a request to the last of its body, so t.readHeader does not apply
// and a client trickling headers is cut off after t.read instead.
func fiberServer(a *app, m *core.Manager, t timeouts) server {
	app := fiber.New(fiber.Config{
		DisableStartupMessage: true,
		ReadBufferSize:        8192,
		ReadTimeout:           t.read,
		WriteTimeout:          t.write,
		IdleTimeout:           t.idle,
	})
	app.Use(fibersession.New(fibersession.Config{Manager: m}))
	app.Use("/static", filesystem.New(filesystem.Config{Root: http.FS(staticRoot())}))
	if a.metrics != nil {
		app.Get("/metrics", adaptor.HTTPHandler(a.metrics))
	}
	app.All("/*", func(c *fiber.Ctx) error {
		rep := a.serve(c.UserContext(), request{
			method:  c.Method(),
			path:    strings.Clone(c.Path()), // fiber reuses the buffer behind it
			body:    bytes.NewReader(c.Body()),
			session: func() (*core.Session, error) { return fibersession.Get(c) },
		})
		if rep.contentType != "" {
			c.Set(fiber.HeaderContentType, rep.contentType)
		}
		return c.Status(rep.status).Send(rep.body)
	})
	return server{
		serve:    func(ln net.Listener) error { return app.Listener(ln) },
		shutdown: func(ctx context.Context) error { return app.ShutdownWithContext(ctx) },
	}
}
