package main

import (
	"net/http"

	ginsession "github.com/cloakroom/cloakroom/adapters/gin"
	"github.com/cloakroom/cloakroom/core"
	"github.com/gin-gonic/gin"
)

func ginHandler(a *app, m *core.Manager) http.Handler {
	gin.SetMode(gin.ReleaseMode) // quiet: the demo logs with slog
	r := gin.New()
	r.Use(ginsession.Middleware(m))
	r.StaticFS("/static", http.FS(staticRoot()))
	if a.metrics != nil {
		r.GET("/metrics", gin.WrapH(a.metrics))
	}
	r.NoRoute(func(c *gin.Context) {
		writeReply(c.Writer, a.serve(c.Request.Context(), request{
			method:  c.Request.Method,
			path:    c.Request.URL.Path,
			body:    c.Request.Body,
			session: func() (*core.Session, error) { return ginsession.Get(c) },
		}))
	})
	return r
}
