// Package fibersession plugs cloakroom sessions into Fiber v3
// (github.com/gofiber/fiber/v3). It is the Fiber v2 adapter's package,
// fibersession, for Fiber's next major: moving an application over is a
// change of import path and of *fiber.Ctx to fiber.Ctx.
//
// Quick start, a complete main.go:
//
//	package main
//
//	import (
//		"log"
//		"strconv"
//
//		"github.com/gofiber/fiber/v3"
//
//		fibersession "github.com/cloakroom/cloakroom/adapters/fiber3"
//		"github.com/cloakroom/cloakroom/backends/memory"
//		"github.com/cloakroom/cloakroom/core"
//	)
//
//	func main() {
//		m := core.NewManager(memory.New(memory.Options{}))
//		app := fiber.New()
//		app.Use(fibersession.New(fibersession.Config{Manager: m}))
//		app.Get("/", func(c fiber.Ctx) error {
//			s, err := fibersession.Get(c)
//			if err != nil {
//				return err
//			}
//			n, _ := s.GetInt("visits")
//			s.Set("visits", n+1)
//			return c.SendString("visits: " + strconv.FormatInt(n+1, 10))
//		})
//		log.Fatal(app.Listen("127.0.0.1:3000"))
//	}
//
// Handlers take their session with Get, or with GetFor when several
// Managers serve the request; the session is loaded on first use with the
// request's context.Context (c.Context(), which c.SetContext replaces).
// Fiber buffers the whole response, so each session middleware saves its
// session, and hands the client its token (sets the cookie, by default),
// when the rest of the chain has returned: before Fiber's error handler
// runs and before fasthttp writes anything. Changes made later (in the
// error handler, in a body stream writer) cannot be saved and are
// reported to the Manager's ErrorHandler as core.ErrLateChange. When the
// save fails, the client gets core.HTTPStatus(err) (503 when the backend
// failed) instead of the handler's response.
//
// Several Managers can serve one request, each through its own New
// middleware: Get returns the outermost one's session, GetFor(c, m) the
// session of m's. See the README for transports other than the cookie,
// failure handling and the caveats of fasthttp.
package fibersession
