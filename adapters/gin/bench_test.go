package ginsession_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	ginsession "github.com/cloakroom/cloakroom/adapters/gin"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
	"github.com/gin-gonic/gin"
)

// The cases are nethttp's, so that the adapters' figures compare: a
// handler that never asks for its session, one that reads a key, one that
// increments a counter, and a new session for a request without cookie.

// benchHandler reads or writes one key, or never asks for its session.
func benchHandler(mode string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if mode != "none" {
			s, err := ginsession.Get(c)
			if err != nil {
				c.AbortWithStatus(http.StatusServiceUnavailable)
				return
			}
			if mode == "write" {
				n, _ := s.GetInt("n")
				s.Set("n", n+1)
			} else {
				_, _ = s.GetString("user")
			}
		}
		c.Status(http.StatusOK)
	}
}

// benchApp is a gin engine serving GET / with h, behind the session
// middleware when m is not nil.
func benchApp(m *core.Manager, h gin.HandlerFunc) *gin.Engine {
	r := gin.New()
	if m != nil {
		r.Use(ginsession.Middleware(m))
	}
	r.GET("/", h)
	return r
}

// benchServe serves b.N requests carrying cookie (none when nil)
// in-process.
func benchServe(b *testing.B, app http.Handler, cookie *http.Cookie) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	w := &discardWriter{header: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.header)
		w.status = 0
		app.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

// discardWriter is a ResponseWriter that keeps nothing, so the benchmarks
// measure the middleware rather than a recorder.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }

// benchManager returns a Manager on a memory store holding one session
// (user=alice, n=1) and that session's cookie.
func benchManager(b *testing.B) (*core.Manager, *http.Cookie) {
	store := memory.New(memory.Options{})
	b.Cleanup(func() { store.Close() })
	m := core.NewManager(store)
	rec := httptest.NewRecorder()
	benchApp(m, func(c *gin.Context) {
		s, _ := ginsession.Get(c)
		s.Set("user", "alice")
		s.Set("n", 1)
	}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		b.Fatalf("setup: cookies %v, want the session's", cookies)
	}
	return m, cookies[0]
}

// BenchmarkBaseline is gin without the middleware, for the ratios.
func BenchmarkBaseline(b *testing.B) {
	benchServe(b, benchApp(nil, benchHandler("none")), nil)
}

func BenchmarkNoSession(b *testing.B) {
	m, cookie := benchManager(b)
	benchServe(b, benchApp(m, benchHandler("none")), cookie)
}

func BenchmarkRead(b *testing.B) {
	m, cookie := benchManager(b)
	benchServe(b, benchApp(m, benchHandler("read")), cookie)
}

func BenchmarkWrite(b *testing.B) {
	m, cookie := benchManager(b)
	benchServe(b, benchApp(m, benchHandler("write")), cookie)
}

func BenchmarkNew(b *testing.B) {
	m, _ := benchManager(b)
	benchServe(b, benchApp(m, benchHandler("write")), nil)
}
