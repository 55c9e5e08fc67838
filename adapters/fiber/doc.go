// Package fibersession plugs cloakroom sessions into Fiber v2
// (github.com/gofiber/fiber/v2).
//
// Quick start, a complete main.go:
//
//	package main
//
//	import (
//		"log"
//		"strconv"
//
//		"github.com/gofiber/fiber/v2"
//
//		fibersession "github.com/cloakroom/cloakroom/adapters/fiber"
//		"github.com/cloakroom/cloakroom/backends/memory"
//		"github.com/cloakroom/cloakroom/core"
//	)
//
//	func main() {
//		m := core.NewManager(memory.New(memory.Options{}))
//		app := fiber.New()
//		app.Use(fibersession.New(fibersession.Config{Manager: m}))
//		app.Get("/", func(c *fiber.Ctx) error {
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
// Handlers take their session with Get; the session is loaded on first use
// with the request's user context (c.UserContext()). Fiber buffers the
// whole response, so the middleware saves the session, and sets its
// cookie, when the rest of the chain has returned, before Fiber's error
// handler runs and before fasthttp writes anything. Changes made later (in
// the error handler, in a body stream writer, after a websocket upgrade)
// cannot be saved and are reported to the Manager's ErrorHandler as
// core.ErrLateChange.
//
// Several Managers can serve one request, say a login session and a
// short-lived one: install a middleware for each. Get returns the session
// of the first (outermost); GetFor names the Manager. The token travels
// in the cookie unless the Manager's Transport says otherwise (a header
// or a bearer token, for API clients).
package fibersession
