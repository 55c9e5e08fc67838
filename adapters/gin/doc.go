// Package ginsession plugs cloakroom sessions into gin
// (github.com/gin-gonic/gin). It lives in the directory adapters/gin; its
// name differs from the framework's so that both can be imported without an
// alias.
//
// Quick start: a main.go that counts a visitor's requests.
//
//	package main
//
//	import (
//		"log"
//		"net/http"
//
//		ginsession "github.com/cloakroom/cloakroom/adapters/gin"
//		"github.com/cloakroom/cloakroom/backends/memory"
//		"github.com/cloakroom/cloakroom/core"
//		"github.com/gin-gonic/gin"
//	)
//
//	func main() {
//		store := memory.New(memory.Options{})
//		defer store.Close()
//		m := core.NewManager(store)
//
//		r := gin.Default()
//		r.Use(ginsession.Middleware(m))
//		r.GET("/", func(c *gin.Context) {
//			s, err := ginsession.Get(c)
//			if err != nil {
//				c.String(http.StatusServiceUnavailable, "session: %v", err)
//				return
//			}
//			n, _ := s.GetInt("visits")
//			s.Set("visits", n+1)
//			c.String(http.StatusOK, "visit number %d\n", n+1)
//		})
//		log.Fatal(r.Run("127.0.0.1:8080"))
//	}
//
// Handlers take their session with Get. The session is saved, and its
// cookie set, just before the response's status line is written: at the
// first WriteHeaderNow, Write, WriteString, Flush or Hijack on c.Writer,
// or, when the handler wrote nothing (c.Status(201) alone, or no response
// at all), when the handler chain returns, before gin writes the status.
// Like gin's own writer, c.Status and c.Writer.WriteHeader only record the
// status, so the session can still change after them.
//
// Several Managers can serve one request, say a login session and a
// short-lived one: install a middleware for each. Get returns the session
// of the first (outermost); GetFor names the Manager. The token travels
// in the cookie unless the Manager's Transport says otherwise (a header
// or a bearer token, for API clients).
package ginsession
