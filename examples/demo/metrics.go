package main

import (
	"context"
	"net/http"
	"time"

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
	if l, ok := m.Backend.(core.Lister); ok {
		reg.MustRegister(storedSessions(l, m.KeyPrefix))
	}
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

// storedSessions is a gauge of the sessions stored under prefix, counted by
// listing the backend at each scrape: what bench/cmd/soak checks against
// the sessions it holds, even on the memory backend, which lives in the
// demo's process. A listing that fails or takes more than 5 seconds gives
// no figure rather than a wrong one.
func storedSessions(l core.Lister, prefix string) prometheus.Collector {
	desc := prometheus.NewDesc("cloakroom_demo_sessions", "Sessions stored, counted by listing the backend.", nil, nil)
	return collectorFunc{desc, func(ch chan<- prometheus.Metric) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n := 0
		for _, err := range l.Keys(ctx, prefix) {
			if err != nil {
				ch <- prometheus.NewInvalidMetric(desc, err)
				return
			}
			n++
		}
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(n))
	}}
}

// collectorFunc is a Prometheus collector of one metric, made by collect.
type collectorFunc struct {
	desc    *prometheus.Desc
	collect func(chan<- prometheus.Metric)
}

func (c collectorFunc) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c collectorFunc) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }
