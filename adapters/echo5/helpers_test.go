package echosession_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v5"

	echosession "github.com/cloakroom/cloakroom/adapters/echo5"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

var errBoom = errors.New("injected write failure")

// fixture is an Echo app with the session middleware, its backend, and the
// errors reported to the Manager's ErrorHandler and to Echo's
// HTTPErrorHandler. With loopback set, requests go through a real server.
type fixture struct {
	t        *testing.T
	e        *echo.Echo
	m        *core.Manager
	backend  *backendtest.Recorder
	loopback bool
	srv      *httptest.Server

	mu       sync.Mutex
	reported []error // Manager.ErrorHandler
	handled  []error // echo.HTTPErrorHandler
}

// quietEcho returns an Echo that logs nowhere: Echo v5 logs JSON to stdout.
func quietEcho() *echo.Echo {
	e := echo.New()
	e.Logger = slog.New(slog.DiscardHandler)
	return e
}

// newFixture builds the app; outer middleware goes before the sessions'.
func newFixture(t *testing.T, outer ...echo.MiddlewareFunc) *fixture {
	f := &fixture{t: t, e: quietEcho(), backend: backendtest.NewRecorder(t)}
	f.m = core.NewManager(f.backend)
	f.m.ErrorHandler = func(_ context.Context, err error) { f.note(&f.reported, err) }
	render := echo.DefaultHTTPErrorHandler(false)
	f.e.HTTPErrorHandler = func(c *echo.Context, err error) {
		f.note(&f.handled, err)
		render(c, err)
	}
	f.e.Use(outer...)
	f.e.Use(echosession.Middleware(f.m))
	f.e.GET("/get", func(c *echo.Context) error {
		s, err := echosession.Get(c)
		if err != nil {
			return err
		}
		v, _ := s.GetString(c.QueryParam("k"))
		return c.String(http.StatusOK, v)
	})
	f.e.GET("/login", func(c *echo.Context) error {
		s, err := echosession.Get(c)
		if err != nil {
			return err
		}
		s.Set(c.QueryParam("k"), c.QueryParam("v"))
		return c.NoContent(http.StatusNoContent)
	})
	return f
}

func (f *fixture) note(list *[]error, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	*list = append(*list, err)
}

func (f *fixture) errs(list *[]error) []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]error(nil), *list...)
}

// reply is what a request got back.
type reply struct {
	Code   int
	Header http.Header
	Body   string
}

// cookies returns the cookies the reply sets.
func (r reply) cookies() []*http.Cookie {
	return (&http.Response{Header: r.Header}).Cookies()
}

// cookie returns the value of the cookie name the reply sets, or "".
func (r reply) cookie(name string) string {
	for _, c := range r.cookies() {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// do serves one GET with the session cookie when not empty, and the
// header pairs given.
func (f *fixture) do(path, cookie string, header ...string) reply {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: f.m.Cookie.Name, Value: cookie})
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if !f.loopback {
		rec := httptest.NewRecorder()
		f.e.ServeHTTP(rec, req)
		return reply{rec.Code, rec.Header(), rec.Body.String()}
	}
	return f.fetch(req)
}

// fetch sends req to the fixture's loopback server.
func (f *fixture) fetch(req *http.Request) reply {
	f.t.Helper()
	if f.srv == nil {
		f.srv = httptest.NewServer(f.e)
		f.t.Cleanup(f.srv.Close)
	}
	out, err := http.NewRequest(req.Method, f.srv.URL+req.URL.RequestURI(), nil)
	if err != nil {
		f.t.Fatal(err)
	}
	out.Header = req.Header.Clone()
	if out.Header.Get("Accept-Encoding") == "" {
		// Keep the client from asking for gzip and unpacking it unseen.
		out.Header.Set("Accept-Encoding", "identity")
	}
	client := *f.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := client.Do(out)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		f.t.Fatalf("reading %s: %v", req.URL, err)
	}
	return reply{res.StatusCode, res.Header, string(body)}
}

// stored returns the value of k in the session of cookie, read back
// through the app.
func (f *fixture) stored(cookie, k string) string {
	f.t.Helper()
	return f.do("/get?k="+k, cookie).Body
}

// login starts a session holding k=v and returns its cookie value.
func (f *fixture) login(k, v string) string {
	f.t.Helper()
	cookie := f.do("/login?k="+k+"&v="+v, "").cookie(f.m.Cookie.Name)
	if cookie == "" {
		f.t.Fatal("/login set no session cookie")
	}
	return cookie
}

// setThen is a handler that sets k=v in its session, then answers with
// respond.
func setThen(respond func(c *echo.Context) error) echo.HandlerFunc {
	return func(c *echo.Context) error {
		s, err := echosession.Get(c)
		if err != nil {
			return err
		}
		s.Set("k", "v")
		return respond(c)
	}
}

// wantReplaced checks that a reply is the adapter's 503 and nothing of the
// handler's.
func wantReplaced(t *testing.T, r reply) {
	t.Helper()
	if r.Code != 503 || r.Body != "session could not be saved\n" {
		t.Errorf("reply = %d %q, want the adapter's 503", r.Code, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	for _, k := range []string{"Set-Cookie", "Location", "Content-Encoding", "Last-Modified", "Content-Disposition"} {
		if v := r.Header.Values(k); len(v) > 0 {
			t.Errorf("%s = %q kept on the 503", k, v)
		}
	}
}

// isBoom reports the injected backend failure.
func isBoom(err error) bool { return errors.Is(err, errBoom) }

// contains reports whether list has an entry with the given prefix.
func contains(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
