package fibersession_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	fibersession "github.com/cloakroom/cloakroom/adapters/fiber"
	"github.com/cloakroom/cloakroom/core"
)

// newApp returns a Fiber app with the session middleware for m.
func newApp(m *core.Manager, cfg fiber.Config) *fiber.App {
	cfg.DisableStartupMessage = true
	app := fiber.New(cfg)
	app.Use(fibersession.New(fibersession.Config{Manager: m}))
	return app
}

// result is a response read in full.
type result struct {
	status int
	body   string
	header http.Header
}

func (r result) cookie(name string) *http.Cookie {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// call serves one request in process with app.Test.
func call(t *testing.T, app *fiber.App, path string, cookies ...*http.Cookie) result {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	res, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return result{status: res.StatusCode, body: string(body), header: res.Header}
}

// setA is a handler that stores a=1 in the session.
func setA(c *fiber.Ctx) error {
	s, err := fibersession.Get(c)
	if err != nil {
		return err
	}
	s.Set("a", "1")
	return nil
}

// readA is a route that answers the session's value of a.
func readA(c *fiber.Ctx) error {
	s, err := fibersession.Get(c)
	if err != nil {
		return err
	}
	v, _ := s.GetString("a")
	return c.SendString(v)
}

// wantSaved checks that r set a session cookie under which a=1 is stored.
func wantSaved(t *testing.T, app *fiber.App, m *core.Manager, r result) {
	t.Helper()
	c := r.cookie(m.Cookie.Name)
	if c == nil {
		t.Fatalf("status %d: no session cookie in %q", r.status, r.header.Values("Set-Cookie"))
	}
	if got := call(t, app, "/read", c); got.body != "1" {
		t.Errorf("a = %q under the new cookie, want 1", got.body)
	}
}

func TestErrorHandlerKeepsSessionCookie(t *testing.T) {
	custom := func(c *fiber.Ctx, err error) error {
		c.Response().Header.Set("X-Error", "yes")
		return c.Status(fiber.StatusTeapot).JSON(fiber.Map{"error": err.Error()})
	}
	for name, handler := range map[string]fiber.ErrorHandler{"default": nil, "custom": custom} {
		t.Run(name, func(t *testing.T) {
			m, _, _ := newManager(t)
			app := newApp(m, fiber.Config{ErrorHandler: handler})
			app.Get("/read", readA)
			app.Get("/fail", func(c *fiber.Ctx) error {
				if err := setA(c); err != nil {
					return err
				}
				return fiber.ErrTeapot
			})
			r := call(t, app, "/fail")
			if r.status != fiber.StatusTeapot {
				t.Errorf("status = %d, want the error handler's 418", r.status)
			}
			wantSaved(t, app, m, r)
		})
	}
}

func TestChangeInErrorHandlerIsLate(t *testing.T) {
	m, _, rep := newManager(t)
	app := newApp(m, fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		if s, gerr := fibersession.Get(c); gerr == nil {
			s.Set("b", "2")
		}
		return fiber.DefaultErrorHandler(c, err)
	}})
	app.Get("/fail", func(c *fiber.Ctx) error {
		if err := setA(c); err != nil {
			return err
		}
		return errors.New("boom")
	})
	r := call(t, app, "/fail")
	if r.status != 500 || r.cookie(m.Cookie.Name) == nil {
		t.Errorf("status %d, Set-Cookie %q: want 500 and the session cookie", r.status, r.header.Values("Set-Cookie"))
	}
	if !rep.has(core.ErrLateChange) {
		t.Error("a change in the error handler was not reported as core.ErrLateChange")
	}
}

