package echosession_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v5"

	echosession "github.com/cloakroom/cloakroom/adapters/echo5"
	"github.com/cloakroom/cloakroom/core"
)

// TestCustomErrorHandler: an application's own HTTPErrorHandler renders the
// handler's error (a plain error and an *echo.HTTPError alike); the session
// is committed by its write, and a failed save replaces what it writes.
func TestCustomErrorHandler(t *testing.T) {
	for name, fail := range map[string]error{
		"HTTPError":  echo.NewHTTPError(http.StatusConflict, "taken"),
		"PlainError": errors.New("handler failed"),
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			var renderErr error
			f.e.HTTPErrorHandler = func(c *echo.Context, err error) {
				code := echo.StatusCode(err)
				if code == 0 {
					code = http.StatusInternalServerError
				}
				renderErr = c.String(code, "custom: "+http.StatusText(code))
			}
			f.e.GET("/w", setThen(func(*echo.Context) error { return fail }))
			want := echo.StatusCode(fail)
			if want == 0 {
				want = 500
			}
			r := f.do("/w", "")
			if r.Code != want || r.Body != "custom: "+http.StatusText(want) {
				t.Errorf("reply = %d %q", r.Code, r.Body)
			}
			cookie := r.cookie(f.m.Cookie.Name)
			if cookie == "" || f.stored(cookie, "k") != "v" {
				t.Errorf("session not saved (cookie %q)", cookie)
			}

			f.backend.FailWrites(errBoom)
			wantReplaced(t, f.do("/w", ""))
			if !errors.Is(renderErr, echosession.ErrResponseDropped) {
				t.Errorf("the error handler's write returned %v, want ErrResponseDropped", renderErr)
			}
		})
	}
}

