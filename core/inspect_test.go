package core_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// scanned collects what Scan yields, by owner ("" for the anonymous).
func scanned(t *testing.T, m *core.Manager, user string) map[string]core.Stored {
	t.Helper()
	got := map[string]core.Stored{}
	for st, err := range m.Scan(context.Background(), user) {
		if err != nil {
			t.Fatalf("Scan(%q): %v", user, err)
		}
		got[st.Owner] = st
	}
	return got
}

// Scan lists stored sessions with their handles and owners, leaving out
// revoked sessions and the users' indexes; End ends one as Revoke does.
func TestScanAndEnd(t *testing.T) {
	store := memory.New(memory.Options{})
	t.Cleanup(func() { store.Close() })
	m := core.NewManager(store)
	alice := loginAs(t, m, "alice", "phone")
	loginAs(t, m, "bob", "laptop")
	loginAs(t, m, "carol", "tablet")
	anon := serve(t, m, "", "192.0.2.7:1", func(s *core.Session) { s.Set("cart", "tea") }).setCookie("session").Value
	if _, err := m.RevokeAll(context.Background(), "carol", ""); err != nil {
		t.Fatal(err)
	}

	all := scanned(t, m, "")
	if owners := slices.Sorted(maps.Keys(all)); !slices.Equal(owners, []string{"", "alice", "bob"}) {
		t.Fatalf("Scan found sessions of %q, want the anonymous one, alice's and bob's", owners)
	}
	a := all["alice"]
	if a.Handle != visit(t, m, alice).Handle() || a.Size == 0 || a.Data["user"] != "alice" {
		t.Errorf("alice's session: %+v", a)
	}
	if got := scanned(t, m, "alice"); len(got) != 1 || got["alice"].Handle != a.Handle {
		t.Errorf("Scan of alice's index: %v", got)
	}
	if got := scanned(t, m, "carol"); len(got) != 0 {
		t.Errorf("Scan of a revoked user's index: %v", got)
	}

	for _, st := range []core.Stored{a, all[""]} {
		if err := m.End(context.Background(), st); err != nil {
			t.Fatalf("End(%s): %v", st.Owner, err)
		}
	}
	for _, tok := range []string{alice, anon} {
		if s := visit(t, m, tok); s.Reason() != core.Revoked {
			t.Errorf("after End: Reason %v, want revoked", s.Reason())
		}
	}
	if devices, err := m.Sessions(context.Background(), "alice"); err != nil || len(devices) != 0 {
		t.Errorf("alice's devices after End: %v, %v", devices, err)
	}
}

// A Backend that cannot list keys still scans a user's sessions, through
// the user's index; sessions under hashed keys have handles only there.
func TestScanWithoutListing(t *testing.T) {
	m := core.NewManager(backendtest.Plain(backendtest.NewRecorder(t)))
	m.ErrorHandler = func(context.Context, error) {} // that it is not Conditional
	m.HashKeys = true
	tok := loginAs(t, m, "alice", "phone")
	for _, err := range m.Scan(context.Background(), "") {
		if !errors.Is(err, core.ErrNoLister) {
			t.Fatalf("Scan of every session without a Lister: %v, want ErrNoLister", err)
		}
	}
	got := scanned(t, m, "alice")
	if st := got["alice"]; len(got) != 1 || st.Handle != visit(t, m, tok).Handle() {
		t.Errorf("Scan of alice's index: %v", got)
	}

	store := memory.New(memory.Options{})
	t.Cleanup(func() { store.Close() })
	listing := core.NewManager(store)
	listing.HashKeys = true
	serve(t, listing, "", "192.0.2.7:1", func(s *core.Session) { s.Set("n", 1) })
	if got := scanned(t, listing, ""); len(got) != 1 || got[""].Handle != "" || got[""].Size == 0 {
		t.Errorf("a hashed key's session: %v, want it without a handle", got)
	}
}
