package fibersession_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"

	fibersession "github.com/cloakroom/cloakroom/adapters/fiber3"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

// A visit counter, served in process with app.Test: the first response
// sets the session cookie, the second request sends it back.
func Example() {
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
		return c.SendString("visits: " + strconv.FormatInt(n+1, 10))
	})

	var cookies []*http.Cookie
	for range 2 {
		body, set := fetch(app, "/", cookies)
		cookies = append(cookies, set...)
		fmt.Println(body)
	}
	// Output:
	// visits: 1
	// visits: 2
}

// Two Managers serve one request: a long-lived login session and a
// short-lived one for notices. Get returns the outer (login) session;
// GetFor names the one it wants.
func ExampleGetFor() {
	store := memory.New(memory.Options{})
	defer store.Close()
	login := core.NewManager(store)
	notices := core.NewManager(store)
	notices.Cookie.Name, notices.KeyPrefix = "notices", "notices:"
	notices.Permanent = false // a browser-session cookie

	app := fiber.New()
	app.Use(fibersession.New(fibersession.Config{Manager: login}))
	app.Use(fibersession.New(fibersession.Config{Manager: notices}))
	app.Get("/", func(c fiber.Ctx) error {
		s, err := fibersession.Get(c) // the login session
		if err != nil {
			return err
		}
		n, err := fibersession.GetFor(c, notices)
		if err != nil {
			return err
		}
		s.Set("user", "ada")
		n.Set("notice", "welcome back")
		return c.SendStatus(fiber.StatusNoContent)
	})

	// The inner middleware commits first, so its cookie comes first.
	_, set := fetch(app, "/", nil)
	for _, c := range set {
		fmt.Printf("%s (expires: %t)\n", c.Name, c.MaxAge > 0)
	}
	// Output:
	// notices (expires: false)
	// session (expires: true)
}

// Next lets requests through without a session, here an API whose clients
// carry no cookies.
func ExampleConfig_next() {
	store := memory.New(memory.Options{})
	defer store.Close()
	m := core.NewManager(store)

	app := fiber.New()
	app.Use(fibersession.New(fibersession.Config{
		Manager: m,
		Next:    func(c fiber.Ctx) bool { return strings.HasPrefix(c.Path(), "/api/") },
	}))
	app.Get("/*", func(c fiber.Ctx) error {
		if _, err := fibersession.Get(c); err != nil {
			return c.SendString(c.Path() + ": " + err.Error())
		}
		return c.SendString(c.Path() + ": a session")
	})

	for _, path := range []string{"/page", "/api/items"} {
		body, _ := fetch(app, path, nil)
		fmt.Println(body)
	}
	// Output:
	// /page: a session
	// /api/items: cloakroom: no session for this request
}

// fetch serves GET path in process with the cookies and returns the body
// and the cookies the response sets.
func fetch(app *fiber.App, path string, cookies []*http.Cookie) (string, []*http.Cookie) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	res, err := app.Test(req, fiber.TestConfig{Timeout: 10 * time.Second, FailOnTimeout: true})
	if err != nil {
		return err.Error(), nil
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return err.Error(), nil
	}
	return string(body), res.Cookies()
}
