package otelcloakroom_test

import (
	"context"
	"iter"
	"slices"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
	"github.com/cloakroom/cloakroom/otelcloakroom"
)

// onlyTouch and onlyKeys have one optional interface each.
type onlyTouch struct{ core.Backend }

func (onlyTouch) Touch(context.Context, string, time.Duration) error { return nil }

type onlyKeys struct{ core.Backend }

func (onlyKeys) Keys(context.Context, string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {}
}

// The wrapper has exactly the optional interfaces of what it wraps.
func TestWrapKeepsInterfaces(t *testing.T) {
	rec := backendtest.NewRecorder(t)
	store := memory.New(memory.Options{})
	t.Cleanup(func() { store.Close() })
	for _, tc := range []struct {
		name    string
		b       core.Backend
		atLeast []string // the optional interfaces b must have
		exactly bool     // and no others
	}{
		{"Recorder", rec, []string{"Toucher", "Conditional", "Versioner"}, false},
		{"Plain", backendtest.Plain(rec), nil, true},
		{"memory", store, []string{"Toucher", "Lister", "Conditional", "Versioner", "Lender"}, false},
		{"Toucher", onlyTouch{backendtest.Plain(rec)}, []string{"Toucher"}, true},
		{"Lister", onlyKeys{backendtest.Plain(rec)}, []string{"Lister"}, true},
	} {
		has := optionalInterfaces(tc.b)
		for _, i := range tc.atLeast {
			if !slices.Contains(has, i) {
				t.Fatalf("%s has %v, the test expects %v", tc.name, has, tc.atLeast)
			}
		}
		if tc.exactly && len(has) != len(tc.atLeast) {
			t.Fatalf("%s has %v, the test expects %v alone", tc.name, has, tc.atLeast)
		}
		if got := optionalInterfaces(otelcloakroom.WrapBackend(tc.b)); !slices.Equal(got, has) {
			t.Errorf("wrapped %s has %v, want %v", tc.name, got, has)
		}
	}
	if otelcloakroom.WrapBackend(nil) != nil {
		t.Error("WrapBackend(nil) is not nil")
	}
}

// Every combination of optional interfaces is kept, and every method
// reaches the wrapped backend.
func TestWrapEveryCombination(t *testing.T) {
	tel := newTelemetry(t)
	ctx := context.Background()
	for mask := range combinations {
		f := &fake{}
		b := f.with(mask)
		want := optionalInterfaces(b)
		if len(want) != bitCount(mask) {
			t.Fatalf("fake %04b has %v", mask, want)
		}
		w := otelcloakroom.WrapBackend(b, tel.opts...)
		if got := optionalInterfaces(w); !slices.Equal(got, want) {
			t.Errorf("wrapped %v has %v", want, got)
			continue
		}
		wantCalls := []string{"get", "set", "delete"}
		w.Get(ctx, "k")
		w.Set(ctx, "k", nil, 0)
		w.Delete(ctx, "k")
		if x, ok := w.(core.Toucher); ok {
			x.Touch(ctx, "k", 0)
			wantCalls = append(wantCalls, "touch")
		}
		if x, ok := w.(core.Lister); ok {
			for range x.Keys(ctx, "") {
			}
			wantCalls = append(wantCalls, "keys")
		}
		if x, ok := w.(core.Conditional); ok {
			x.GetVersion(ctx, "k")
			x.SetIf(ctx, "k", nil, nil, 0)
			x.DeleteIf(ctx, "k", nil)
			wantCalls = append(wantCalls, "get_version", "set_if", "delete_if")
		}
		if x, ok := w.(core.Versioner); ok {
			x.VersionOf(nil)
			wantCalls = append(wantCalls, "version_of")
		}
		if x, ok := w.(core.Expirer); ok {
			x.ExpiresAt(ctx, "k")
			wantCalls = append(wantCalls, "expires_at")
		}
		if x, ok := w.(core.Lender); ok {
			x.LendVersion(ctx, "k")
			wantCalls = append(wantCalls, "lend_version")
		}
		if !slices.Equal(f.calls, wantCalls) {
			t.Errorf("wrapped %v made the calls %q, want %q", want, f.calls, wantCalls)
		}
	}
	spans := map[string]int{}
	for _, s := range tel.spans.GetSpans() {
		spans[s.Name]++
	}
	half := combinations / 2 // the combinations with each interface
	for op, n := range map[string]int{"get": combinations, "set": combinations, "delete": combinations, "touch": half, "keys": half, "get_version": 2 * half /* GetVersion and LendVersion */, "set_if": half, "delete_if": half, "expires_at": half} {
		if spans["cloakroom.backend."+op] != n {
			t.Errorf("%d %s spans, want %d", spans["cloakroom.backend."+op], op, n)
		}
	}
}

