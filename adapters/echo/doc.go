// Package echosession plugs cloakroom sessions into Echo
// (github.com/labstack/echo/v4).
//
// Quick start, a complete main.go:
//
//	package main
//
//	import (
//		"fmt"
//		"net/http"
//
//		"github.com/labstack/echo/v4"
//
//		echosession "github.com/cloakroom/cloakroom/adapters/echo"
//		"github.com/cloakroom/cloakroom/backends/memory"
//		"github.com/cloakroom/cloakroom/core"
//	)
//
//	func main() {
//		store := memory.New(memory.Options{})
//		defer store.Close()
//		m := core.NewManager(store)
//
//		e := echo.New()
//		e.Use(echosession.Middleware(m))
//		e.GET("/", func(c echo.Context) error {
//			s, err := echosession.Get(c)
//			if err != nil {
//				return err
//			}
//			n, _ := s.GetInt("visits")
//			s.Set("visits", n+1)
//			return c.String(http.StatusOK, fmt.Sprintf("visit %d\n", n+1))
//		})
//		e.Logger.Fatal(e.Start(":8080"))
//	}
//
// Handlers take their session with Get; nothing touches the backend until
// one does. The session is saved, and its cookie set, from a
// Response.Before hook: just before Echo writes the status line, whichever
// way the response is written (c.String, c.JSON, c.NoContent, c.Redirect,
// c.Response().WriteHeader or Write, or the HTTPErrorHandler rendering an
// error the handler returned). A handler that returns nil without writing
// anything has its session saved when it returns.
//
// When the save fails and the status line has not gone out, the client
// gets a 503 "session could not be saved" (500 when the data could not
// be encoded) instead of the handler's
// response, and the handler's further writes fail with ErrResponseDropped.
//
// Several Managers can serve one request, say a login session and a
// short-lived one: install a middleware for each. Get returns the session
// of the first (outermost); GetFor names the Manager. The token travels
// in the cookie unless the Manager's Transport says otherwise (a header
// or a bearer token, for API clients).
package echosession
