package otelcloakroom

import (
	"context"
	"errors"
	"iter"
	"path"
	"reflect"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/cloakroom/cloakroom/core"
)

// WrapBackend returns b with a span and a latency measurement around each
// of its calls (see the package documentation). The result implements
// exactly the optional interfaces b implements (core.Conditional,
// core.Versioner, core.Toucher, core.Lister, core.Expirer, core.Lender), so
// that the Manager uses b as it would unwrapped. Wrap a Backend once and share the
// result between the Managers that share b, so that they still see it as
// one; keep b to Close it.
func WrapBackend(b core.Backend, opts ...Option) core.Backend {
	if b == nil {
		return nil
	}
	c := newConfig(opts)
	w := &backend{b: b, tracer: c.tracers.Tracer(scope)}
	kind := backendKind(b)
	meter := c.meters.Meter(scope)
	var err, e error
	w.duration, e = meter.Float64Histogram("cloakroom.backend.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Duration of the calls to the session backend."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	err = errors.Join(err, e)
	w.size, e = meter.Int64Histogram("cloakroom.session.size",
		metric.WithUnit("By"),
		metric.WithDescription("Encoded size of the sessions written to the backend."),
		metric.WithExplicitBucketBoundaries(sizeBuckets...))
	err = errors.Join(err, e)
	if err != nil {
		otel.Handle(err) // the instruments returned work all the same, as no-ops
	}
	w.sizeAttrs = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(attribute.String("backend", kind)))}
	for op, name := range operations {
		w.ops[op] = operation{
			name: "cloakroom.backend." + name,
			span: []trace.SpanStartOption{
				trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(attribute.String("cloakroom.backend", kind), attribute.String("cloakroom.operation", name)),
			},
			duration: []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(attribute.String("backend", kind), attribute.String("operation", name)))},
		}
	}
	return w.with(b)
}

// backendKind names b's kind after its type's package: "memory" for
// *memory.Store, "redis" for *redis.Store.
func backendKind(b core.Backend) string {
	t := reflect.TypeOf(b)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	p := t.PkgPath()
	name := path.Base(p)
	if len(name) > 1 && name[0] == 'v' && strings.Trim(name[1:], "0123456789") == "" {
		name = path.Base(path.Dir(p)) // a major version: .../redis/v2
	}
	if p == "" || name == "." || name == "/" {
		return "unknown"
	}
	return name
}

// The wrapper's types, one for each combination of optional interfaces,
// are written by gen_combinations.go into combinations.go: the method with
// there returns a *backend, which implements core.Backend, as the type
// that embeds the forwarders below of exactly the optional interfaces the
// wrapped backend implements.
//
// To forward one more optional interface: write its forwarder below (as
// toucher is written) and its fake in backend_test.go, add both to the
// list in gen_combinations.go, and run go generate.
//go:generate go run gen_combinations.go

// The operations a backend call can be, by index into backend.ops.
const (
	opGet = iota
	opSet
	opDelete
	opTouch
	opGetVersion
	opSetIf
	opDeleteIf
	opKeys
	opExpiresAt
)

var operations = [...]string{"get", "set", "delete", "touch", "get_version", "set_if", "delete_if", "keys", "expires_at"}

// backend wraps a core.Backend; it implements core.Backend alone, and the
// forwarders below add the optional interfaces.
type backend struct {
	b         core.Backend
	tracer    trace.Tracer
	duration  metric.Float64Histogram
	size      metric.Int64Histogram
	sizeAttrs []metric.RecordOption
	ops       [len(operations)]operation
}

// operation is what calls of one operation are reported with.
type operation struct {
	name     string
	span     []trace.SpanStartOption
	duration []metric.RecordOption
}

// call is one backend call under way.
type call struct {
	op    int
	span  trace.Span
	start time.Time
}

func (w *backend) start(ctx context.Context, op int) (context.Context, call) {
	ctx, span := w.tracer.Start(ctx, w.ops[op].name, w.ops[op].span...)
	return ctx, call{op: op, span: span, start: time.Now()}
}

// end ends c with its error, of which it records only the kind: a
// driver's error may quote the key.
func (w *backend) end(ctx context.Context, c call, err error) {
	w.duration.Record(ctx, time.Since(c.start).Seconds(), w.ops[c.op].duration...)
	if err != nil {
		kind, failed := callErrorKind(err)
		c.span.SetAttributes(attribute.String("error.type", kind))
		if failed {
			c.span.SetStatus(codes.Error, kind)
		}
	}
	c.span.End()
}

