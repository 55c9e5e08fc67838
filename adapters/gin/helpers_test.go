package ginsession_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	ginsession "github.com/cloakroom/cloakroom/adapters/gin"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
	"github.com/gin-gonic/gin"
)

var errDown = errors.New("test: backend down")

// fixture is a gin engine with the session middleware, its store and the
// errors its Manager reported.
type fixture struct {
	t      *testing.T
	engine *gin.Engine
	store  *backendtest.Recorder
	m      *core.Manager

	mu       sync.Mutex
	reported []error
}

// newFixture builds an engine whose global middleware are before, then the
// session middleware. A GET /get?k= route answers a session value.
func newFixture(t *testing.T, before ...gin.HandlerFunc) *fixture {
	t.Helper()
	f := &fixture{t: t, store: backendtest.NewRecorder(t), engine: gin.New()}
	f.m = core.NewManager(f.store)
	f.m.ErrorHandler = func(_ context.Context, err error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.reported = append(f.reported, err)
	}
	f.engine.Use(before...)
	f.engine.Use(ginsession.Middleware(f.m))
	f.engine.GET("/get", func(c *gin.Context) {
		s, err := ginsession.Get(c)
		if err != nil {
			c.String(http.StatusServiceUnavailable, err.Error())
			return
		}
		v, _ := s.GetString(c.Query("k"))
		c.String(http.StatusOK, v)
	})
	return f
}

// serve runs one request in-process. The recorder snapshots the headers
// when the status is written, so a Set-Cookie added later is not seen.
func (f *fixture) serve(method, path, cookie string) *http.Response {
	req := httptest.NewRequest(method, path, nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: f.m.Cookie.Name, Value: cookie})
	}
	rec := httptest.NewRecorder()
	f.engine.ServeHTTP(rec, req)
	return rec.Result()
}

// sessionCookie returns the session cookie res sets, or "".
func (f *fixture) sessionCookie(res *http.Response) string {
	for _, c := range res.Cookies() {
		if c.Name == f.m.Cookie.Name {
			return c.Value
		}
	}
	return ""
}

// value reads key k of the session whose cookie is cookie.
func (f *fixture) value(cookie, k string) string {
	f.t.Helper()
	res := f.serve(http.MethodGet, "/get?k="+k, cookie)
	return body(f.t, res)
}

func (f *fixture) errors() []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]error(nil), f.reported...)
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// setting returns a handler that sets k=v in the session and then lets
// respond answer.
func setting(t *testing.T, respond func(c *gin.Context)) gin.HandlerFunc {
	return func(c *gin.Context) {
		s, err := ginsession.Get(c)
		if err != nil {
			t.Errorf("Get: %v", err)
			return
		}
		s.Set("k", "v")
		respond(c)
	}
}
