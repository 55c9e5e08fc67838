package otelcloakroom_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/cloakroom/cloakroom/adapters/nethttp"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/otelcloakroom"
)

// Wrap the Backend, give it to the Manager, instrument the Manager. An
// application that has set the global providers (otel.SetTracerProvider,
// otel.SetMeterProvider) passes no options; this one keeps its spans in
// memory to print them.
func Example() {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer tp.Shutdown(context.Background())
	defer mp.Shutdown(context.Background())
	opts := []otelcloakroom.Option{otelcloakroom.WithTracerProvider(tp), otelcloakroom.WithMeterProvider(mp)}

	store := memory.New(memory.Options{})
	defer store.Close() // the store, not the wrapper, is closed
	m := core.NewManager(otelcloakroom.WrapBackend(store, opts...))
	if err := otelcloakroom.Instrument(m, opts...); err != nil {
		panic(err)
	}

	handler := nethttp.Middleware(m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := nethttp.Get(r)
		if err != nil {
			http.Error(w, "session unavailable", core.HTTPStatus(err))
			return
		}
		n, _ := s.GetInt("visits")
		s.Set("visits", n+1)
	}))
	var cookie *http.Cookie
	for range 2 {
		req := httptest.NewRequest("GET", "/", nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		cookie = rec.Result().Cookies()[0]
	}
	for _, s := range spans.GetSpans() { // in the order they ended
		fmt.Println(s.Name)
	}
	// Output:
	// cloakroom.load
	// cloakroom.backend.set_if
	// cloakroom.save
	// cloakroom.backend.get_version
	// cloakroom.load
	// cloakroom.backend.set_if
	// cloakroom.save
}
