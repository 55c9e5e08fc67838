// Package echosession plugs cloakroom sessions into Echo v5
// (github.com/labstack/echo/v5). It has the API of the Echo v4 adapter
// (github.com/cloakroom/cloakroom/adapters/echo), in v5's terms: handlers
// and Skippers take a *echo.Context. Moving an application from one to the
// other changes the import path only.
//
// Quick start, a complete main.go:
//
//	package main
//
//	import (
//		"fmt"
//		"log/slog"
//		"net/http"
//
//		"github.com/labstack/echo/v5"
//
//		echosession "github.com/cloakroom/cloakroom/adapters/echo5"
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
//		e.GET("/", func(c *echo.Context) error {
//			s, err := echosession.Get(c)
//			if err != nil {
//				return err
//			}
//			n, _ := s.GetInt("visits")
//			s.Set("visits", n+1)
//			return c.String(http.StatusOK, fmt.Sprintf("visit %d\n", n+1))
//		})
//		if err := e.Start(":8080"); err != nil {
//			slog.Error("server stopped", "err", err)
//		}
//	}
//
// Handlers take their session with Get; nothing touches the backend until
// one does. The middleware slips a writer under the request's
// *echo.Response (found with echo.UnwrapResponse), which saves the session,
// and sets its cookie, just before the status line goes out, whichever way
// the response is written: c.String, c.JSON, c.Blob, c.NoContent,
// c.Redirect, c.File, c.Stream, a write to c.Response(), the
// HTTPErrorHandler rendering an error the handler returned, a Flush, or a
// Hijack. A handler that returns nil without writing anything has its
// session saved when it returns.
//
// When the save fails and the status line has not gone out, the client
// gets a 503 "session could not be saved" (500 when the data could not be
// encoded) instead of the handler's response, and the handler's further
// writes fail with ErrResponseDropped.
//
// Several Managers can serve one request, say a login session and a
// short-lived one: install a middleware for each. Get returns the session
// of the first (outermost); GetFor names the Manager.
package echosession
