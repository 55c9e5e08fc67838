package echosession_test

import (
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	echosession "github.com/cloakroom/cloakroom/adapters/echo"
	"github.com/cloakroom/cloakroom/core"
)

// writer is one of Echo's ways of answering.
type writer struct {
	name    string
	status  int
	respond func(c echo.Context) error
}

func writers() []writer {
	return []writer{
		{"String", 200, func(c echo.Context) error { return c.String(200, "ok") }},
		{"JSON", 201, func(c echo.Context) error { return c.JSON(201, map[string]int{"a": 1}) }},
		{"Blob", 200, func(c echo.Context) error { return c.Blob(200, "application/octet-stream", []byte{1, 2}) }},
		{"NoContent", 204, func(c echo.Context) error { return c.NoContent(204) }},
		{"Redirect", 303, func(c echo.Context) error { return c.Redirect(303, "/elsewhere") }},
		{"Stream", 200, func(c echo.Context) error { return c.Stream(200, "text/plain", strings.NewReader("streamed")) }},
		{"WriteHeader", 202, func(c echo.Context) error { c.Response().WriteHeader(202); return nil }},
		{"WriteOnly", 200, func(c echo.Context) error { _, err := c.Response().Write([]byte("x")); return err }},
		{"WriteHeaderFlush", 200, func(c echo.Context) error {
			c.Response().WriteHeader(200)
			c.Response().Flush()
			_, err := io.WriteString(c.Response(), "data: 1\n\n")
			return err
		}},
		{"Silent", 200, func(echo.Context) error { return nil }},
		{"HTTPError", 418, func(echo.Context) error { return echo.NewHTTPError(418, "teapot") }},
		{"PlainError", 500, func(echo.Context) error { return errors.New("handler failed") }},
	}
}

// TestWaysToWrite: whichever way the handler answers, the session is saved
// and its cookie is in the response.
func TestWaysToWrite(t *testing.T) {
	for _, w := range writers() {
		t.Run(w.name, func(t *testing.T) {
			f := newFixture(t, middleware.Recover())
			f.e.GET("/w", setThen(w.respond))
			rec := f.do("/w", "")
			if rec.Code != w.status {
				t.Errorf("status = %d, want %d", rec.Code, w.status)
			}
			cookie := f.sessionCookie(rec)
			if cookie == "" {
				t.Fatalf("no session cookie; Set-Cookie = %q", rec.Header().Values("Set-Cookie"))
			}
			if !slices.Contains(rec.Header().Values("Vary"), "Cookie") {
				t.Errorf("Vary = %q, want Cookie", rec.Header().Values("Vary"))
			}
			if got := f.stored(cookie, "k"); got != "v" {
				t.Errorf("stored value = %q, want v", got)
			}
		})
	}
}

// TestFailedSave: when the save fails the client gets a 503 and none of the
// handler's response, whichever way the handler answered.
func TestFailedSave(t *testing.T) {
	for _, w := range writers() {
		t.Run(w.name, func(t *testing.T) {
			f := newFixture(t, middleware.Recover())
			var writeErr error
			f.e.GET("/w", setThen(func(c echo.Context) error {
				writeErr = w.respond(c)
				return writeErr
			}))
			f.backend.FailWrites(errBoom)
			rec := f.do("/w", "")
			wantReplaced(t, rec)
			if !slices.ContainsFunc(f.errs(&f.reported), isBoom) {
				t.Errorf("failed save not reported; reported %v", f.errs(&f.reported))
			}
			if writeErr != nil && !errors.Is(writeErr, echosession.ErrResponseDropped) && w.status < 400 {
				t.Errorf("handler's write returned %v, want ErrResponseDropped", writeErr)
			}
		})
	}
}

func isBoom(err error) bool { return errors.Is(err, errBoom) }

