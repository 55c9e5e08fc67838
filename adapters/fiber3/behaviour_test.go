package fibersession_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/cache"
	fiberrecover "github.com/gofiber/fiber/v3/middleware/recover"

	fibersession "github.com/cloakroom/cloakroom/adapters/fiber3"
	"github.com/cloakroom/cloakroom/core"
)

// newApp returns a Fiber app with the session middleware for m.
func newApp(m *core.Manager, cfg fiber.Config) *fiber.App {
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

// call serves one GET request in process with app.Test.
func call(t *testing.T, app *fiber.App, path string, cookies ...*http.Cookie) result {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	res, err := app.Test(req, fiber.TestConfig{Timeout: 10 * time.Second, FailOnTimeout: true})
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

// setA stores a=1 in the request's session.
func setA(c fiber.Ctx) error {
	s, err := fibersession.Get(c)
	if err != nil {
		return err
	}
	s.Set("a", "1")
	return nil
}

// readA is a route that answers the session's value of a.
func readA(c fiber.Ctx) error {
	s, err := fibersession.Get(c)
	if err != nil {
		return err
	}
	v, _ := s.GetString("a")
	return c.SendString(v)
}

// wantSaved checks that r set a session cookie under which a=1 is stored;
// app serves readA at /read.
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

// writeFile writes content to a file of its own in a temporary folder and
// returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestEveryWayToRespond: whatever a handler answers with, the session it
// changed before is saved and its cookie goes out with the response.
func TestEveryWayToRespond(t *testing.T) {
	file := writeFile(t, "page.txt", "from a file")
	for name, tc := range map[string]struct {
		handler fiber.Handler
		status  int
		body    string
	}{
		"SendString": {func(c fiber.Ctx) error { return c.SendString("text") }, 200, "text"},
		"Send":       {func(c fiber.Ctx) error { return c.Send([]byte("bytes")) }, 200, "bytes"},
		"Write":      {func(c fiber.Ctx) error { _, err := c.WriteString("written"); return err }, 200, "written"},
		"JSON": {func(c fiber.Ctx) error {
			return c.Status(fiber.StatusCreated).JSON(fiber.Map{"ok": true})
		}, 201, `{"ok":true}`},
		"Status only":      {func(c fiber.Ctx) error { c.Status(fiber.StatusAccepted); return nil }, 202, ""},
		"SendStatus":       {func(c fiber.Ctx) error { return c.SendStatus(fiber.StatusNoContent) }, 204, ""},
		"nothing":          {func(fiber.Ctx) error { return nil }, 200, ""},
		"Redirect":         {func(c fiber.Ctx) error { return c.Redirect().To("/elsewhere") }, fiber.StatusSeeOther, ""},
		"SendFile":         {func(c fiber.Ctx) error { return c.SendFile(file) }, 200, "from a file"},
		"SendStream":       {func(c fiber.Ctx) error { return c.SendStream(strings.NewReader("a stream")) }, 200, "a stream"},
		"SendStream sized": {func(c fiber.Ctx) error { return c.SendStream(strings.NewReader("a stream"), 8) }, 200, "a stream"},
		"SendStreamWriter": {func(c fiber.Ctx) error {
			return c.SendStreamWriter(func(w *bufio.Writer) { _, _ = w.WriteString("written later") })
		}, 200, "written later"},
	} {
		t.Run(name, func(t *testing.T) {
			m, _, rep := newManager(t)
			app := newApp(m, fiber.Config{})
			app.Get("/read", readA)
			app.Get("/", func(c fiber.Ctx) error {
				if err := setA(c); err != nil {
					return err
				}
				return tc.handler(c)
			})
			r := call(t, app, "/")
			if r.status != tc.status || r.body != tc.body {
				t.Errorf("response = %d %q, want %d %q", r.status, r.body, tc.status, tc.body)
			}
			wantSaved(t, app, m, r)
			if !slices.Contains(r.header.Values("Vary"), "Cookie") {
				t.Errorf("Vary = %q, want Cookie", r.header.Values("Vary"))
			}
			if len(rep.errs) > 0 {
				t.Errorf("errors reported: %v", rep.errs)
			}
		})
	}
}

// TestRedirectWithFlashKeepsBothCookies: Fiber's flash messages travel in
// a cookie of their own beside the session's.
func TestRedirectWithFlashKeepsBothCookies(t *testing.T) {
	m, _, _ := newManager(t)
	app := newApp(m, fiber.Config{})
	app.Get("/read", readA)
	app.Get("/", func(c fiber.Ctx) error {
		if err := setA(c); err != nil {
			return err
		}
		return c.Redirect().Status(fiber.StatusFound).With("notice", "saved").To("/elsewhere")
	})
	r := call(t, app, "/")
	if r.status != fiber.StatusFound || r.header.Get("Location") != "/elsewhere" {
		t.Errorf("response = %d to %q, want 302 to /elsewhere", r.status, r.header.Get("Location"))
	}
	if r.cookie(fiber.FlashCookieName) == nil {
		t.Errorf("no flash cookie in %q", r.header.Values("Set-Cookie"))
	}
	wantSaved(t, app, m, r)
}

// TestSendFileCacheControlIsMadePrivate: SendFile's MaxAge makes the
// response public; the core makes one that sets the session cookie
// private, so that no shared cache replays the cookie.
func TestSendFileCacheControlIsMadePrivate(t *testing.T) {
	file := writeFile(t, "page.txt", "from a file")
	m, _, rep := newManager(t)
	app := newApp(m, fiber.Config{})
	app.Get("/read", readA)
	app.Get("/", func(c fiber.Ctx) error {
		if err := setA(c); err != nil {
			return err
		}
		return c.SendFile(file, fiber.SendFile{MaxAge: 3600})
	})
	r := call(t, app, "/")
	wantSaved(t, app, m, r)
	if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "private") || strings.Contains(cc, "public") {
		t.Errorf("Cache-Control = %q, want private", cc)
	}
	if !rep.has(core.ErrPublicSession) {
		t.Error("the public response was not reported as core.ErrPublicSession")
	}
}

// TestErrorsKeepSessionCookie: a handler that returns an error still has
// its session saved, and the cookie survives Fiber's error handler, the
// default one and one that renders its own response.
func TestErrorsKeepSessionCookie(t *testing.T) {
	custom := func(c fiber.Ctx, err error) error {
		c.Set("X-Error", "yes")
		return c.Status(fiber.StatusTeapot).JSON(fiber.Map{"error": err.Error()})
	}
	for name, tc := range map[string]struct {
		err     error
		handler fiber.ErrorHandler
		status  int
		body    string
	}{
		"fiber.ErrTeapot, default handler":  {fiber.ErrTeapot, nil, 418, "I'm a teapot"},
		"fiber.NewError, default handler":   {fiber.NewError(fiber.StatusConflict, "taken"), nil, 409, "taken"},
		"plain error, default handler":      {errors.New("boom"), nil, 500, "boom"},
		"plain error, custom handler":       {errors.New("boom"), custom, 418, `{"error":"boom"}`},
		"missing file, default handler":     {nil, nil, 404, "sendfile: file /nonexistent/x.txt not found"},
		"fiber.NewError, custom handler":    {fiber.NewError(fiber.StatusBadRequest, "bad"), custom, 418, `{"error":"bad"}`},
		"fiber.ErrNotFound, custom handler": {fiber.ErrNotFound, custom, 418, `{"error":"Not Found"}`},
	} {
		t.Run(name, func(t *testing.T) {
			m, _, _ := newManager(t)
			app := newApp(m, fiber.Config{ErrorHandler: tc.handler})
			app.Get("/read", readA)
			app.Get("/fail", func(c fiber.Ctx) error {
				if err := setA(c); err != nil {
					return err
				}
				if tc.err == nil {
					return c.SendFile("/nonexistent/x.txt")
				}
				return tc.err
			})
			r := call(t, app, "/fail")
			if r.status != tc.status || r.body != tc.body {
				t.Errorf("response = %d %q, want the error handler's %d %q", r.status, r.body, tc.status, tc.body)
			}
			if tc.handler != nil && r.header.Get("X-Error") != "yes" {
				t.Error("the custom error handler's header is missing")
			}
			wantSaved(t, app, m, r)
		})
	}
}

// TestPanicUnderRecover: a handler that panics saves nothing when the
// panic unwinds through the session middleware to a recover mounted
// outside it; a recover mounted inside has turned the panic into a
// returned error by then, which is saved as any error response is.
func TestPanicUnderRecover(t *testing.T) {
	for order, saved := range map[string]bool{"recover outside": false, "recover inside": true} {
		t.Run(order, func(t *testing.T) {
			m, store, _ := newManager(t)
			app := fiber.New()
			session := fibersession.New(fibersession.Config{Manager: m})
			if saved {
				app.Use(session, fiberrecover.New())
			} else {
				app.Use(fiberrecover.New(), session)
			}
			app.Get("/read", readA)
			app.Get("/panic", func(c fiber.Ctx) error {
				if err := setA(c); err != nil {
					return err
				}
				panic("handler bug")
			})
			r := call(t, app, "/panic")
			if r.status != 500 || r.body != "handler bug" {
				t.Errorf("response = %d %q, want 500 %q", r.status, r.body, "handler bug")
			}
			if saved {
				wantSaved(t, app, m, r)
				return
			}
			if sc := r.header.Values("Set-Cookie"); len(sc) > 0 {
				t.Errorf("Set-Cookie = %q after a panic, want none", sc)
			}
			for key, err := range store.Keys(context.Background(), "") {
				t.Errorf("%s stored after a panic (%v), want nothing", core.LogID(key), err)
			}
		})
	}
}

func TestChangeInErrorHandlerIsLate(t *testing.T) {
	m, _, rep := newManager(t)
	app := newApp(m, fiber.Config{ErrorHandler: func(c fiber.Ctx, err error) error {
		if s, gerr := fibersession.Get(c); gerr == nil {
			s.Set("b", "2")
		}
		return fiber.DefaultErrorHandler(c, err)
	}})
	app.Get("/fail", func(c fiber.Ctx) error {
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
			app.Get("/both", func(c fiber.Ctx) error {
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

// TestSetCookieLinesAreSeparate checks that fasthttp's Header.Add sends the
// session cookie as a line of its own beside the handler's cookies.
func TestSetCookieLinesAreSeparate(t *testing.T) {
	m, _, _ := newManager(t)
	app := newApp(m, fiber.Config{})
	app.Get("/", func(c fiber.Ctx) error {
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

func TestNextSkipsTheMiddleware(t *testing.T) {
	m, store, _ := newManager(t)
	app := fiber.New()
	app.Use(fibersession.New(fibersession.Config{
		Manager: m,
		Next:    func(c fiber.Ctx) bool { return c.Path() == "/skip" },
	}))
	app.Get("/skip", func(c fiber.Ctx) error {
		_, err := fibersession.Get(c)
		_, errFor := fibersession.GetFor(c, m)
		return c.SendString(strconv.FormatBool(errors.Is(err, core.ErrNoSession) && errors.Is(errFor, core.ErrNoSession)))
	})
	r := call(t, app, "/skip")
	if r.body != "true" || len(r.header.Values("Set-Cookie")) > 0 || store.Len() != 0 {
		t.Errorf("skipped request: no-session %s, Set-Cookie %q, %d stored", r.body, r.header.Values("Set-Cookie"), store.Len())
	}
}

func TestGetWithoutMiddleware(t *testing.T) {
	m, _, _ := newManager(t)
	app := fiber.New()
	app.Get("/", func(c fiber.Ctx) error {
		_, err := fibersession.Get(c)
		_, errFor := fibersession.GetFor(c, m)
		return c.SendString(strconv.FormatBool(errors.Is(err, core.ErrNoSession) && errors.Is(errFor, core.ErrNoSession)))
	})
	if r := call(t, app, "/"); r.body != "true" {
		t.Error("Get or GetFor without the middleware did not return core.ErrNoSession")
	}
}

func TestNewPanicsOnBadManager(t *testing.T) {
	badTransport, _, _ := newManager(t)
	badTransport.Transport = core.HeaderTransport("bad header")
	for name, tc := range map[string]struct {
		config []fibersession.Config
		want   error
	}{
		"no Config":     {nil, core.ErrNilManager},
		"no Manager":    {[]fibersession.Config{{}}, core.ErrNilManager},
		"no Backend":    {[]fibersession.Config{{Manager: core.NewManager(nil)}}, core.ErrConfig},
		"bad Transport": {[]fibersession.Config{{Manager: badTransport}}, core.ErrConfig},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if err, _ := recover().(error); err == nil || !errors.Is(err, tc.want) {
					t.Errorf("New panicked with %v, want %v", err, tc.want)
				}
			}()
			fibersession.New(tc.config...)
			t.Error("New did not panic")
		})
	}
}

// TestEveryCacheControlLineIsMadePrivate: a handler that added
// Cache-Control twice gets both lines replaced by one private value;
// fasthttp's Header.Set alone would leave the second "public" in place.
func TestEveryCacheControlLineIsMadePrivate(t *testing.T) {
	m, _, _ := newManager(t)
	app := newApp(m, fiber.Config{})
	app.Get("/read", readA)
	app.Get("/", func(c fiber.Ctx) error {
		c.Response().Header.Add(fiber.HeaderCacheControl, "max-age=60")
		c.Response().Header.Add(fiber.HeaderCacheControl, "public")
		return setA(c)
	})
	r := call(t, app, "/")
	wantSaved(t, app, m, r)
	cc := r.header.Values(fiber.HeaderCacheControl)
	if len(cc) != 1 || !strings.Contains(cc[0], "private") || strings.Contains(cc[0], "public") {
		t.Errorf("Cache-Control = %q, want one private line", cc)
	}
}

// TestCacheMiddlewareSkipsSessionResponses: Fiber's cache middleware,
// mounted outside the session middleware, sees the private Cache-Control
// of a response that sets the session cookie and never replays it.
func TestCacheMiddlewareSkipsSessionResponses(t *testing.T) {
	m, _, _ := newManager(t)
	app := fiber.New()
	app.Use(cache.New(cache.Config{StoreResponseHeaders: true}))
	app.Use(fibersession.New(fibersession.Config{Manager: m}))
	runs := 0
	app.Get("/", func(c fiber.Ctx) error {
		runs++
		return setA(c)
	})
	var ids []string
	for range 2 {
		r := call(t, app, "/")
		if c := r.cookie(m.Cookie.Name); c != nil {
			ids = append(ids, c.Value)
		}
	}
	if runs != 2 || len(ids) != 2 || ids[0] == ids[1] {
		t.Errorf("handler ran %d times, session ids %q: want 2 runs and 2 sessions", runs, ids)
	}
}
