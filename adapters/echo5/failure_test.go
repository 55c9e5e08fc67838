package echosession_test

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"

	echosession "github.com/cloakroom/cloakroom/adapters/echo5"
	"github.com/cloakroom/cloakroom/core"
)

// TestFailedSaveDetails checks the replacement response's headers, what the
// handler's write returns, and what access logs see.
func TestFailedSaveDetails(t *testing.T) {
	var status int
	var size int64
	logged := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			err := next(c)
			res, _ := echo.UnwrapResponse(c.Response())
			status, size = res.Status, res.Size
			return err
		}
	}
	f := newFixture(t, logged)
	var writeErr error
	f.e.GET("/w", setThen(func(c *echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Length", "9")
		h.Set("ETag", `"abc"`)
		h.Set("Cache-Control", "public, max-age=60")
		writeErr = c.JSONBlob(200, []byte(`{"a":"b"}`))
		return writeErr
	}))
	f.backend.FailWrites(errBoom)
	r := f.do("/w", "")
	wantReplaced(t, r)
	for k, want := range map[string]string{"Content-Length": "", "ETag": "", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !errors.Is(writeErr, echosession.ErrResponseDropped) {
		t.Errorf("handler's write returned %v, want ErrResponseDropped", writeErr)
	}
	if body := "session could not be saved\n"; status != 503 || size != int64(len(body)) {
		t.Errorf("echo.Response Status, Size = %d, %d; want 503, %d", status, size, len(body))
	}
	// The handler's error reached Echo, which ignores it: the response
	// is committed.
	if h := f.errs(&f.handled); len(h) != 1 || !errors.Is(h[0], echosession.ErrResponseDropped) {
		t.Errorf("HTTPErrorHandler got %v", h)
	}
}

// TestFailedSaveSilentHandler: a handler that writes nothing gets the 503
// at once, and the HTTPErrorHandler an *echo.HTTPError wrapping the
// backend's error.
func TestFailedSaveSilentHandler(t *testing.T) {
	f := newFixture(t)
	f.e.GET("/w", setThen(func(*echo.Context) error { return nil }))
	f.backend.FailWrites(errBoom)
	wantReplaced(t, f.do("/w", ""))
	h := f.errs(&f.handled)
	var he *echo.HTTPError
	if len(h) != 1 || !errors.As(h[0], &he) || he.Code != 503 || !errors.Is(h[0], errBoom) {
		t.Errorf("HTTPErrorHandler got %v, want a 503 *echo.HTTPError wrapping the backend error", h)
	}
}

// TestFailedSaveQuietErrorHandler: the 503 of a handler that wrote nothing
// goes out even when the HTTPErrorHandler writes nothing for the error.
func TestFailedSaveQuietErrorHandler(t *testing.T) {
	f := newFixture(t)
	f.e.HTTPErrorHandler = func(*echo.Context, error) {}
	f.e.GET("/w", setThen(func(*echo.Context) error { return nil }))
	f.backend.FailWrites(errBoom)
	wantReplaced(t, f.do("/w", ""))
}

// TestGzip: behind middleware.Gzip, which sits above Echo's Response and
// holds back the status of a response without a body, the session is saved
// and its cookie sent; a failed save gives a plain 503, not a body
// labelled gzip that is not.
func TestGzip(t *testing.T) {
	long := strings.Repeat("x", 100)
	routes := map[string]func(c *echo.Context) error{
		"/text":      func(c *echo.Context) error { return c.String(200, long) },
		"/nocontent": func(c *echo.Context) error { return c.NoContent(204) },
		"/redirect":  func(c *echo.Context) error { return c.Redirect(302, "/x") },
	}
	for path, respond := range routes {
		t.Run(path, func(t *testing.T) {
			f := newFixture(t, middleware.Gzip())
			f.e.GET(path, setThen(respond))
			r := f.do(path, "", "Accept-Encoding", "gzip")
			cookie := r.cookie(f.m.Cookie.Name)
			if cookie == "" || f.stored(cookie, "k") != "v" {
				t.Fatalf("%s: %d, cookie %q: session not saved", path, r.Code, cookie)
			}
			if path == "/text" {
				zr, err := gzip.NewReader(strings.NewReader(r.Body))
				if err != nil {
					t.Fatal(err)
				}
				if body, err := io.ReadAll(zr); err != nil || string(body) != long {
					t.Errorf("gunzipped body = %q, %v", body, err)
				}
			}

			f.backend.FailWrites(errBoom)
			wantReplaced(t, f.do(path, "", "Accept-Encoding", "gzip"))
		})
	}
}

// TestContextTimeoutInside: middleware.ContextTimeout on a route cancels
// its context when it returns, before the HTTPErrorHandler writes the
// handler's error; the session is still saved, under the request's own
// context.
func TestContextTimeoutInside(t *testing.T) {
	f := newFixture(t)
	f.backend.ContextCheck = func(ctx context.Context) bool { return ctx.Err() == nil }
	f.e.GET("/w", setThen(func(*echo.Context) error {
		return echo.NewHTTPError(400, "bad input")
	}), middleware.ContextTimeout(time.Minute))
	r := f.do("/w", "")
	cookie := r.cookie(f.m.Cookie.Name)
	if r.Code != 400 || cookie == "" {
		t.Fatalf("reply = %d with cookie %q, want 400 with a session cookie", r.Code, cookie)
	}
	if n := f.backend.Unchecked(); n != 0 {
		t.Errorf("%d backend calls with a cancelled context", n)
	}
	if got := f.stored(cookie, "k"); got != "v" {
		t.Errorf("stored %q, want v", got)
	}
}

// TestLateChange: a change after the commit is reported, whether the
// handler made it after writing or a middleware outside the sessions' made
// it after the handler returned without writing.
func TestLateChange(t *testing.T) {
	outer := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			err := next(c)
			if c.Path() == "/outer" {
				if s, err := echosession.Get(c); err == nil {
					s.Set("k", "late")
				}
			}
			return err
		}
	}
	f := newFixture(t, outer)
	f.e.GET("/handler", func(c *echo.Context) error {
		s, err := echosession.Get(c)
		if err != nil {
			return err
		}
		if err := c.String(200, "sent"); err != nil {
			return err
		}
		s.Set("k", "late")
		return nil
	})
	f.e.GET("/outer", func(c *echo.Context) error { _, err := echosession.Get(c); return err })
	for _, path := range []string{"/handler", "/outer"} {
		cookie := f.login("k", "v")
		f.mu.Lock()
		f.reported = nil
		f.mu.Unlock()
		f.do(path, cookie)
		if !slices.ContainsFunc(f.errs(&f.reported), func(err error) bool { return errors.Is(err, core.ErrLateChange) }) {
			t.Errorf("%s: late change not reported; reported %v", path, f.errs(&f.reported))
		}
		if got := f.stored(cookie, "k"); got != "v" {
			t.Errorf("%s: stored %q, want the value from before the commit", path, got)
		}
	}
}
