package fibersession_test

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strconv"

	"github.com/gofiber/fiber/v2"

	fibersession "github.com/cloakroom/cloakroom/adapters/fiber"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

// A visit counter, served in process with app.Test: the first response
// sets the session cookie, the second request sends it back.
func Example() {
	store := memory.New(memory.Options{})
	defer store.Close()
	m := core.NewManager(store)

	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Use(fibersession.New(fibersession.Config{Manager: m}))
	app.Get("/", func(c *fiber.Ctx) error {
		s, err := fibersession.Get(c)
		if err != nil {
			return err
		}
		n, _ := s.GetInt("visits")
		s.Set("visits", n+1)
		return c.SendString("visits: " + strconv.FormatInt(n+1, 10))
	})

	cookie := ""
	for range 2 {
		req := httptest.NewRequest("GET", "/", nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		res, err := app.Test(req, -1)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if c := res.Cookies(); len(c) > 0 {
			cookie = c[0].Name + "=" + c[0].Value
		}
		fmt.Println(string(body))
	}
	// Output:
	// visits: 1
	// visits: 2
}