// hijacker answers with a raw HTTP response on the hijacked connection,
// after setting k=v; it records what Hijack returned.
func hijacker(hijackErr *error) echo.HandlerFunc {
	return setThen(func(c *echo.Context) error {
		conn, rw, err := http.NewResponseController(c.Response()).Hijack()
		*hijackErr = err
		if err != nil {
			return err
		}
		defer conn.Close()
		fmt.Fprint(rw, "HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
		return rw.Flush()
	})
}

// TestHijack: a handler that takes the connection over (a websocket
// upgrade) has its session saved first; when that fails, the client gets
// the 503 and Hijack an error.
func TestHijack(t *testing.T) {
	f := newFixture(t)
	f.loopback = true
	var hijackErr error
	f.e.GET("/ws", hijacker(&hijackErr))
	cookie := f.login("k", "old")
	if r := f.do("/ws", cookie); r.Code != 200 || r.Body != "hijacked" || hijackErr != nil {
		t.Fatalf("reply = %d %q, Hijack: %v", r.Code, r.Body, hijackErr)
	}
	if got := f.stored(cookie, "k"); got != "v" {
		t.Errorf("stored %q, want v", got)
	}

	f.backend.FailWrites(errBoom)
	wantReplaced(t, f.do("/ws", cookie))
	if !errors.Is(hijackErr, echosession.ErrResponseDropped) {
		t.Errorf("Hijack returned %v, want ErrResponseDropped", hijackErr)
	}
}

// TestStreaming: a server-sent-events handler over a real connection; the
// client reads the first event, with the session cookie, before the
// handler finishes.
func TestStreaming(t *testing.T) {
	f := newFixture(t)
	next := make(chan struct{})
	f.e.GET("/sse", setThen(func(c *echo.Context) error {
		c.Response().Header().Set("Content-Type", "text/event-stream")
		for i := range 2 {
			if _, err := fmt.Fprintf(c.Response(), "data: %d\n\n", i); err != nil {
				return err
			}
			if err := http.NewResponseController(c.Response()).Flush(); err != nil {
				return err
			}
			<-next
		}
		return nil
	}))
	srv := httptest.NewServer(f.e)
	defer srv.Close()
	var once sync.Once
	release := func() { once.Do(func() { close(next) }) }
	defer release() // before srv.Close, which waits for the handler
	res, err := srv.Client().Get(srv.URL + "/sse")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	if err != nil || line != "data: 0\n" {
		t.Fatalf("first event = %q, %v", line, err)
	}
	var cookie string
	for _, c := range res.Cookies() {
		if c.Name == f.m.Cookie.Name {
			cookie = c.Value
		}
	}
	if cookie == "" {
		t.Fatal("no session cookie on the stream")
	}
	release()
	_, _ = io.Copy(io.Discard, res.Body)
	if got := f.stored(cookie, "k"); got != "v" {
		t.Errorf("stored %q, want v", got)
	}
}

// TestFlushKeepsEchoInformed: a Flush before any write sends the status
// line through Echo's Response, so that its Before hooks still run and it
// knows it is committed.
func TestFlushKeepsEchoInformed(t *testing.T) {
	f := newFixture(t)
	var committed bool
	f.e.GET("/sse", setThen(func(c *echo.Context) error {
		res, err := echo.UnwrapResponse(c.Response())
		if err != nil {
			return err
		}
		res.Before(func() { res.Header().Set("X-Before", "ran") })
		if err := http.NewResponseController(c.Response()).Flush(); err != nil {
			return err
		}
		committed = res.Committed
		return nil
	}))
	r := f.do("/sse", "")
	if !committed {
		t.Error("Echo's Response is not committed after the Flush")
	}
	if r.Header.Get("X-Before") != "ran" || r.cookie(f.m.Cookie.Name) == "" {
		t.Errorf("headers %v: want the Before hook's and the session cookie", r.Header)
	}
}

// TestSkipper: a skipped request has no session and costs nothing.
func TestSkipper(t *testing.T) {
	f := newFixture(t)
	e := quietEcho()
	e.Use(echosession.MiddlewareWithConfig(echosession.Config{
		Manager: f.m,
		Skipper: func(c *echo.Context) bool { return c.Path() == "/health" },
	}))
	var got error
	e.GET("/health", func(c *echo.Context) error {
		_, got = echosession.Get(c)
		return c.String(200, "ok")
	})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/health", nil)
	req.AddCookie(&http.Cookie{Name: "session", Value: core.RandomID{}.NewID()})
	e.ServeHTTP(rec, req)
	if !errors.Is(got, core.ErrNoSession) {
		t.Errorf("Get on a skipped request = %v, want core.ErrNoSession", got)
	}
	if rec.Header().Get("Set-Cookie") != "" || rec.Header().Get("Vary") != "" {
		t.Errorf("skipped request got headers %v", rec.Header())
	}
	if calls := f.backend.Calls(); len(calls) > 0 {
		t.Errorf("skipped request made backend calls %q", calls)
	}
}

// TestGetWithoutMiddleware: Get and GetFor tell a missing middleware apart.
func TestGetWithoutMiddleware(t *testing.T) {
	c := quietEcho().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder())
	if _, err := echosession.Get(c); !errors.Is(err, core.ErrNoSession) {
		t.Errorf("Get = %v, want core.ErrNoSession", err)
	}
	for _, m := range []*core.Manager{nil, core.NewManager(nil)} {
		if _, err := echosession.GetFor(c, m); !errors.Is(err, core.ErrNoSession) {
			t.Errorf("GetFor(%p) = %v, want core.ErrNoSession", m, err)
		}
	}
}

// TestInvalidManager: a Config without a working Manager fails at
// construction with the Manager's Validate error.
func TestInvalidManager(t *testing.T) {
	for _, tc := range []struct {
		m    *core.Manager
		want error
	}{
		{nil, core.ErrNilManager},
		{&core.Manager{}, core.ErrConfig},
	} {
		func() {
			defer func() {
				if err, _ := recover().(error); !errors.Is(err, tc.want) {
					t.Errorf("MiddlewareWithConfig(%+v) panicked with %v, want %v", tc.m, err, tc.want)
				}
			}()
			echosession.MiddlewareWithConfig(echosession.Config{Manager: tc.m})
			t.Errorf("MiddlewareWithConfig(%+v) did not panic", tc.m)
		}()
	}
}

