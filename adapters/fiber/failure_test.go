package fibersession_test

import (
	"bufio"
	"errors"
	"testing"

	"github.com/gofiber/fiber/v2"

	fibersession "github.com/cloakroom/cloakroom/adapters/fiber"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

var errDown = errors.New("test: backend down")

func TestFailedCommitReplacesResponse(t *testing.T) {
	handlers := map[string]fiber.Handler{
		"handler response": func(c *fiber.Ctx) error {
			c.Set("X-Handler", "yes")
			c.Cookie(&fiber.Cookie{Name: "theme", Value: "dark"})
			return c.Status(fiber.StatusCreated).SendString("created")
		},
		"handler error": func(*fiber.Ctx) error { return fiber.ErrTeapot },
		"body stream": func(c *fiber.Ctx) error {
			c.Set("X-Handler", "yes")
			c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
				_, _ = w.WriteString("streamed")
			})
			return nil
		},
	}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			store := backendtest.NewRecorder(t)
			store.FailWrites(errDown)
			m := core.NewManager(store)
			rep := &reports{}
			m.ErrorHandler = rep.handle
			app := newApp(m, fiber.Config{})
			app.Get("/", func(c *fiber.Ctx) error {
				if err := setA(c); err != nil {
					return err
				}
				return h(c)
			})
			r := call(t, app, "/")
			if r.status != 503 || r.body != "session could not be saved" {
				t.Errorf("response = %d %q, want 503 %q", r.status, r.body, "session could not be saved")
			}
			if sc := r.header.Values("Set-Cookie"); len(sc) > 0 || r.header.Get("X-Handler") != "" {
				t.Errorf("the handler's headers survived: Set-Cookie %q, X-Handler %q", sc, r.header.Get("X-Handler"))
			}
			if !rep.has(errDown) {
				t.Error("the failed save was not reported to the ErrorHandler")
			}
		})
	}
}

// TestBodyStreamChangeIsLate: fasthttp runs a body stream writer in its own
// goroutine, which may go on after the middleware committed. A change made
// there must be reported, not lost silently.
func TestBodyStreamChangeIsLate(t *testing.T) {
	m, _, rep := newManager(t)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	type committedKey struct{}
	app.Use(func(c *fiber.Ctx) error {
		committed := make(chan struct{})
		c.Locals(committedKey{}, committed)
		defer close(committed) // the session middleware has returned
		return c.Next()
	})
	app.Use(fibersession.New(fibersession.Config{Manager: m}))
	app.Get("/read", readA)
	app.Get("/stream", func(c *fiber.Ctx) error {
		s, err := fibersession.Get(c)
		if err != nil {
			return err
		}
		s.Set("a", "1")
		committed := c.Locals(committedKey{}).(chan struct{})
		c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
			<-committed
			s.Set("b", "2") // c is recycled by now: use the session kept
			_, _ = w.WriteString("streamed")
		})
		return nil
	})
	r := call(t, app, "/stream")
	if r.body != "streamed" {
		t.Errorf("body = %q", r.body)
	}
	wantSaved(t, app, m, r)
	if !rep.has(core.ErrLateChange) {
		t.Error("a change in the body stream writer was not reported as core.ErrLateChange")
	}
}
