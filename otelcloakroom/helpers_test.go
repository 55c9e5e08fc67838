package otelcloakroom_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/cloakroom/cloakroom/adapters/nethttp"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/otelcloakroom"
)

// telemetry is an SDK pipeline that keeps what it is given, for tests to
// read back.
type telemetry struct {
	spans  *tracetest.InMemoryExporter
	reader *sdkmetric.ManualReader
	opts   []otelcloakroom.Option
}

func newTelemetry(t *testing.T) *telemetry {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	return &telemetry{spans: spans, reader: reader, opts: []otelcloakroom.Option{
		otelcloakroom.WithTracerProvider(tp), otelcloakroom.WithMeterProvider(mp),
	}}
}

// instrumented returns a Manager over b wrapped and instrumented with tel.
func (tel *telemetry) instrumented(t *testing.T, b core.Backend) *core.Manager {
	t.Helper()
	m := core.NewManager(otelcloakroom.WrapBackend(b, tel.opts...))
	m.Logger = slog.New(slog.DiscardHandler)
	if err := otelcloakroom.Instrument(m, tel.opts...); err != nil {
		t.Fatal(err)
	}
	return m
}

// metrics collects what the meters recorded.
func (tel *telemetry) metrics(t *testing.T) []metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := tel.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var ms []metricdata.Metrics
	for _, sm := range rm.ScopeMetrics {
		ms = append(ms, sm.Metrics...)
	}
	return ms
}

// counts returns a metric's values (sums' values, histograms' counts) by
// their attributes, written as "k=v,k=v".
func counts(t *testing.T, ms []metricdata.Metrics, name string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, m := range ms {
		if m.Name != name {
			continue
		}
		switch d := m.Data.(type) {
		case metricdata.Sum[int64]:
			for _, p := range d.DataPoints {
				out[attrs(p.Attributes.ToSlice())] += p.Value
			}
		case metricdata.Histogram[float64]:
			for _, p := range d.DataPoints {
				out[attrs(p.Attributes.ToSlice())] += int64(p.Count)
			}
		case metricdata.Histogram[int64]:
			for _, p := range d.DataPoints {
				out[attrs(p.Attributes.ToSlice())] += int64(p.Count)
			}
		default:
			t.Fatalf("%s is a %T", name, m.Data)
		}
	}
	return out
}

// attrs writes attributes as "k=v,k=v", sorted by key.
func attrs(kvs []attribute.KeyValue) string {
	var parts []string
	for _, kv := range kvs {
		parts = append(parts, string(kv.Key)+"="+kv.Value.String())
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// dump writes out everything the pipeline holds, for the privacy checks:
// every span's name, attributes, events, links and status, and every
// metric's name, description and data points' attributes, by hand and,
// in case a field was missed, as Go syntax.
func (tel *telemetry) dump(t *testing.T) string {
	var b strings.Builder
	spans := tel.spans.GetSpans()
	for _, s := range spans {
		fmt.Fprintf(&b, "span %s [%s] %s %q\n", s.Name, attrs(s.Attributes), s.Status.Code, s.Status.Description)
		for _, e := range s.Events {
			fmt.Fprintf(&b, "  event %s [%s]\n", e.Name, attrs(e.Attributes))
		}
		for _, l := range s.Links {
			fmt.Fprintf(&b, "  link [%s]\n", attrs(l.Attributes))
		}
	}
	ms := tel.metrics(t)
	for _, m := range ms {
		fmt.Fprintf(&b, "metric %s %q %s\n", m.Name, m.Description, m.Unit)
	}
	fmt.Fprintf(&b, "%#v\n%#v\n", spans, ms)
	return b.String()
}

// app serves the routes the tests drive. Each handler records the id and
// handle of the session it served in seen.
type app struct {
	http.Handler
	seen []string // ids and handles: none may show in the telemetry
}

// secretData is a value stored in sessions, which must not show either.
const secretData = "secret-data-4f1d"

func newApp(m *core.Manager) *app {
	a := &app{}
	mux := http.NewServeMux()
	handle := func(path string, f func(s *core.Session, r *http.Request)) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			s, err := nethttp.Get(r)
			if err != nil {
				http.Error(w, err.Error(), core.HTTPStatus(err))
				return
			}
			f(s, r)
			a.seen = append(a.seen, s.ID(), s.Handle())
		})
	}
	handle("/put", func(s *core.Session, r *http.Request) { s.Set("note", secretData) })
	handle("/login", func(s *core.Session, r *http.Request) {
		s.Regenerate()
		s.SetOwner(r.URL.Query().Get("user"))
	})
	handle("/read", func(s *core.Session, r *http.Request) { s.GetString("note") })
	handle("/logout", func(s *core.Session, r *http.Request) { s.Destroy() })
	a.Handler = nethttp.Middleware(m)(mux)
	return a
}

// visitor is one browser: it keeps its session cookie.
type visitor struct {
	t      *testing.T
	a      *app
	cookie *http.Cookie
}

// visit requests path and checks the status; it returns the session
// cookie's value after it.
func (v *visitor) visit(path string, want int) string {
	v.t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if v.cookie != nil {
		req.AddCookie(v.cookie)
	}
	rec := httptest.NewRecorder()
	v.a.ServeHTTP(rec, req)
	if rec.Code != want {
		v.t.Fatalf("GET %s = %d %q, want %d", path, rec.Code, rec.Body, want)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == "session" {
			v.cookie = c
			v.a.seen = append(v.a.seen, c.Value)
			if c.MaxAge < 0 {
				v.cookie = nil
			}
		}
	}
	if v.cookie == nil {
		return ""
	}
	return v.cookie.Value
}