func bitCount(n int) int {
	c := 0
	for ; n > 0; n >>= 1 {
		c += n & 1
	}
	return c
}

// fake records the calls made to it. Its method with, in
// combinations_test.go, gives it any combination of the optional
// interfaces, through the fakes below.
type fake struct{ calls []string }

func (f *fake) call(op string) { f.calls = append(f.calls, op) }

func (f *fake) Get(context.Context, string) ([]byte, error) { f.call("get"); return nil, nil }
func (f *fake) Set(context.Context, string, []byte, time.Duration) error {
	f.call("set")
	return nil
}
func (f *fake) Delete(context.Context, string) error { f.call("delete"); return nil }

type fakeToucher struct{ f *fake }

func (x fakeToucher) Touch(context.Context, string, time.Duration) error {
	x.f.call("touch")
	return nil
}

type fakeLister struct{ f *fake }

func (x fakeLister) Keys(context.Context, string) iter.Seq2[string, error] {
	x.f.call("keys")
	return func(yield func(string, error) bool) { yield("k", nil) }
}

type fakeConditional struct{ f *fake }

func (x fakeConditional) GetVersion(context.Context, string) ([]byte, core.Version, error) {
	x.f.call("get_version")
	return nil, nil, nil
}
func (x fakeConditional) SetIf(context.Context, string, core.Version, []byte, time.Duration) error {
	x.f.call("set_if")
	return nil
}
func (x fakeConditional) DeleteIf(context.Context, string, core.Version) error {
	x.f.call("delete_if")
	return nil
}

type fakeVersioner struct{ f *fake }

func (x fakeVersioner) VersionOf([]byte) core.Version { x.f.call("version_of"); return nil }

type fakeExpirer struct{ f *fake }

func (x fakeExpirer) ExpiresAt(context.Context, string) (time.Time, error) {
	x.f.call("expires_at")
	return time.Time{}, nil
}

type fakeLender struct{ f *fake }

func (x fakeLender) LendVersion(context.Context, string) ([]byte, core.Version, error) {
	x.f.call("lend_version")
	return nil, nil, nil
}

// The conformance kit passes through the wrapper.
func TestWrapConformance(t *testing.T) {
	store := memory.New(memory.Options{})
	t.Cleanup(func() { store.Close() })
	backendtest.Run(t, otelcloakroom.WrapBackend(store, newTelemetry(t).opts...))
}

// A listing's span lasts as long as its iteration, and a backend's own
// type names its kind.
func TestWrapKeys(t *testing.T) {
	tel := newTelemetry(t)
	store := memory.New(memory.Options{})
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	for _, k := range []string{"a:1", "a:2", "b:1"} {
		store.Set(ctx, k, []byte("v"), 0)
	}
	w := otelcloakroom.WrapBackend(store, tel.opts...).(core.Lister)
	n := 0
	for _, err := range w.Keys(ctx, "a:") {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if len(tel.spans.GetSpans()) != 0 {
			t.Error("the listing's span ended before its iteration")
		}
	}
	spans := tel.spans.GetSpans()
	if n != 2 || len(spans) != 1 || spans[0].Name != "cloakroom.backend.keys" || attrs(spans[0].Attributes) != "cloakroom.backend=memory,cloakroom.operation=keys" {
		t.Errorf("%d keys, spans %v", n, spans)
	}
	// A listing broken off early ends its span too.
	for range w.Keys(ctx, "") {
		break
	}
	if len(tel.spans.GetSpans()) != 2 {
		t.Error("a listing broken off left its span open")
	}

	tel.spans.Reset()
	otelcloakroom.WrapBackend(backendtest.Plain(backendtest.NewRecorder(t)), tel.opts...).Get(ctx, "x")
	otelcloakroom.WrapBackend(onlyTouch{store}, tel.opts...).Get(ctx, "x")
	var kinds []string
	for _, s := range tel.spans.GetSpans() {
		kinds = append(kinds, attrs(s.Attributes))
	}
	want := []string{
		"cloakroom.backend=backendtest,cloakroom.operation=get,error.type=not_found",
		"cloakroom.backend=otelcloakroom_test,cloakroom.operation=get,error.type=not_found",
	}
	if !slices.Equal(kinds, want) {
		t.Errorf("attributes %q, want %q", kinds, want)
	}
}
