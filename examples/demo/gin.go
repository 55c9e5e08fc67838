package main

import (
	"net/http"

	ginsession "github.com/cloakroom/cloakroom/adapters/gin"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/internal/demo"
	"github.com/gin-gonic/gin"
)

func ginHandler(a *demo.App) http.Handler {
	gin.SetMode(gin.ReleaseMode) // quiet: the demo logs with slog
	r := gin.New()
	r.Use(ginsession.Middleware(a.Manager()))
	r.StaticFS("/static", http.FS(demo.StaticFS()))
	if a.Metrics != nil {
		r.GET("/metrics", gin.WrapH(a.Metrics))
	}
	r.NoRoute(func(c *gin.Context) {
		demo.WriteReply(c.Writer, a.Serve(c.Request.Context(), demo.Request{
			Method:  c.Request.Method,
			Path:    c.Request.URL.Path,
			Body:    c.Request.Body,
			Session: func() (*core.Session, error) { return ginsession.Get(c) },
		}))
	})
	return r
}
