package nethttp_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cloakroom/cloakroom/adapters/nethttp"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

// benchHandler reads or writes one key, or never asks for its session.
func benchHandler(mode string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mode != "none" {
			s, err := nethttp.Get(r)
			if err != nil {
				panic(err)
			}
			if mode == "write" {
				n, _ := s.GetInt("n")
				s.Set("n", n+1)
			} else {
				_, _ = s.GetString("user")
			}
		}
		w.WriteHeader(http.StatusOK)
	})
}

// benchServe runs h for b.N requests carrying cookie (none when nil).
func benchServe(b *testing.B, h http.Handler, cookie *http.Cookie) {
	req := httptest.NewRequest("GET", "/", nil)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	w := &discardWriter{header: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.header)
		h.ServeHTTP(w, req)
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

func benchManager(b *testing.B) (*core.Manager, *http.Cookie) {
	store := memory.New(memory.Options{})
	b.Cleanup(func() { store.Close() })
	m := core.NewManager(store)
	rec := httptest.NewRecorder()
	nethttp.Middleware(m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := nethttp.Get(r)
		s.Set("user", "alice")
		s.Set("n", 1)
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	return m, rec.Result().Cookies()[0]
}

// BenchmarkBaseline is the handler alone, for the ratios.
func BenchmarkBaseline(b *testing.B) {
	benchServe(b, benchHandler("none"), nil)
}

func BenchmarkNoSession(b *testing.B) {
	m, cookie := benchManager(b)
	benchServe(b, nethttp.Middleware(m)(benchHandler("none")), cookie)
}

func BenchmarkRead(b *testing.B) {
	m, cookie := benchManager(b)
	benchServe(b, nethttp.Middleware(m)(benchHandler("read")), cookie)
}

func BenchmarkWrite(b *testing.B) {
	m, cookie := benchManager(b)
	benchServe(b, nethttp.Middleware(m)(benchHandler("write")), cookie)
}

func BenchmarkNew(b *testing.B) {
	m, _ := benchManager(b)
	benchServe(b, nethttp.Middleware(m)(benchHandler("write")), nil)
}
