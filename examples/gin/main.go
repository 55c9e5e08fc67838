// Command gin counts each visitor's requests with cloakroom on gin.
package main

import (
	"log"
	"net/http"

	ginsession "github.com/cloakroom/cloakroom/adapters/gin"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
	"github.com/gin-gonic/gin"
)

func main() {
	store := memory.New(memory.Options{})
	defer store.Close()
	m := core.NewManager(store)

	r := gin.Default()
	r.Use(ginsession.Middleware(m))
	r.GET("/", func(c *gin.Context) {
		s, err := ginsession.Get(c)
		if err != nil {
			c.String(http.StatusServiceUnavailable, "session: %v", err)
			return
		}
		n, _ := s.GetInt("visits")
		s.Set("visits", n+1)
		c.String(http.StatusOK, "visit number %d\n", n+1)
	})
	log.Fatal(r.Run("127.0.0.1:8080"))
}