// written measures the size of a session written under key; users'
// indexes (core's "cloakroom:owner:" keys) are no sessions.
func (w *backend) written(ctx context.Context, key string, value []byte) {
	if !strings.HasPrefix(key, "cloakroom:owner:") {
		w.size.Record(ctx, int64(len(value)), w.sizeAttrs...)
	}
}

// callErrorKind classifies a backend call's error; failed is false for the
// answers a backend gives in the normal course (absent, changed meanwhile).
func callErrorKind(err error) (kind string, failed bool) {
	var timeout interface{ Timeout() bool }
	switch {
	case errors.Is(err, core.ErrNotFound):
		return "not_found", false
	case errors.Is(err, core.ErrConflict):
		return "conflict", false
	case errors.Is(err, context.Canceled):
		return "canceled", true
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &timeout) && timeout.Timeout():
		return "timeout", true
	}
	return "backend", true
}

// Get implements core.Backend.
func (w *backend) Get(ctx context.Context, key string) ([]byte, error) {
	ctx, c := w.start(ctx, opGet)
	b, err := w.b.Get(ctx, key)
	w.end(ctx, c, err)
	return b, err
}

// Set implements core.Backend.
func (w *backend) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	ctx, c := w.start(ctx, opSet)
	err := w.b.Set(ctx, key, value, ttl)
	w.end(ctx, c, err)
	if err == nil {
		w.written(ctx, key, value)
	}
	return err
}

// Delete implements core.Backend.
func (w *backend) Delete(ctx context.Context, key string) error {
	ctx, c := w.start(ctx, opDelete)
	err := w.b.Delete(ctx, key)
	w.end(ctx, c, err)
	return err
}

// toucher adds core.Toucher.
type toucher struct {
	w *backend
	t core.Toucher
}

// Touch implements core.Toucher.
func (x toucher) Touch(ctx context.Context, key string, ttl time.Duration) error {
	ctx, c := x.w.start(ctx, opTouch)
	err := x.t.Touch(ctx, key, ttl)
	x.w.end(ctx, c, err)
	return err
}

// lister adds core.Lister.
type lister struct {
	w *backend
	l core.Lister
}

// Keys implements core.Lister. Its span lasts as long as the iteration.
func (x lister) Keys(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		ctx, c := x.w.start(ctx, opKeys)
		var err error
		defer func() { x.w.end(ctx, c, err) }()
		for k, e := range x.l.Keys(ctx, prefix) {
			if e != nil {
				err = e
			}
			if !yield(k, e) {
				return
			}
		}
	}
}

// conditional adds core.Conditional.
type conditional struct {
	w *backend
	c core.Conditional
}

// GetVersion implements core.Conditional.
func (x conditional) GetVersion(ctx context.Context, key string) ([]byte, core.Version, error) {
	ctx, c := x.w.start(ctx, opGetVersion)
	b, v, err := x.c.GetVersion(ctx, key)
	x.w.end(ctx, c, err)
	return b, v, err
}

// SetIf implements core.Conditional.
func (x conditional) SetIf(ctx context.Context, key string, version core.Version, value []byte, ttl time.Duration) error {
	ctx, c := x.w.start(ctx, opSetIf)
	err := x.c.SetIf(ctx, key, version, value, ttl)
	x.w.end(ctx, c, err)
	if err == nil {
		x.w.written(ctx, key, value)
	}
	return err
}

// DeleteIf implements core.Conditional.
func (x conditional) DeleteIf(ctx context.Context, key string, version core.Version) error {
	ctx, c := x.w.start(ctx, opDeleteIf)
	err := x.c.DeleteIf(ctx, key, version)
	x.w.end(ctx, c, err)
	return err
}

// lender adds core.Lender. A loan is the read GetVersion makes, and is
// reported as one.
type lender struct {
	w *backend
	l core.Lender
}

// LendVersion implements core.Lender.
func (x lender) LendVersion(ctx context.Context, key string) ([]byte, core.Version, error) {
	ctx, c := x.w.start(ctx, opGetVersion)
	b, v, err := x.l.LendVersion(ctx, key)
	x.w.end(ctx, c, err)
	return b, v, err
}

// versioner adds core.Versioner; VersionOf makes no call to the store and
// gets no span.
type versioner struct{ v core.Versioner }

// VersionOf implements core.Versioner.
func (x versioner) VersionOf(value []byte) core.Version { return x.v.VersionOf(value) }

// expirer adds core.Expirer.
type expirer struct {
	w *backend
	e core.Expirer
}

// ExpiresAt implements core.Expirer.
func (x expirer) ExpiresAt(ctx context.Context, key string) (time.Time, error) {
	ctx, c := x.w.start(ctx, opExpiresAt)
	t, err := x.e.ExpiresAt(ctx, key)
	x.w.end(ctx, c, err)
	return t, err
}
