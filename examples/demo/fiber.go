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
	"github.com/gofiber/fiber/v2/middleware/filesystem"
)

func fiberServer(a *app, m *core.Manager) server {
	app := fiber.New(fiber.Config{DisableStartupMessage: true, ReadBufferSize: 8192})
	app.Use(fibersession.New(fibersession.Config{Manager: m}))
	app.Use("/static", filesystem.New(filesystem.Config{Root: http.FS(staticRoot())}))
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
