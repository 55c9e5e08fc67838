// Command fiber3 counts each visitor's requests with cloakroom on Fiber v3.
package main

import (
	"log"
	"strconv"

	fibersession "github.com/cloakroom/cloakroom/adapters/fiber3"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
	"github.com/gofiber/fiber/v3"
)

func main() {
	store := memory.New(memory.Options{})
	defer store.Close()
	m := core.NewManager(store)

	app := fiber.New()
	app.Use(fibersession.New(fibersession.Config{Manager: m}))
	app.Get("/", func(c fiber.Ctx) error {
		s, err := fibersession.Get(c)
		if err != nil {
			return err
		}
		n, _ := s.GetInt("visits")
		s.Set("visits", n+1)
		return c.SendString("visit number " + strconv.FormatInt(n+1, 10) + "\n")
	})
	log.Fatal(app.Listen("127.0.0.1:8080"))
}
