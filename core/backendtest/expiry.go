package backendtest

import (
	"context"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
)

// testSessionExpiry checks that sessions with expiries of their own
// (Session.SetExpiry) expire at their own times side by side on the
// backend, with real short lifetimes: seconds, since stores count whole
// seconds and a loaded machine delays the checks.
func testSessionExpiry(t *testing.T, b core.Backend, prefix string) {
	ctx := context.Background()
	manager := func(lifetime, idle time.Duration) *core.Manager {
		m := core.NewManager(b)
		m.KeyPrefix = prefix
		m.Lifetime, m.IdleTimeout = lifetime, idle
		m.MaxLifetime = time.Hour
		return m
	}
	plain := manager(time.Hour, 0)
	idling := manager(time.Hour, time.Hour)
	brief := manager(4*time.Second, 0)

	const life = 4 * time.Second
	type session struct {
		name     string
		m        *core.Manager
		expiry   core.Expiry
		touched  bool // read (and kept alive) at 2 s and 4 s
		at6, at9 bool // alive 6.5 s and 9.5 s after the start
		id       string
	}
	sessions := []*session{
		{name: "own 4 s lifetime, regenerated", m: plain, expiry: core.Expiry{Lifetime: life}},
		{name: "Manager's hour", m: plain, at6: true, at9: true},
		{name: "own 4 s idle, Manager without", m: plain, expiry: core.Expiry{Idle: life}, touched: true, at6: true},
		{name: "own 4 s idle, Manager's hour", m: idling, expiry: core.Expiry{Idle: life}, touched: true, at6: true},
		{name: "remembered for an hour, Manager's 4 s", m: brief, expiry: core.Expiry{Lifetime: time.Hour}, at6: true, at9: true},
		{name: "Manager's 4 s", m: brief},
	}
	start := time.Now()
	for _, s := range sessions {
		n := s.m.New(ctx)
		n.Set("name", s.name)
		n.SetExpiry(s.expiry)
		if _, err := s.m.Save(ctx, n); err != nil {
			t.Fatalf("%s: Save: %v", s.name, err)
		}
		s.id = n.ID()
		t.Cleanup(func() { _ = b.Delete(ctx, prefix+s.id) })
	}
	// Regenerate keeps the expiry.
	first := sessions[0]
	s, err := first.m.Load(ctx, first.id)
	if err != nil || s.IsNew() {
		t.Fatalf("Load: new %v, %v", s != nil && s.IsNew(), err)
	}
	s.Regenerate()
	if _, err := first.m.Save(ctx, s); err != nil {
		t.Fatalf("Save after Regenerate: %v", err)
	}
	first.id = s.ID()
	t.Cleanup(func() { _ = b.Delete(ctx, prefix+first.id) })
	if again, err := first.m.Load(ctx, first.id); err != nil || again.Expiry().Lifetime != life {
		t.Fatalf("after Regenerate: Expiry() = %+v, %v; want the 4 s lifetime kept", again.Expiry(), err)
	}

	at := func(d time.Duration) { time.Sleep(time.Until(start.Add(d))) }
	touch := func() {
		for _, s := range sessions {
			if !s.touched {
				continue
			}
			loaded, err := s.m.Load(ctx, s.id)
			if err != nil || loaded.IsNew() {
				t.Fatalf("%s: lost at %v: %v", s.name, time.Since(start).Round(time.Millisecond), err)
			}
			if _, err := s.m.Save(ctx, loaded); err != nil {
				t.Fatalf("%s: Save to keep it alive: %v", s.name, err)
			}
		}
	}
	check := func(alive func(*session) bool) {
		for _, s := range sessions {
			loaded, err := s.m.Load(ctx, s.id)
			if err != nil {
				t.Fatalf("%s: Load: %v", s.name, err)
			}
			if got, want := !loaded.IsNew(), alive(s); got != want {
				t.Errorf("%s: alive %v after %v, want %v", s.name, got, time.Since(start).Round(time.Millisecond), want)
			}
		}
	}
	at(2 * time.Second)
	touch()
	at(4 * time.Second)
	touch()
	at(6500 * time.Millisecond)
	check(func(s *session) bool { return s.at6 })
	at(9500 * time.Millisecond)
	check(func(s *session) bool { return s.at9 })
}
