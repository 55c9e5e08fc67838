package main

import (
	"context"
	"slices"
	"testing"

	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/otelcloakroom"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestOtel instruments a Manager and its backend, serves visits through
// it and looks for the spans and metrics they made.
func TestOtel(t *testing.T) {
	ctx := context.Background()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer tp.Shutdown(ctx)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(ctx)
	opts := []otelcloakroom.Option{otelcloakroom.WithTracerProvider(tp), otelcloakroom.WithMeterProvider(mp)}

	store := memory.New(memory.Options{})
	defer store.Close()
	m := core.NewManager(otelcloakroom.WrapBackend(store, opts...))
	if err := otelcloakroom.Instrument(m, opts...); err != nil {
		t.Fatal(err)
	}
	wantVisits(t, handlerClient(newNetHTTP(m)), 2)

	var names []string
	for _, s := range spans.GetSpans() {
		names = append(names, s.Name)
	}
	for _, want := range []string{"cloakroom.load", "cloakroom.save", "cloakroom.backend.set_if"} {
		if !slices.Contains(names, want) {
			t.Errorf("no span %s among %q", want, names)
		}
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	var metrics []string
	for _, sm := range rm.ScopeMetrics {
		for _, md := range sm.Metrics {
			metrics = append(metrics, md.Name)
		}
	}
	for _, want := range []string{"cloakroom.step.duration", "cloakroom.backend.duration"} {
		if !slices.Contains(metrics, want) {
			t.Errorf("no metric %s among %q", want, metrics)
		}
	}
}
