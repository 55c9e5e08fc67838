package main

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/otelcloakroom"
)

// instrument makes m and its Backend report to a Prometheus registry that
// also has the Go runtime's and the process's metrics, and returns the
// handler that serves the registry (-metrics: GET /metrics). The demo
// exports no traces: its spans go to a no-op TracerProvider.
func instrument(m *core.Manager) (http.Handler, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		return nil, err
	}
	opts := []otelcloakroom.Option{
		otelcloakroom.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))),
		otelcloakroom.WithTracerProvider(noop.NewTracerProvider()),
	}
	if m.Backend != nil { // nil for -backend cookie
		m.Backend = otelcloakroom.WrapBackend(m.Backend, opts...)
	}
	if err := otelcloakroom.Instrument(m, opts...); err != nil {
		return nil, err
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), nil
}
