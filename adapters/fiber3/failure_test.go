package fibersession_test

import (
	"bufio"
	"errors"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v3"

	fibersession "github.com/cloakroom/cloakroom/adapters/fiber3"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

var errDown = errors.New("test: backend down")

// failingManager returns a Manager whose backend fails every write, and
// what it reports.
func failingManager(t *testing.T) (*core.Manager, *reports) {
	store := backendtest.NewRecorder(t)
	store.FailWrites(errDown)
	m := core.NewManager(store)
	rep := &reports{}
	m.ErrorHandler = rep.handle
	return m, rep
}

// TestFailedCommitReplacesResponse: when the save fails, the client gets
// 503 instead of the handler's response, whichever way it answered. The
// handler's status, body, body stream and the headers that describe them
// go; its other headers and cookies stay; Fiber's error handler does not
// run for the handler's error.
func TestFailedCommitReplacesResponse(t *testing.T) {
	file := writeFile(t, "page.html", "<p>from a file</p>")
	for name, h := range map[string]fiber.Handler{
		"SendString": func(c fiber.Ctx) error {
			c.Set(fiber.HeaderETag, `"v1"`)
			c.Set(fiber.HeaderContentLanguage, "en")
			return c.Status(fiber.StatusCreated).SendString("created")
		},
		"JSON": func(c fiber.Ctx) error {
			c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
			return c.JSON(fiber.Map{"ok": true})
		},
		"Redirect":      func(c fiber.Ctx) error { return c.Redirect().To("/elsewhere") },
		"SendFile":      func(c fiber.Ctx) error { return c.SendFile(file, fiber.SendFile{MaxAge: 60, Download: true}) },
		"SendStream":    func(c fiber.Ctx) error { return c.SendStream(strings.NewReader("a stream"), 8) },
		"handler error": func(fiber.Ctx) error { return fiber.ErrTeapot },
		"body stream writer": func(c fiber.Ctx) error {
			return c.SendStreamWriter(func(w *bufio.Writer) { _, _ = w.WriteString("streamed") })
		},
		"compressed": func(c fiber.Ctx) error {
			c.Set(fiber.HeaderContentEncoding, "gzip")
			return c.Send([]byte{0x1f, 0x8b})
		},
	} {
		t.Run(name, func(t *testing.T) {
			m, rep := failingManager(t)
			app := newApp(m, fiber.Config{ErrorHandler: func(c fiber.Ctx, err error) error {
				c.Set("X-Error-Handler", "ran")
				return fiber.DefaultErrorHandler(c, err)
			}})
			app.Get("/", func(c fiber.Ctx) error {
				c.Set("X-Handler", "yes")
				c.Cookie(&fiber.Cookie{Name: "theme", Value: "dark"})
				if err := setA(c); err != nil {
					return err
				}
				return h(c)
			})
			r := call(t, app, "/")
			wantReplaced(t, r, 503)
			if r.cookie(m.Cookie.Name) != nil {
				t.Errorf("a session cookie went out for a session that was not saved: %q", r.header.Values("Set-Cookie"))
			}
			if r.header.Get("X-Handler") != "yes" || r.cookie("theme") == nil {
				t.Errorf("headers that do not describe the body were dropped: X-Handler %q, Set-Cookie %q",
					r.header.Get("X-Handler"), r.header.Values("Set-Cookie"))
			}
			if r.header.Get("X-Error-Handler") != "" {
				t.Error("Fiber's error handler ran over the error response")
			}
			if !rep.has(errDown) {
				t.Error("the failed save was not reported to the ErrorHandler")
			}
		})
	}
}

// wantReplaced checks that r is the plain-text error of a failed save
// with the given status, with no header left that described the
// handler's body.
func wantReplaced(t *testing.T, r result, status int) {
	t.Helper()
	if r.status != status || r.body != "session could not be saved" {
		t.Errorf("response = %d %q, want %d %q", r.status, r.body, status, "session could not be saved")
	}
	if ct := r.header.Get(fiber.HeaderContentType); ct != fiber.MIMETextPlainCharsetUTF8 {
		t.Errorf("Content-Type = %q, want %q", ct, fiber.MIMETextPlainCharsetUTF8)
	}
	for _, name := range []string{
		fiber.HeaderContentEncoding, fiber.HeaderContentLanguage, fiber.HeaderContentDisposition,
		fiber.HeaderETag, fiber.HeaderLastModified, fiber.HeaderLocation, fiber.HeaderCacheControl,
	} {
		if v := r.header.Values(name); len(v) > 0 {
			t.Errorf("%s = %q survived on the error response", name, v)
		}
	}
}

// TestBodyStreamChangeIsLate: fasthttp runs a body stream writer in its own
// goroutine, which may go on after the middleware committed. A change made
// there must be reported, not lost silently.
func TestBodyStreamChangeIsLate(t *testing.T) {
	m, _, rep := newManager(t)
	app := fiber.New()
	type committedKey struct{}
	app.Use(func(c fiber.Ctx) error {
		committed := make(chan struct{})
		c.Locals(committedKey{}, committed)
		defer close(committed) // the session middleware has returned
		return c.Next()
	})
	app.Use(fibersession.New(fibersession.Config{Manager: m}))
	app.Get("/read", readA)
	app.Get("/stream", func(c fiber.Ctx) error {
		s, err := fibersession.Get(c)
		if err != nil {
			return err
		}
		s.Set("a", "1")
		committed := fiber.Locals[chan struct{}](c, committedKey{})
		return c.SendStreamWriter(func(w *bufio.Writer) {
			<-committed
			s.Set("b", "2") // c is recycled by now: use the session kept
			_, _ = w.WriteString("streamed")
		})
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