// TestStaticPassesThrough: static paths get no session and no headers.
func TestStaticPassesThrough(t *testing.T) {
	f := newFixture(t)
	var got error
	f.e.GET("/static/*", func(c *echo.Context) error {
		_, got = echosession.Get(c)
		return c.String(200, "file")
	})
	cookie := f.login("k", "v")
	f.backend.Calls()
	r := f.do("/static/app.css", cookie)
	if !errors.Is(got, core.ErrNoSession) || r.Header.Get("Set-Cookie") != "" || r.Header.Get("Vary") != "" {
		t.Errorf("static request: Get = %v, headers %v", got, r.Header)
	}
	if calls := f.backend.Calls(); len(calls) > 0 {
		t.Errorf("static request made backend calls %q", calls)
	}
}

// TestHeaderTransport: with the token in a header, the adapter hands the
// client a new token in the response header and sets no cookie.
func TestHeaderTransport(t *testing.T) {
	f := newFixture(t)
	f.m.Transport = core.HeaderTransport("")
	r := f.do("/login?k=k&v=v", "")
	token := r.Header.Get(core.DefaultTokenHeader)
	if token == "" || len(r.cookies()) > 0 {
		t.Fatalf("reply headers %v: want a token header and no cookie", r.Header)
	}
	if got := f.do("/get?k=k", "", core.DefaultTokenHeader, token); got.Body != "v" {
		t.Errorf("read back with the token: %q", got.Body)
	}
	if v := strings.Join(r.Header.Values("Vary"), ","); !strings.Contains(v, core.DefaultTokenHeader) {
		t.Errorf("Vary = %q, want %s", v, core.DefaultTokenHeader)
	}
}

// opaque is a writer that hides what it wraps: no Unwrap.
type opaque struct{ http.ResponseWriter }

// TestOpaqueWriter: when a middleware outside the sessions' puts up a
// writer that echo.UnwrapResponse cannot see through, the sessions still
// commit before the status line, and a failed save still replaces the
// response.
func TestOpaqueWriter(t *testing.T) {
	hide := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			c.SetResponse(opaque{c.Response()})
			return next(c)
		}
	}
	f := newFixture(t, hide)
	f.e.GET("/w", setThen(func(c *echo.Context) error { return c.String(200, "ok") }))
	r := f.do("/w", "")
	cookie := r.cookie(f.m.Cookie.Name)
	if r.Code != 200 || r.Body != "ok" || cookie == "" || f.stored(cookie, "k") != "v" {
		t.Errorf("reply = %d %q with cookie %q: session not saved", r.Code, r.Body, cookie)
	}
	f.backend.FailWrites(errBoom)
	wantReplaced(t, f.do("/w", ""))
}

// unflushable is a ResponseWriter that cannot flush.
type unflushable struct{ rec *httptest.ResponseRecorder }

func (u unflushable) Header() http.Header         { return u.rec.Header() }
func (u unflushable) Write(p []byte) (int, error) { return u.rec.Write(p) }
func (u unflushable) WriteHeader(code int)        { u.rec.WriteHeader(code) }

// TestFlushUnsupported: over a writer that cannot flush, the writer the
// middleware puts under Echo's Response commits, then reports
// http.ErrNotSupported to http.ResponseController, as the writer beneath
// it does (Echo's own Response.Flush turns that into a panic, as it does
// without sessions).
func TestFlushUnsupported(t *testing.T) {
	f := newFixture(t)
	var flushErr error
	f.e.GET("/w", setThen(func(c *echo.Context) error {
		res, err := echo.UnwrapResponse(c.Response())
		if err != nil {
			return err
		}
		flushErr = http.NewResponseController(res.Unwrap()).Flush()
		return nil
	}))
	rec := httptest.NewRecorder()
	f.e.ServeHTTP(unflushable{rec}, httptest.NewRequest(http.MethodGet, "/w", nil))
	if !errors.Is(flushErr, http.ErrNotSupported) {
		t.Errorf("Flush = %v, want http.ErrNotSupported", flushErr)
	}
	if rec.Header().Get("Set-Cookie") == "" {
		t.Error("no session cookie")
	}
}
