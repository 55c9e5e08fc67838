package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"

	fibersession "github.com/cloakroom/cloakroom/adapters/fiber"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/internal/demo"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
)

// fiberServer serves the demo with fiber, bounded by t. fasthttp has no
// separate deadline for the headers: its ReadTimeout runs from the first
// byte of a request to the last of its body, so t.ReadHeader does not apply
// and a client trickling headers is cut off after t.Read instead.
func fiberServer(a *demo.App, t demo.Timeouts) demo.Server {
	app := fiber.New(fiber.Config{
		DisableStartupMessage: true,
		ReadBufferSize:        8192,
		ReadTimeout:           t.Read,
		WriteTimeout:          t.Write,
		IdleTimeout:           t.Idle,
	})
	app.Use(fibersession.New(fibersession.Config{Manager: a.Manager()}))
	app.Use("/static", filesystem.New(filesystem.Config{Root: http.FS(demo.StaticFS())}))
	if a.Metrics != nil {
		app.Get("/metrics", adaptor.HTTPHandler(a.Metrics))
	}
	app.All("/*", func(c *fiber.Ctx) error {
		rep := a.Serve(c.UserContext(), demo.Request{
			Method:  c.Method(),
			Path:    strings.Clone(c.Path()), // fiber reuses the buffer behind it
			Body:    bytes.NewReader(c.Body()),
			Session: func() (*core.Session, error) { return fibersession.Get(c) },
		})
		if rep.ContentType != "" {
			c.Set(fiber.HeaderContentType, rep.ContentType)
		}
		return c.Status(rep.Status).Send(rep.Body)
	})
	return demo.Server{
		Serve:    func(ln net.Listener) error { return app.Listener(ln) },
		Shutdown: func(ctx context.Context) error { return app.ShutdownWithContext(ctx) },
	}
}
