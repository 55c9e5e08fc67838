// Command echo5 counts each visitor's requests with cloakroom on Echo v5.
package main

import (
	"fmt"
	"log"
	"net/http"

	echosession "github.com/cloakroom/cloakroom/adapters/echo5"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
	"github.com/labstack/echo/v5"
)

func main() {
	store := memory.New(memory.Options{})
	defer store.Close()
	m := core.NewManager(store)

	e := echo.New()
	e.Use(echosession.Middleware(m))
	e.GET("/", func(c *echo.Context) error {
		s, err := echosession.Get(c)
		if err != nil {
			return err
		}
		n, _ := s.GetInt("visits")
		s.Set("visits", n+1)
		return c.String(http.StatusOK, fmt.Sprintf("visit number %d\n", n+1))
	})
	log.Fatal(e.Start("127.0.0.1:8080"))
}
