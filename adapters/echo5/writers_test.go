package echosession_test

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"

	echosession "github.com/cloakroom/cloakroom/adapters/echo5"
)

// writer is one of Echo's ways of answering.
type writer struct {
	name    string
	status  int
	body    string // the reply's body when the session saves
	drops   bool   // the handler writes a body and returns that write's error
	respond func(c *echo.Context) error
}

func writers() []writer {
	return []writer{
		{"String", 200, "ok", true, func(c *echo.Context) error { return c.String(200, "ok") }},
		{"JSON", 201, "{\"a\":1}\n", true, func(c *echo.Context) error { return c.JSON(201, map[string]int{"a": 1}) }},
		{"Blob", 200, "\x01\x02", true, func(c *echo.Context) error { return c.Blob(200, "application/octet-stream", []byte{1, 2}) }},
		{"HTML", 200, "<p>hi</p>", true, func(c *echo.Context) error { return c.HTML(200, "<p>hi</p>") }},
		{"XML", 200, "", true, func(c *echo.Context) error { return c.XML(200, struct{ A int }{1}) }},
		{"NoContent", 204, "", false, func(c *echo.Context) error { return c.NoContent(204) }},
		{"Redirect", 303, "", false, func(c *echo.Context) error { return c.Redirect(303, "/elsewhere") }},
		{"File", 200, "hello file\n", false, func(c *echo.Context) error { return c.File("hello.txt") }},
		{"Attachment", 200, "hello file\n", false, func(c *echo.Context) error { return c.Attachment("hello.txt", "greeting.txt") }},
		{"Stream", 200, "streamed", true, func(c *echo.Context) error {
			return c.Stream(200, "text/plain", strings.NewReader("streamed"))
		}},
		{"WriteHeader", 202, "", false, func(c *echo.Context) error { c.Response().WriteHeader(202); return nil }},
		{"WriteOnly", 200, "x", true, func(c *echo.Context) error { _, err := c.Response().Write([]byte("x")); return err }},
		{"WriteHeaderFlush", 200, "data: 1\n\n", true, func(c *echo.Context) error {
			c.Response().WriteHeader(200)
			http.NewResponseController(c.Response()).Flush()
			_, err := io.WriteString(c.Response(), "data: 1\n\n")
			return err
		}},
		{"FlushFirst", 200, "data: 1\n\n", true, func(c *echo.Context) error {
			// Echo's Response.Flush sends the status line without its
			// WriteHeader: the session must be committed all the same.
			if err := http.NewResponseController(c.Response()).Flush(); err != nil {
				return err
			}
			_, err := io.WriteString(c.Response(), "data: 1\n\n")
			return err
		}},
		{"Silent", 200, "", false, func(*echo.Context) error { return nil }},
		{"HTTPError", 418, "{\"message\":\"teapot\"}\n", false, func(*echo.Context) error { return echo.NewHTTPError(418, "teapot") }},
		{"PlainError", 500, "{\"message\":\"Internal Server Error\"}\n", false, func(*echo.Context) error { return errors.New("handler failed") }},
		{"UnencodableJSON", 500, "{\"message\":\"Internal Server Error\"}\n", false, func(c *echo.Context) error {
			return c.JSON(200, map[string]any{"ch": make(chan int)}) // fails before writing
		}},
	}
}

// writerFixture serves w under middleware.Recover, with a file to send.
func writerFixture(t *testing.T, loopback bool, w func(c *echo.Context) error) *fixture {
	f := newFixture(t, middleware.Recover())
	f.loopback = loopback
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.e.Filesystem = os.DirFS(dir)
	f.e.GET("/w", w)
	return f
}

// TestWaysToWrite: whichever way the handler answers, the session is saved
// and its cookie is in the response, in process and over a real loopback
// server.
func TestWaysToWrite(t *testing.T) {
	for _, loopback := range []bool{false, true} {
		for _, w := range writers() {
			t.Run(via(loopback)+"/"+w.name, func(t *testing.T) {
				f := writerFixture(t, loopback, setThen(w.respond))
				r := f.do("/w", "")
				if r.Code != w.status {
					t.Errorf("status = %d, want %d", r.Code, w.status)
				}
				if w.body != "" && r.Body != w.body {
					t.Errorf("body = %q, want %q", r.Body, w.body)
				}
				cookie := r.cookie(f.m.Cookie.Name)
				if cookie == "" {
					t.Fatalf("no session cookie; Set-Cookie = %q", r.Header.Values("Set-Cookie"))
				}
				if !slices.Contains(r.Header.Values("Vary"), "Cookie") {
					t.Errorf("Vary = %q, want Cookie", r.Header.Values("Vary"))
				}
				if got := f.stored(cookie, "k"); got != "v" {
					t.Errorf("stored value = %q, want v", got)
				}
			})
		}
	}
}

func via(loopback bool) string {
	if loopback {
		return "Loopback"
	}
	return "InProcess"
}

// TestFailedSave: when the save fails the client gets a 503 and none of the
// handler's response, whichever way the handler answered, and the
// handler's writes fail with ErrResponseDropped.
func TestFailedSave(t *testing.T) {
	for _, loopback := range []bool{false, true} {
		for _, w := range writers() {
			t.Run(via(loopback)+"/"+w.name, func(t *testing.T) {
				var writeErr error
				f := writerFixture(t, loopback, setThen(func(c *echo.Context) error {
					writeErr = w.respond(c)
					return writeErr
				}))
				f.backend.FailWrites(errBoom)
				wantReplaced(t, f.do("/w", ""))
				if !slices.ContainsFunc(f.errs(&f.reported), isBoom) {
					t.Errorf("failed save not reported; reported %v", f.errs(&f.reported))
				}
				if w.drops && !errors.Is(writeErr, echosession.ErrResponseDropped) {
					t.Errorf("handler's write returned %v, want ErrResponseDropped", writeErr)
				}
			})
		}
	}
}
