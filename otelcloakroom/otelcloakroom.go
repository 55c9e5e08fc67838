// Package otelcloakroom traces and measures cloakroom's sessions with
// OpenTelemetry.
//
// Two calls wire it: Instrument on the Manager, for a span per load, save,
// listing and revocation and the lifecycle metrics, and WrapBackend on its
// Backend, for a span per backend call, nested in the step that made it,
// and the latency of each call:
//
//	m := core.NewManager(otelcloakroom.WrapBackend(store))
//	if err := otelcloakroom.Instrument(m); err != nil {
//		return err
//	}
//
// Both use the global providers (otel.GetTracerProvider and
// otel.GetMeterProvider) unless given others with WithTracerProvider and
// WithMeterProvider.
//
// # Spans
//
// Instrument starts one span per step the Manager reports to its Observe
// hook: "cloakroom.load", "cloakroom.save", "cloakroom.list" and
// "cloakroom.revoke". A save is renamed after what it did, from the events
// it reported: "cloakroom.regenerate" (a login), "cloakroom.destroy" (a
// logout), "cloakroom.touch" (an idle session extended without a write);
// it stays "cloakroom.save" for a write of new or changed data and for a
// save that had nothing to do. Each event a step reports is a span event
// named "cloakroom." and the event's name ("cloakroom.loaded",
// "cloakroom.conflict"). A step that fails has status Error and the
// attribute error.type, both its kind (see the step errors below). The
// error's text is not recorded: it may hold what the backend's driver
// said, which may name keys; the Manager's ErrorHandler and the
// application's logs have it.
//
// WrapBackend starts one client span per backend call, named
// "cloakroom.backend." and the operation: get, set, delete, touch,
// get_version, set_if, delete_if, keys, expires_at. Its attributes are
// cloakroom.backend, the backend's kind (the name of its type's package:
// "memory", "redis", "sql", ...), and cloakroom.operation. A call that fails
// has the attribute error.type: not_found, conflict (both expected answers,
// which leave the status unset), timeout, canceled or backend (status
// Error). The driver's error itself is never recorded, since drivers may
// quote the key, which holds the session id.
//
// # Metrics
//
//	cloakroom.session.events   counter   {event}  event: created, loaded, saved, regenerated,
//	                                              destroyed, revoked, expired, conflict,
//	                                              interrupted, touched
//	cloakroom.step.errors      counter   {error}  step: load, save, list, revoke;
//	                                              kind: backend, interrupted, too_large,
//	                                              too_many_sessions, config, corrupt, other
//	cloakroom.step.duration    histogram s        step
//	cloakroom.backend.duration histogram s        backend, operation
//	cloakroom.session.size     histogram By       backend: the encoded size of each session
//	                                              written (Set and SetIf)
//
// The Prometheus exporter names them cloakroom_session_events_total,
// cloakroom_step_errors_total, cloakroom_step_duration_seconds,
// cloakroom_backend_duration_seconds and cloakroom_session_size_bytes.
//
// # Privacy
//
// No span name, attribute or event and no metric attribute holds a session
// id, a backend key, a session's handle or owner, or session data: what
// the Manager hands its OnEvent hook about a session (its handle and
// owner) is dropped, a backend call is described by its operation alone,
// and an error by its kind, never its text.
package otelcloakroom

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/cloakroom/cloakroom/core"
)

// scope names this package to the providers.
const scope = "github.com/cloakroom/cloakroom/otelcloakroom"

// Option configures Instrument and WrapBackend.
type Option func(*config)

type config struct {
	tracers trace.TracerProvider
	meters  metric.MeterProvider
}

// WithTracerProvider makes spans with tp instead of the global
// TracerProvider.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tracers = tp }
}

// WithMeterProvider makes metrics with mp instead of the global
// MeterProvider.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.meters = mp }
}

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		o(&c)
	}
	if c.tracers == nil {
		c.tracers = otel.GetTracerProvider()
	}
	if c.meters == nil {
		c.meters = otel.GetMeterProvider()
	}
	return c
}

