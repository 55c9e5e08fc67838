package backendtest

import (
	"context"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/codec"
)

// testSessions runs the session lifecycle over the backend: what the
// Manager writes must come back with its types, and what it deletes must be
// gone.
func testSessions(t *testing.T, b core.Backend, prefix string) {
	ctx := context.Background()
	m := core.NewManager(b)
	m.KeyPrefix = prefix
	m.IdleTimeout = time.Hour

	s := m.New(ctx)
	when := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	s.Set("user", "alice")
	s.Set("cart", codec.Tuple{int64(1), int64(2)})
	s.Set("raw", []byte{0, 1, 0xff})
	s.Set("when", when)
	if wrote, err := m.Save(ctx, s); err != nil || !wrote {
		t.Fatalf("Save = %v, %v", wrote, err)
	}
	t.Cleanup(func() { _ = b.Delete(ctx, prefix+s.ID()) })

	loaded, err := m.Load(ctx, s.ID())
	if err != nil || loaded.IsNew() {
		t.Fatalf("Load = new %v, %v", loaded != nil && loaded.IsNew(), err)
	}
	if v, _ := loaded.GetString("user"); v != "alice" {
		t.Errorf("user = %q", v)
	}
	if v, _ := loaded.Get("cart"); !equalTuple(v, codec.Tuple{int64(1), int64(2)}) {
		t.Errorf("cart = %#v", v)
	}
	if v, _ := loaded.GetBytes("raw"); string(v) != "\x00\x01\xff" {
		t.Errorf("raw = %q", v)
	}
	if v, _ := loaded.GetTime("when"); !v.Equal(when) {
		t.Errorf("when = %v", v)
	}
	// An idle session is kept alive by Touch (or a rewrite) without loss.
	if _, err := m.Save(ctx, loaded); err != nil {
		t.Fatalf("Save of an unchanged idle session: %v", err)
	}

	loaded.Regenerate()
	if _, err := m.Save(ctx, loaded); err != nil {
		t.Fatalf("Save after Regenerate: %v", err)
	}
	t.Cleanup(func() { _ = b.Delete(ctx, prefix+loaded.ID()) })
	if old, err := m.Load(ctx, s.ID()); err != nil || !old.IsNew() {
		t.Errorf("the id before Regenerate still loads: new=%v err=%v", old != nil && old.IsNew(), err)
	}

	live := loaded.ID()
	loaded.Destroy()
	if _, err := m.Save(ctx, loaded); err != nil {
		t.Fatalf("Save after Destroy: %v", err)
	}
	if _, err := b.Get(ctx, prefix+live); err == nil {
		t.Error("a destroyed session is still stored")
	}
}

func equalTuple(v any, want codec.Tuple) bool {
	got, ok := v.(codec.Tuple)
	if !ok || len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}
