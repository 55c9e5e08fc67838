// Command outside is a program outside the cloakroom repository that uses
// its modules as published: scripts/release-check.sh copies it into an
// empty directory, fetches a release packed by tools/release into it, and
// builds and tests it there.
package main

import (
	"fmt"
	"net/http"

	echosession "github.com/cloakroom/cloakroom/adapters/echo5"
	ginsession "github.com/cloakroom/cloakroom/adapters/gin"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/backends/redis"
	"github.com/cloakroom/cloakroom/core"
	"github.com/gin-gonic/gin"
	"github.com/labstack/echo/v5"
	goredis "github.com/redis/go-redis/v9"
)

// newRouter serves GET /set?v=..., which keeps v in the session, and
// GET /get, which answers the value kept.
func newRouter(m *core.Manager) *gin.Engine {
	r := gin.New()
	r.Use(ginsession.Middleware(m))
	r.GET("/set", func(c *gin.Context) {
		s, err := ginsession.Get(c)
		if err != nil {
			c.String(http.StatusServiceUnavailable, "session: %v", err)
			return
		}
		s.Set("value", c.Query("v"))
		c.String(http.StatusOK, "set")
	})
	r.GET("/get", func(c *gin.Context) {
		s, err := ginsession.Get(c)
		if err != nil {
			c.String(http.StatusServiceUnavailable, "session: %v", err)
			return
		}
		v, _ := s.GetString("value")
		c.String(http.StatusOK, "%s", v)
	})
	return r
}

// newEcho serves GET /visits, which counts the requests of one session,
// through Echo v5 with the token in a header rather than a cookie.
func newEcho(m *core.Manager) *echo.Echo {
	m.Transport = core.HeaderTransport("")
	e := echo.New()
	e.Use(echosession.Middleware(m))
	e.GET("/visits", func(c *echo.Context) error {
		s, err := echosession.Get(c)
		if err != nil {
			return err
		}
		n, err := s.Incr("visits", 1)
		if err != nil {
			return err
		}
		return c.String(http.StatusOK, fmt.Sprint(n))
	})
	return e
}

func main() {
	// The redis backend needs no server to be built: New does no I/O.
	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"})
	defer client.Close()
	withRedis := core.NewManager(redis.New(client, redis.Options{}))

	store := memory.New(memory.Options{})
	defer store.Close()
	r := newRouter(core.NewManager(store))
	e := newEcho(core.NewManager(store))

	fmt.Printf("%d gin and %d echo routes; a redis manager with cookie %q\n", len(r.Routes()), len(e.Router().Routes()), withRedis.Cookie.Name)
}