// Bucket boundaries: session steps and backend calls take from tens of
// microseconds (in memory) to seconds (a save's retries are bounded to
// 2 s by default); sessions are bounded to 256 KiB by default.
var (
	durationBuckets = []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}
	sizeBuckets     = []float64{64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144}
)

// Instrument makes m report its steps as spans and its events and steps as
// metrics: it sets m.Observe and m.OnEvent, calling the hooks m already
// had too (theirs run inside the span). Call it once, before m serves
// requests, and give m a Backend wrapped by WrapBackend to see the backend
// calls in each step's span.
func Instrument(m *core.Manager, opts ...Option) error {
	if m == nil {
		return errors.New("otelcloakroom: Instrument of a nil *core.Manager")
	}
	c := newConfig(opts)
	meter := c.meters.Meter(scope)
	var err, e error
	in := &instrumentation{tracer: c.tracers.Tracer(scope)}
	in.events, e = meter.Int64Counter("cloakroom.session.events",
		metric.WithUnit("{event}"),
		metric.WithDescription("Lifecycle events of sessions: created, loaded, saved, regenerated, destroyed, revoked, expired, conflict, interrupted, touched."))
	err = errors.Join(err, e)
	in.errors, e = meter.Int64Counter("cloakroom.step.errors",
		metric.WithUnit("{error}"),
		metric.WithDescription("Loads, saves, listings and revocations that failed, by step and kind of error."))
	err = errors.Join(err, e)
	in.duration, e = meter.Float64Histogram("cloakroom.step.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Duration of session loads, saves, listings and revocations, backend calls and retries included."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	err = errors.Join(err, e)
	if err != nil {
		return err
	}
	for s := range in.steps {
		in.steps[s] = newStepInfo(core.Step(s))
	}
	for k := range in.kinds {
		in.kinds[k] = newEventInfo(core.EventKind(k))
	}

	observe, onEvent := m.Observe, m.OnEvent
	m.Observe = in.observe
	if observe != nil {
		m.Observe = func(ctx context.Context, step core.Step) (context.Context, func(error)) {
			ctx, end := in.observe(ctx, step)
			ctx, theirs := observe(ctx, step)
			return ctx, func(err error) {
				if theirs != nil {
					theirs(err)
				}
				end(err)
			}
		}
	}
	m.OnEvent = in.onEvent
	if onEvent != nil {
		m.OnEvent = func(ctx context.Context, e core.Event) {
			in.onEvent(ctx, e)
			onEvent(ctx, e)
		}
	}
	return nil
}

// instrumentation is what Instrument installs on a Manager.
type instrumentation struct {
	tracer   trace.Tracer
	events   metric.Int64Counter
	errors   metric.Int64Counter
	duration metric.Float64Histogram
	steps    [core.StepRevoke + 1]stepInfo    // by step; stepFor covers steps added later
	kinds    [core.EventTouched + 1]eventInfo // by kind; eventFor covers kinds added later
}

// stepInfo is what one kind of step is reported with, worked out once.
type stepInfo struct {
	name     string // the span's name
	duration []metric.RecordOption
	errors   [len(stepErrorKinds)][]metric.AddOption
}

func newStepInfo(s core.Step) stepInfo {
	name := s.String()
	info := stepInfo{
		name:     "cloakroom." + name,
		duration: []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(attribute.String("step", name)))},
	}
	for k, kind := range stepErrorKinds {
		set := attribute.NewSet(attribute.String("step", name), attribute.String("kind", kind))
		info.errors[k] = []metric.AddOption{metric.WithAttributeSet(set)}
	}
	return info
}

func (in *instrumentation) stepFor(s core.Step) *stepInfo {
	if int(s) > 0 && int(s) < len(in.steps) {
		return &in.steps[s]
	}
	info := newStepInfo(s)
	return &info
}

// eventInfo is what one kind of event is reported with, worked out once.
type eventInfo struct {
	name  string // the span event's name
	count []metric.AddOption
	rank  int32 // how much it says about what a save did: see saveNames
}

func newEventInfo(k core.EventKind) eventInfo {
	info := eventInfo{
		name:  "cloakroom." + k.String(),
		count: []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(attribute.String("event", k.String())))},
	}
	switch k {
	case core.EventTouched:
		info.rank = 1
	case core.EventDestroyed:
		info.rank = 2
	case core.EventRegenerated:
		info.rank = 3
	}
	return info
}

func (in *instrumentation) eventFor(k core.EventKind) *eventInfo {
	if int(k) > 0 && int(k) < len(in.kinds) {
		return &in.kinds[k]
	}
	info := newEventInfo(k)
	return &info
}

// saveNames names a save span after the highest-ranked event it reported:
// a save that regenerated may also have deleted, and none both destroys
// and touches.
var saveNames = [...]string{"cloakroom.save", "cloakroom.touch", "cloakroom.destroy", "cloakroom.regenerate"}

// stepKey finds a step's state in the contexts of its backend calls and
// events.
type stepKey struct{}

// step is one step under way. It is the step's context too: the caller's
// with the step's span, in which Value(stepKey{}) finds the step, so that
// starting a step allocates no separate context for it.
type step struct {
	context.Context
	in    *instrumentation
	info  *stepInfo
	span  trace.Span
	start time.Time
	save  bool
	rank  atomic.Int32 // of the highest-ranked event of a save
}

// Value implements context.Context.
func (st *step) Value(key any) any {
	if key == (stepKey{}) {
		return st
	}
	return st.Context.Value(key)
}

// observe is the Manager's Observe: it starts step's span.
func (in *instrumentation) observe(ctx context.Context, s core.Step) (context.Context, func(error)) {
	st := &step{in: in, info: in.stepFor(s), start: time.Now(), save: s == core.StepSave}
	st.Context, st.span = in.tracer.Start(ctx, st.info.name)
	return st, st.end
}

// end ends the step with its error.
func (st *step) end(err error) {
	in, info := st.in, st.info
	in.duration.Record(st, time.Since(st.start).Seconds(), info.duration...)
	if err != nil {
		k := stepErrorKind(err)
		in.errors.Add(st, 1, info.errors[k]...)
		st.span.SetAttributes(attribute.String("error.type", stepErrorKinds[k]))
		st.span.SetStatus(codes.Error, stepErrorKinds[k])
	}
	if r := st.rank.Load(); r > 0 {
		st.span.SetName(saveNames[r])
	}
	st.span.End()
}

// onEvent is the Manager's OnEvent: it counts e and adds it to the span of
// the step that reported it. It keeps nothing of e but its kind.
func (in *instrumentation) onEvent(ctx context.Context, e core.Event) {
	info := in.eventFor(e.Kind)
	in.events.Add(ctx, 1, info.count...)
	st, ok := ctx.Value(stepKey{}).(*step)
	if !ok || st.in != in {
		return
	}
	st.span.AddEvent(info.name)
	if st.save && info.rank > 0 {
		st.raise(info.rank)
	}
}

// raise records that the save reported an event of rank r.
func (st *step) raise(r int32) {
	for {
		old := st.rank.Load()
		if r <= old || st.rank.CompareAndSwap(old, r) {
			return
		}
	}
}

// stepErrorKinds are the values of a failed step's kind attribute, in the
// order stepErrorKind tests them.
var stepErrorKinds = [...]string{"interrupted", "too_many_sessions", "too_large", "config", "corrupt", "backend", "other"}

// stepErrorKind classifies a step's error by the core's sentinels; it
// returns an index into stepErrorKinds.
func stepErrorKind(err error) int {
	for k, target := range [...]error{core.ErrInterrupted, core.ErrTooManySessions, core.ErrTooLarge, core.ErrConfig, core.ErrCorrupt, core.ErrBackend} {
		if errors.Is(err, target) {
			return k
		}
	}
	return len(stepErrorKinds) - 1
}
