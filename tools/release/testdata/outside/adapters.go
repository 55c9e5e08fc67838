package main

import (
	"fmt"
	"net/http"
	"strconv"

	echosession "github.com/cloakroom/cloakroom/adapters/echo"
	echo5session "github.com/cloakroom/cloakroom/adapters/echo5"
	fibersession "github.com/cloakroom/cloakroom/adapters/fiber"
	fiber3session "github.com/cloakroom/cloakroom/adapters/fiber3"
	ginsession "github.com/cloakroom/cloakroom/adapters/gin"
	"github.com/cloakroom/cloakroom/adapters/nethttp"
	"github.com/cloakroom/cloakroom/core"
	"github.com/gin-gonic/gin"
	"github.com/gofiber/fiber/v2"
	fiber3 "github.com/gofiber/fiber/v3"
	"github.com/labstack/echo/v4"
	echo5 "github.com/labstack/echo/v5"
)

// Each constructor below serves GET /visits, which counts the requests of
// one session and answers the count, through one adapter and the Manager
// it is given. A session that cannot be had answers its error with the
// status core.HTTPStatus gives it.

// visit counts a request in s and returns the count.
func visit(s *core.Session, err error) (string, error) {
	if err != nil {
		return "", fmt.Errorf("no session: %w", err)
	}
	n, err := s.Incr("visits", 1)
	if err != nil {
		return "", fmt.Errorf("counting the visit: %w", err)
	}
	return strconv.FormatInt(n, 10), nil
}

// newNetHTTP serves through net/http (adapters/nethttp, in the root
// module).
func newNetHTTP(m *core.Manager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /visits", func(w http.ResponseWriter, r *http.Request) {
		n, err := visit(nethttp.Get(r))
		if err != nil {
			http.Error(w, err.Error(), core.HTTPStatus(err))
			return
		}
		fmt.Fprint(w, n)
	})
	return nethttp.Middleware(m)(mux)
}

// newGin serves through Gin.
func newGin(m *core.Manager) *gin.Engine {
	gin.SetMode(gin.ReleaseMode) // no debug lines on standard output
	r := gin.New()
	r.Use(ginsession.Middleware(m))
	r.GET("/visits", func(c *gin.Context) {
		n, err := visit(ginsession.Get(c))
		if err != nil {
			c.String(core.HTTPStatus(err), "%v", err)
			return
		}
		c.String(http.StatusOK, "%s", n)
	})
	return r
}

// newEcho serves through Echo v4.
func newEcho(m *core.Manager) *echo.Echo {
	e := echo.New()
	e.Use(echosession.Middleware(m))
	e.GET("/visits", func(c echo.Context) error {
		n, err := visit(echosession.Get(c))
		if err != nil {
			return c.String(core.HTTPStatus(err), err.Error())
		}
		return c.String(http.StatusOK, n)
	})
	return e
}

// newEcho5 serves through Echo v5.
func newEcho5(m *core.Manager) *echo5.Echo {
	e := echo5.New()
	e.Use(echo5session.Middleware(m))
	e.GET("/visits", func(c *echo5.Context) error {
		n, err := visit(echo5session.Get(c))
		if err != nil {
			return c.String(core.HTTPStatus(err), err.Error())
		}
		return c.String(http.StatusOK, n)
	})
	return e
}

// newFiber serves through Fiber v2.
func newFiber(m *core.Manager) *fiber.App {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Use(fibersession.New(fibersession.Config{Manager: m}))
	app.Get("/visits", func(c *fiber.Ctx) error {
		n, err := visit(fibersession.Get(c))
		if err != nil {
			return c.Status(core.HTTPStatus(err)).SendString(err.Error())
		}
		return c.SendString(n)
	})
	return app
}

// newFiber3 serves through Fiber v3.
func newFiber3(m *core.Manager) *fiber3.App {
	app := fiber3.New()
	app.Use(fiber3session.New(fiber3session.Config{Manager: m}))
	app.Get("/visits", func(c fiber3.Ctx) error {
		n, err := visit(fiber3session.Get(c))
		if err != nil {
			return c.Status(core.HTTPStatus(err)).SendString(err.Error())
		}
		return c.SendString(n)
	})
	return app
}