func TestHandlerCookiesAndVaryAreKept(t *testing.T) {
	for _, order := range []string{"vary-first", "session-first"} {
		t.Run(order, func(t *testing.T) {
			m, _, _ := newManager(t)
			app := newApp(m, fiber.Config{})
			app.Get("/read", readA)
			app.Get("/both", func(c *fiber.Ctx) error {
				if order == "vary-first" {
					c.Vary("Accept-Encoding")
				}
				c.Cookie(&fiber.Cookie{Name: "theme", Value: "dark"})
				if err := setA(c); err != nil {
					return err
				}
				c.Vary("Accept-Encoding")
				return c.SendString("ok")
			})
			r := call(t, app, "/both")
			if r.cookie("theme") == nil {
				t.Errorf("the handler's cookie is lost: Set-Cookie %q", r.header.Values("Set-Cookie"))
			}
			wantSaved(t, app, m, r)
			vary := strings.Join(r.header.Values("Vary"), ",")
			if !strings.Contains(vary, "Cookie") || !strings.Contains(vary, "Accept-Encoding") {
				t.Errorf("Vary = %q, want Cookie and Accept-Encoding", r.header.Values("Vary"))
			}
		})
	}
}

func TestResponsesWithoutBody(t *testing.T) {
	routes := map[string]struct {
		status  int
		handler fiber.Handler
	}{
		"/redirect": {fiber.StatusFound, func(c *fiber.Ctx) error { return c.Redirect("/elsewhere") }},
		"/status":   {fiber.StatusNoContent, func(c *fiber.Ctx) error { return c.SendStatus(fiber.StatusNoContent) }},
		"/nothing":  {fiber.StatusOK, func(*fiber.Ctx) error { return nil }},
	}
	m, _, _ := newManager(t)
	app := newApp(m, fiber.Config{})
	app.Get("/read", readA)
	for path, rt := range routes {
		app.Get(path, func(c *fiber.Ctx) error {
			if err := setA(c); err != nil {
				return err
			}
			return rt.handler(c)
		})
	}
	for path, rt := range routes {
		r := call(t, app, path)
		if r.status != rt.status {
			t.Errorf("%s: status %d, want %d", path, r.status, rt.status)
		}
		wantSaved(t, app, m, r)
	}
}

func TestNextSkipsTheMiddleware(t *testing.T) {
	m, store, _ := newManager(t)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Use(fibersession.New(fibersession.Config{
		Manager: m,
		Next:    func(c *fiber.Ctx) bool { return c.Path() == "/skip" },
	}))
	app.Get("/skip", func(c *fiber.Ctx) error {
		_, err := fibersession.Get(c)
		if !errors.Is(err, core.ErrNoSession) {
			t.Errorf("Get on a skipped request = %v, want core.ErrNoSession", err)
		}
		return c.SendString("skipped")
	})
	r := call(t, app, "/skip")
	if r.body != "skipped" || len(r.header.Values("Set-Cookie")) > 0 || store.Len() != 0 {
		t.Errorf("skipped request: body %q, Set-Cookie %q, %d stored", r.body, r.header.Values("Set-Cookie"), store.Len())
	}
}

func TestGetWithoutMiddleware(t *testing.T) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/", func(c *fiber.Ctx) error {
		_, err := fibersession.Get(c)
		return c.SendString(strconv.FormatBool(errors.Is(err, core.ErrNoSession)))
	})
	if r := call(t, app, "/"); r.body != "true" {
		t.Error("Get without the middleware did not return core.ErrNoSession")
	}
}

func TestWithoutManager(t *testing.T) {
	defer func() {
		if err, _ := recover().(error); !errors.Is(err, core.ErrNilManager) {
			t.Errorf("New without a Manager panicked with %v, want core.ErrNilManager", err)
		}
	}()
	fibersession.New()
	t.Error("New without a Manager did not panic")
}

// TestSetCookieLinesAreSeparate checks that fasthttp's Header.Add sends the
// session cookie as a line of its own beside the handler's cookies.
func TestSetCookieLinesAreSeparate(t *testing.T) {
	m, _, _ := newManager(t)
	app := newApp(m, fiber.Config{})
	app.Get("/", func(c *fiber.Ctx) error {
		c.Cookie(&fiber.Cookie{Name: "x", Value: "1"})
		c.Cookie(&fiber.Cookie{Name: "y", Value: "2"})
		return setA(c)
	})
	r := call(t, app, "/")
	var names []string
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		names = append(names, c.Name)
	}
	for _, want := range []string{"x", "y", m.Cookie.Name} {
		if !slices.Contains(names, want) {
			t.Errorf("cookies %q lack %q", names, want)
		}
	}
}
