package otelcloakroom_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/cloakroom/cloakroom/adapters/nethttp"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/otelcloakroom"
)

// BenchmarkRead serves a request that reads its session, as the nethttp
// adapter's BenchmarkRead does: bare, instrumented with the global
// providers left as they start (no-ops), and instrumented with SDK
// providers that record spans and metrics but export nothing (a
// TracerProvider without a span processor, a MeterProvider without a
// reader), the cost of the instrumentation itself.
func BenchmarkRead(b *testing.B) {
	sdk := func(b *testing.B) []otelcloakroom.Option {
		tp := sdktrace.NewTracerProvider()
		mp := sdkmetric.NewMeterProvider()
		b.Cleanup(func() {
			_ = tp.Shutdown(context.Background())
			_ = mp.Shutdown(context.Background())
		})
		return []otelcloakroom.Option{otelcloakroom.WithTracerProvider(tp), otelcloakroom.WithMeterProvider(mp)}
	}
	for _, bc := range []struct {
		name string
		opts func(*testing.B) []otelcloakroom.Option // nil: not instrumented
	}{
		{"bare", nil},
		{"noop", func(*testing.B) []otelcloakroom.Option { return nil }},
		{"sdk", sdk},
	} {
		b.Run(bc.name, func(b *testing.B) {
			store := memory.New(memory.Options{})
			b.Cleanup(func() { store.Close() })
			var backend core.Backend = store
			var opts []otelcloakroom.Option
			if bc.opts != nil {
				opts = bc.opts(b)
				backend = otelcloakroom.WrapBackend(store, opts...)
			}
			m := core.NewManager(backend)
			if bc.opts != nil {
				if err := otelcloakroom.Instrument(m, opts...); err != nil {
					b.Fatal(err)
				}
			}
			benchRead(b, m)
		})
	}
}

// benchRead serves b.N requests that read a stored session.
func benchRead(b *testing.B, m *core.Manager) {
	rec := httptest.NewRecorder()
	nethttp.Middleware(m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := nethttp.Get(r)
		s.Set("user", "alice")
		s.Set("n", 1)
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	h := nethttp.Middleware(m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := nethttp.Get(r)
		if err != nil {
			panic(err)
		}
		_, _ = s.GetString("user")
		w.WriteHeader(http.StatusOK)
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(rec.Result().Cookies()[0])
	w := &discardWriter{header: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.header)
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the middleware rather than a recorder.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }
