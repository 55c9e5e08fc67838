package otelcloakroom_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
	"github.com/cloakroom/cloakroom/otelcloakroom"
)

const owner = "owner-alice-93c2"

// scenario drives a Manager through a user's life on the memory backend:
// a visitor stores a note, logs in (Regenerate) and reads; a second device
// logs in; the user's sessions are listed; the first device logs out
// (Destroy); every other session is revoked (RevokeAll), and the revoked
// device comes back.
func scenario(t *testing.T) (*telemetry, *app) {
	tel := newTelemetry(t)
	store := memory.New(memory.Options{})
	t.Cleanup(func() { store.Close() })
	m := tel.instrumented(t, store)
	a := newApp(m)
	phone, laptop := &visitor{t: t, a: a}, &visitor{t: t, a: a}
	phone.visit("/put", 200)
	phone.visit("/login?user="+owner, 200)
	phone.visit("/read", 200)
	laptop.visit("/login?user="+owner, 200)
	ctx := context.Background()
	if ds, err := m.Sessions(ctx, owner); err != nil || len(ds) != 2 {
		t.Fatalf("Sessions = %v, %v; want 2 devices", ds, err)
	}
	phone.visit("/logout", 200)
	if n, err := m.RevokeAll(ctx, owner, ""); err != nil || n != 1 {
		t.Fatalf("RevokeAll = %d, %v; want 1 ended", n, err)
	}
	laptop.visit("/read", 200)
	return tel, a
}

// outline writes each step span as its name and its children's
// operations, in the order they started.
func outline(t *testing.T, spans tracetest.SpanStubs) []string {
	t.Helper()
	slices.SortStableFunc(spans, func(a, b tracetest.SpanStub) int { return a.StartTime.Compare(b.StartTime) })
	steps := map[trace.SpanID]int{}
	var out []string
	for _, s := range spans {
		if !strings.HasPrefix(s.Name, "cloakroom.backend.") {
			steps[s.SpanContext.SpanID()] = len(out)
			out = append(out, s.Name+":")
		}
	}
	for _, s := range spans {
		if !strings.HasPrefix(s.Name, "cloakroom.backend.") {
			continue
		}
		i, ok := steps[s.Parent.SpanID()]
		if !ok {
			t.Errorf("backend span %s is not a child of a step span", s.Name)
			continue
		}
		out[i] += " " + strings.TrimPrefix(s.Name, "cloakroom.backend.")
	}
	return out
}

func TestSpans(t *testing.T) {
	tel, _ := scenario(t)
	spans := tel.spans.GetSpans()
	got := outline(t, spans)
	var names []string
	for _, s := range got {
		names = append(names, s[:strings.IndexByte(s, ':')])
	}
	want := []string{
		"cloakroom.load", "cloakroom.save", // phone: /put
		"cloakroom.load", "cloakroom.regenerate", // phone: login
		"cloakroom.load", "cloakroom.save", // phone: /read
		"cloakroom.load", "cloakroom.save", // laptop: a login on a new session is its creation
		"cloakroom.list",
		"cloakroom.load", "cloakroom.destroy", // phone: logout
		"cloakroom.revoke",
		"cloakroom.load", "cloakroom.save", // laptop, revoked: a new, empty session, not stored
	}
	if !slices.Equal(names, want) {
		t.Fatalf("step spans:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The calls each step must have made, among others (index upkeep).
	for i, calls := range map[int][]string{
		1:  {"set_if"},                    // created
		2:  {"get_version"},               // loaded
		3:  {"delete_if", "set_if"},       // the old id deleted, the new written
		4:  {"get_version"},               // loaded
		5:  {},                            // nothing to write
		8:  {"get_version", "get"},        // the index, the sessions it lists
		10: {"delete_if"},                 // destroyed
		11: {"get_version", "get", "set"}, // the index, the sessions it lists, the tombstone
		12: {"get_version"},               // the tombstone
	} {
		have := strings.Fields(got[i][strings.IndexByte(got[i], ':')+1:])
		for _, c := range calls {
			if !slices.Contains(have, c) {
				t.Errorf("span #%d %s lacks a %s call", i, got[i], c)
			}
		}
		if len(calls) == 0 && len(have) > 0 {
			t.Errorf("span #%d %s made calls", i, got[i])
		}
	}

	events := map[string][]string{}
	for _, s := range spans {
		switch {
		case strings.HasPrefix(s.Name, "cloakroom.backend."):
			op := strings.TrimPrefix(s.Name, "cloakroom.backend.")
			want := "cloakroom.backend=memory,cloakroom.operation=" + op
			if a := attrs(s.Attributes); a != want && a != want+",error.type=not_found" {
				t.Errorf("%s attributes [%s], want [%s]", s.Name, attrs(s.Attributes), want)
			}
			if s.SpanKind != trace.SpanKindClient {
				t.Errorf("%s is a %s span", s.Name, s.SpanKind)
			}
		default:
			if len(s.Attributes) != 0 {
				t.Errorf("%s attributes [%s]", s.Name, attrs(s.Attributes))
			}
			if s.Parent.IsValid() {
				t.Errorf("step span %s has a parent", s.Name)
			}
		}
		if s.Status.Code != codes.Unset {
			t.Errorf("%s status %s %q", s.Name, s.Status.Code, s.Status.Description)
		}
		for _, e := range s.Events {
			events[s.Name] = append(events[s.Name], e.Name)
		}
	}
	for name, want := range map[string][]string{
		"cloakroom.save":       {"cloakroom.created", "cloakroom.created"},
		"cloakroom.regenerate": {"cloakroom.regenerated"},
		"cloakroom.load":       {"cloakroom.loaded", "cloakroom.loaded", "cloakroom.loaded"},
		"cloakroom.destroy":    {"cloakroom.destroyed"},
		"cloakroom.revoke":     {"cloakroom.revoked"},
	} {
		if !slices.Equal(events[name], want) {
			t.Errorf("events of %s spans: %q, want %q", name, events[name], want)
		}
	}
}

// An idle session extended without a write makes a "cloakroom.touch"
// span, holding the Touch call.
func TestSpansTouch(t *testing.T) {
	tel := newTelemetry(t)
	store := memory.New(memory.Options{})
	t.Cleanup(func() { store.Close() })
	m := tel.instrumented(t, store)
	m.IdleTimeout, m.TouchInterval = time.Hour, time.Nanosecond
	v := &visitor{t: t, a: newApp(m)}
	v.visit("/put", 200)
	time.Sleep(time.Millisecond)
	v.visit("/read", 200)
	got := outline(t, tel.spans.GetSpans())
	want := []string{"cloakroom.load:", "cloakroom.save: set_if", "cloakroom.load: get_version", "cloakroom.touch: touch"}
	if !slices.Equal(got, want) {
		t.Errorf("spans %q, want %q", got, want)
	}
	ms := tel.metrics(t)
	if n := counts(t, ms, "cloakroom.session.events")["event=touched"]; n != 1 {
		t.Errorf("%d touched events, want 1", n)
	}
}

var errDown = errors.New("store down")

// A failing backend fails the step's span and the call's, and leaves the
// call's error out of it; a session that expired is no failure.
func TestSpansErrors(t *testing.T) {
	tel := newTelemetry(t)
	rec := backendtest.NewRecorder(t)
	m := tel.instrumented(t, rec)
	a := newApp(m)
	v := &visitor{t: t, a: a}
	v.visit("/put", 200)
	tel.spans.Reset()

	rec.FailReads(errDown)
	v.visit("/read", 503)
	rec.FailReads(nil)
	rec.FailWrites(fmt.Errorf("%w: %w", errDown, context.DeadlineExceeded))
	v.visit("/put", 503)
	rec.FailWrites(nil)
	stranger := &visitor{t: t, a: a}
	stranger.cookie = v.cookie
	rec.Store().Delete(context.Background(), "session:"+v.cookie.Value)
	stranger.visit("/read", 200)

	type status struct{ name, code, errorType string }
	var got []status
	spans := tel.spans.GetSpans()
	slices.SortStableFunc(spans, func(a, b tracetest.SpanStub) int { return a.StartTime.Compare(b.StartTime) })
	for _, s := range spans {
		st := status{name: s.Name, code: s.Status.Code.String()}
		for _, kv := range s.Attributes {
			if kv.Key == "error.type" {
				st.errorType = kv.Value.AsString()
			}
		}
		for _, e := range s.Events {
			if e.Name == "exception" {
				t.Errorf("%s recorded an error", s.Name)
			}
		}
		if s.Status.Code == codes.Error && s.Status.Description != st.errorType {
			t.Errorf("%s status description %q, error.type %q", s.Name, s.Status.Description, st.errorType)
		}
		got = append(got, st)
	}
	want := []status{
		{"cloakroom.load", "Error", "backend"},
		{"cloakroom.backend.get_version", "Error", "backend"}, // and no save: the load failed
		{"cloakroom.load", "Unset", ""},
		{"cloakroom.backend.get_version", "Unset", ""},
		{"cloakroom.save", "Error", "backend"},
		{"cloakroom.backend.set_if", "Error", "timeout"},
		{"cloakroom.load", "Unset", ""}, // the session expired
		{"cloakroom.backend.get_version", "Unset", "not_found"},
		{"cloakroom.save", "Unset", ""},
	}
	if !slices.Equal(got, want) {
		t.Errorf("spans:\n%v\nwant\n%v", got, want)
	}
	if strings.Contains(tel.dump(t), errDown.Error()) {
		t.Error("the backend's error text was recorded")
	}
	errs := counts(t, tel.metrics(t), "cloakroom.step.errors")
	if want := map[string]int64{"kind=backend,step=load": 1, "kind=backend,step=save": 1}; !maps.Equal(errs, want) {
		t.Errorf("step errors %v, want %v", errs, want)
	}
}

// After the scenario, the metrics hold its events, its steps and its
// backend calls.
func TestMetrics(t *testing.T) {
	tel, _ := scenario(t)
	ms := tel.metrics(t)
	events := counts(t, ms, "cloakroom.session.events")
	wantEvents := map[string]int64{
		"event=created":     2, // the phone's /put, the laptop's login
		"event=regenerated": 1, // the phone's login
		"event=loaded":      3, // the phone's login, /read and logout
		"event=destroyed":   1,
		"event=revoked":     1,
	}
	if !maps.Equal(events, wantEvents) {
		t.Errorf("events %v, want %v", events, wantEvents)
	}
	if errs := counts(t, ms, "cloakroom.step.errors"); len(errs) != 0 {
		t.Errorf("step errors %v", errs)
	}
	steps := counts(t, ms, "cloakroom.step.duration")
	if want := map[string]int64{"step=load": 6, "step=save": 6, "step=list": 1, "step=revoke": 1}; !maps.Equal(steps, want) {
		t.Errorf("step durations %v, want %v", steps, want)
	}
	// Each backend call is measured once: as many as spans, by operation.
	wantCalls := map[string]int64{}
	for _, s := range tel.spans.GetSpans() {
		if op, ok := strings.CutPrefix(s.Name, "cloakroom.backend."); ok {
			wantCalls["backend=memory,operation="+op]++
		}
	}
	if calls := counts(t, ms, "cloakroom.backend.duration"); !maps.Equal(calls, wantCalls) || len(calls) < 4 {
		t.Errorf("backend durations %v, want %v", calls, wantCalls)
	}
	// Sessions written: the note, the login's new id, the laptop's
	// session, the laptop's tombstone; the index writes are not sessions.
	if sizes := counts(t, ms, "cloakroom.session.size"); !maps.Equal(sizes, map[string]int64{"backend=memory": 4}) {
		t.Errorf("session sizes %v, want 4 writes", sizes)
	}
	for _, m := range ms {
		if !strings.HasPrefix(m.Name, "cloakroom.") {
			t.Errorf("metric %s", m.Name)
		}
	}
}

// Nothing the pipeline receives names a session: no id (nor so the
// backend key, which holds it), handle, owner or data.
func TestPrivacy(t *testing.T) {
	tel, a := scenario(t)
	// And with failures, whose errors the step spans record.
	rec := backendtest.NewRecorder(t)
	m := tel.instrumented(t, rec)
	b := newApp(m)
	v := &visitor{t: t, a: b}
	key := "session:" + v.visit("/login?user="+owner, 200)
	// Drivers' errors may quote keys, even those of other calls.
	quoting := fmt.Errorf("no route to %q: %w", key, errDown)
	rec.FailReads(quoting)
	v.visit("/read", 503)
	rec.FailReads(nil)
	rec.FailWrites(quoting)
	v.visit("/put", 503)
	if _, err := m.RevokeAll(context.Background(), owner, ""); err == nil {
		t.Error("RevokeAll with the backend down succeeded")
	}

	dump := tel.dump(t)
	secrets := append(append([]string{owner, secretData}, a.seen...), b.seen...)
	checked := 0
	for _, s := range secrets {
		if s == "" {
			continue
		}
		checked++
		if strings.Contains(dump, s) {
			i := strings.Index(dump, s)
			t.Errorf("the telemetry holds %q: ...%s...", s, dump[max(0, i-300):min(len(dump), i+100)])
		}
	}
	if checked < 10 || !strings.Contains(dump, "cloakroom.regenerate") || !strings.Contains(dump, `error.type=backend`) {
		t.Fatalf("checked %d strings in %d bytes of telemetry", checked, len(dump))
	}
}

// Instrument keeps the hooks the application had, and its Observe runs
// inside the span.
func TestInstrumentChains(t *testing.T) {
	tel := newTelemetry(t)
	store := memory.New(memory.Options{})
	t.Cleanup(func() { store.Close() })
	m := core.NewManager(otelcloakroom.WrapBackend(store, tel.opts...))
	var log []string
	m.OnEvent = func(ctx context.Context, e core.Event) { log = append(log, "event "+e.Kind.String()) }
	m.Observe = func(ctx context.Context, step core.Step) (context.Context, func(error)) {
		if !trace.SpanFromContext(ctx).SpanContext().IsValid() {
			t.Errorf("the application's Observe of %s runs outside the span", step)
		}
		log = append(log, "start "+step.String())
		return ctx, func(error) { log = append(log, "end "+step.String()) }
	}
	if err := otelcloakroom.Instrument(m, tel.opts...); err != nil {
		t.Fatal(err)
	}
	(&visitor{t: t, a: newApp(m)}).visit("/put", 200)
	if want := []string{"start load", "end load", "start save", "event created", "end save"}; !slices.Equal(log, want) {
		t.Errorf("the application's hooks saw %q, want %q", log, want)
	}
	if n := counts(t, tel.metrics(t), "cloakroom.session.events")["event=created"]; n != 1 {
		t.Errorf("%d created events counted, want 1", n)
	}
	if err := otelcloakroom.Instrument(nil); err == nil {
		t.Error("Instrument(nil) succeeded")
	}
}

// Every kind of step error is told apart by the core's sentinels.
func TestStepErrorKinds(t *testing.T) {
	tel := newTelemetry(t)
	m := core.NewManager(backendtest.NewRecorder(t))
	if err := otelcloakroom.Instrument(m, tel.opts...); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		core.ErrInterrupted, core.ErrTooManySessions, fmt.Errorf("%w: 1 byte", core.ErrTooLarge), core.ErrConfig,
		core.ErrCorrupt, fmt.Errorf("x: %w", core.ErrBackend), errors.New("else"),
	} {
		_, end := m.Observe(context.Background(), core.StepSave)
		end(err)
	}
	want := map[string]int64{}
	for _, k := range []string{"interrupted", "too_many_sessions", "too_large", "config", "corrupt", "backend", "other"} {
		want["kind="+k+",step=save"] = 1
	}
	if got := counts(t, tel.metrics(t), "cloakroom.step.errors"); !maps.Equal(got, want) {
		t.Errorf("step errors %v, want %v", got, want)
	}
}