// wantReplaced checks that a response is the adapter's 503, or for the
// handlers that wrote nothing, Echo's rendering of the adapter's 503 error.
func wantReplaced(t *testing.T, rec interface {
	Result() *http.Response
}) {
	t.Helper()
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 503 {
		t.Errorf("status = %d, want 503", res.StatusCode)
	}
	if s := string(body); s != "session could not be saved\n" && s != `{"message":"session could not be saved"}`+"\n" {
		t.Errorf("body = %q, want the adapter's 503", s)
	}
	if sc := res.Header.Values("Set-Cookie"); len(sc) > 0 {
		t.Errorf("Set-Cookie = %q, want none", sc)
	}
	if loc := res.Header.Get("Location"); loc != "" {
		t.Errorf("Location = %q kept on the 503", loc)
	}
}

// TestFailedSaveDetails checks the replacement response's headers, what the
// handler's write returns, and what access logs see.
func TestFailedSaveDetails(t *testing.T) {
	var status int
	var size int64
	logged := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			err := next(c)
			status, size = c.Response().Status, c.Response().Size
			return err
		}
	}
	f := newFixture(t, logged)
	var writeErr error
	f.e.GET("/w", setThen(func(c echo.Context) error {
		c.Response().Header().Set("Content-Length", "9")
		c.Response().Header().Set("Content-Type", "application/json")
		writeErr = c.JSONBlob(200, []byte(`{"a":"b"}`))
		return writeErr
	}))
	f.backend.FailWrites(errBoom)
	rec := f.do("/w", "")
	body := "session could not be saved\n"
	if rec.Code != 503 || rec.Body.String() != body {
		t.Fatalf("response = %d %q", rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cl := rec.Header().Get("Content-Length"); cl != "" {
		t.Errorf("the handler's Content-Length %q was kept", cl)
	}
	if !errors.Is(writeErr, echosession.ErrResponseDropped) {
		t.Errorf("handler's write returned %v, want ErrResponseDropped", writeErr)
	}
	if status != 503 || size != int64(len(body)) {
		t.Errorf("echo.Response Status, Size = %d, %d; want 503, %d", status, size, len(body))
	}
	// The handler's error reached Echo, which ignores it: the response
	// is committed.
	if h := f.errs(&f.handled); len(h) != 1 || !errors.Is(h[0], echosession.ErrResponseDropped) {
		t.Errorf("HTTPErrorHandler got %v", h)
	}
}

// TestFailedSaveSilentHandler: a handler that writes nothing gets an
// *echo.HTTPError wrapping the backend's error, rendered by the
// HTTPErrorHandler.
func TestFailedSaveSilentHandler(t *testing.T) {
	f := newFixture(t)
	f.e.GET("/w", setThen(func(echo.Context) error { return nil }))
	f.backend.FailWrites(errBoom)
	wantReplaced(t, f.do("/w", ""))
	h := f.errs(&f.handled)
	var he *echo.HTTPError
	if len(h) != 1 || !errors.As(h[0], &he) || he.Code != 503 || !errors.Is(h[0], errBoom) {
		t.Errorf("HTTPErrorHandler got %v, want a 503 *echo.HTTPError wrapping the backend error", h)
	}
}

// TestFailedSaveThroughGzip: the 503 goes through a compressing middleware
// placed before the sessions' and arrives as a valid gzip body.
func TestFailedSaveThroughGzip(t *testing.T) {
	f := newFixture(t, middleware.Gzip())
	f.e.GET("/w", setThen(func(c echo.Context) error { return c.String(200, strings.Repeat("x", 100)) }))
	f.backend.FailWrites(errBoom)
	rec := f.do("/w", "", "Accept-Encoding", "gzip")
	if rec.Code != 503 || rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("response = %d, Content-Encoding %q", rec.Code, rec.Header().Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil || string(body) != "session could not be saved\n" {
		t.Errorf("gunzipped body = %q, %v", body, err)
	}
}

// TestLateChange: a change after the commit is reported, whether the
// handler made it after writing or a middleware outside the sessions' made
// it after the handler returned without writing.
func TestLateChange(t *testing.T) {
	outer := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
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
	f.e.GET("/handler", func(c echo.Context) error {
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
	f.e.GET("/outer", func(c echo.Context) error { _, err := echosession.Get(c); return err })
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
