package core_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// loginAs runs a login request through m from a client with user agent ua
// and returns the token it was given.
func loginAs(t *testing.T, m *core.Manager, user, ua string) string {
	t.Helper()
	ex := newExchange("192.0.2.7:1")
	ex.header.Set("User-Agent", ua)
	r := m.Begin(ex)
	s, err := r.Session(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.Regenerate()
	s.Set("user", user)
	s.SetOwner(user)
	if err := r.Commit(context.Background()); err != nil {
		t.Fatalf("login: %v", err)
	}
	c := ex.setCookie(m.Cookie.Name)
	if c == nil {
		t.Fatal("login set no cookie")
	}
	return c.Value
}

// visit loads the session token opens through m and returns it.
func visit(t *testing.T, m *core.Manager, token string) *core.Session {
	t.Helper()
	var got *core.Session
	serve(t, m, token, "192.0.2.7:1", func(s *core.Session) { got = s })
	return got
}

func newUsersManager(t *testing.T) *core.Manager {
	store := memory.New(memory.Options{})
	t.Cleanup(func() { store.Close() })
	return core.NewManager(store)
}

func TestSessionsListsAUsersDevices(t *testing.T) {
	m := newUsersManager(t)
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	core.SetClock(m, clk.Now)
	var tokens []string
	for _, ua := range []string{"phone", "laptop", "tablet"} {
		tokens = append(tokens, loginAs(t, m, "alice", ua))
		clk.Advance(time.Minute)
	}
	loginAs(t, m, "bob", "desktop")
	devices, err := m.Sessions(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	var agents []string
	for i, d := range devices {
		agents = append(agents, d.UserAgent)
		if d.Addr != "192.0.2.7" || !d.Created.Equal(time.Unix(1_700_000_000, 0).Add(time.Duration(i)*time.Minute)) {
			t.Errorf("device %d: %+v", i, d)
		}
		if d.Handle != visit(t, m, tokens[i]).Handle() || strings.Contains(tokens[i], d.Handle) {
			t.Errorf("device %d: handle %q is not the session's, or holds its id", i, d.Handle)
		}
		if again, err := m.Load(context.Background(), d.Handle); err != nil || !again.IsNew() {
			t.Errorf("a handle opened a session")
		}
	}
	if !slices.Equal(agents, []string{"phone", "laptop", "tablet"}) {
		t.Errorf("user agents %q, want the three logins in order", agents)
	}
}

func TestRevoke(t *testing.T) {
	ctx := context.Background()
	m := newUsersManager(t)
	phone, laptop, tablet := loginAs(t, m, "alice", "phone"), loginAs(t, m, "alice", "laptop"), loginAs(t, m, "alice", "tablet")
	bob := loginAs(t, m, "bob", "desktop")
	current := visit(t, m, laptop)

	if err := m.Revoke(ctx, "alice", "no-such-handle"); !errors.Is(err, core.ErrUnknownSession) {
		t.Errorf("Revoke of an unknown handle = %v, want ErrUnknownSession", err)
	}
	if err := m.Revoke(ctx, "bob", current.Handle()); !errors.Is(err, core.ErrUnknownSession) {
		t.Errorf("bob revoked alice's session: %v", err)
	}
	if err := m.Revoke(ctx, "alice", visit(t, m, phone).Handle()); err != nil {
		t.Fatal(err)
	}
	if s := visit(t, m, phone); !s.IsNew() || s.Reason() != core.Revoked {
		t.Errorf("the revoked phone: new %v, reason %v; want a new session because Revoked", s.IsNew(), s.Reason())
	}
	if s := visit(t, m, phone); s.Reason() != core.Revoked {
		t.Errorf("the revoked phone's second request: reason %v, want Revoked until it has a new session", s.Reason())
	}
	ex := serve(t, m, phone, "192.0.2.7:1", func(s *core.Session) { s.Set("cart", "new") })
	if s := visit(t, m, ex.setCookie("session").Value); s.Reason() != core.NotNew {
		t.Errorf("the phone's new session: reason %v", s.Reason())
	}

	n, err := m.RevokeAll(ctx, "alice", current.Handle())
	if err != nil || n != 1 {
		t.Fatalf("RevokeAll but the laptop = %d, %v; want 1 (the tablet)", n, err)
	}
	if s := visit(t, m, tablet); s.Reason() != core.Revoked {
		t.Errorf("tablet after log out elsewhere: reason %v", s.Reason())
	}
	if s := visit(t, m, laptop); s.IsNew() {
		t.Error("the current session was ended by RevokeAll")
	}
	if n, err := m.RevokeAll(ctx, "alice", ""); err != nil || n != 1 {
		t.Fatalf("RevokeAll = %d, %v; want the laptop", n, err)
	}
	if s := visit(t, m, laptop); s.Reason() != core.Revoked {
		t.Errorf("laptop after RevokeAll: reason %v", s.Reason())
	}
	if devices, _ := m.Sessions(ctx, "alice"); len(devices) != 0 {
		t.Errorf("alice still lists %v", devices)
	}
	if s := visit(t, m, bob); s.IsNew() {
		t.Error("bob was logged out with alice")
	}
}

// "Log out everywhere" reaches every Manager that shares the Backend: a
// user's web cookie session and API token session end together.
func TestRevokeAcrossManagers(t *testing.T) {
	ctx := context.Background()
	web := newUsersManager(t)
	api := core.NewManager(web.Backend)
	api.KeyPrefix, api.Cookie.Name = "api:", "api"
	w, a := loginAs(t, web, "alice", "browser"), loginAs(t, api, "alice", "app")
	if devices, err := web.Sessions(ctx, "alice"); err != nil || len(devices) != 2 {
		t.Fatalf("Sessions = %v, %v; want the web and the API session", devices, err)
	}
	if n, err := web.RevokeAll(ctx, "alice", ""); err != nil || n != 2 {
		t.Fatalf("RevokeAll = %d, %v", n, err)
	}
	if visit(t, web, w).Reason() != core.Revoked || visit(t, api, a).Reason() != core.Revoked {
		t.Error("a session survived log out everywhere")
	}
}

func TestMaxSessionsPerUser(t *testing.T) {
	m := newUsersManager(t)
	m.MaxSessionsPerUser = 2
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	core.SetClock(m, clk.Now)
	var tokens []string
	for _, ua := range []string{"first", "second", "third"} {
		tokens = append(tokens, loginAs(t, m, "alice", ua))
		clk.Advance(time.Second)
	}
	if s := visit(t, m, tokens[0]); s.Reason() != core.Revoked {
		t.Errorf("the oldest login: reason %v, want Revoked by the cap", s.Reason())
	}
	for _, tok := range tokens[1:] {
		if visit(t, m, tok).IsNew() {
			t.Error("a login within the cap was ended")
		}
	}
	devices, _ := m.Sessions(context.Background(), "alice")
	if len(devices) != 2 || devices[0].UserAgent != "second" || devices[1].UserAgent != "third" {
		t.Errorf("devices %+v, want second and third", devices)
	}
}

// Regenerate keeps the owner and the device's history; Destroy and a
// change of owner take the session out of the index.
func TestIndexFollowsTheSession(t *testing.T) {
	ctx := context.Background()
	m := newUsersManager(t)
	tok := loginAs(t, m, "alice", "phone")
	before, _ := m.Sessions(ctx, "alice")
	ex := serve(t, m, tok, "192.0.2.8:1", func(s *core.Session) { s.Regenerate() })
	after, _ := m.Sessions(ctx, "alice")
	if len(before) != 1 || len(after) != 1 || after[0].Handle == before[0].Handle || !after[0].Created.Equal(before[0].Created) || after[0].UserAgent != "phone" {
		t.Fatalf("after Regenerate: %+v, before %+v; want the same device under a new handle", after, before)
	}
	tok = ex.setCookie("session").Value
	if got := visit(t, m, tok).Owner(); got != "alice" {
		t.Errorf("owner after Regenerate = %q", got)
	}
	serve(t, m, tok, "192.0.2.7:1", func(s *core.Session) { s.SetOwner("bob") })
	if a, _ := m.Sessions(ctx, "alice"); len(a) != 0 {
		t.Errorf("alice still lists %v after the session changed owner", a)
	}
	if b, _ := m.Sessions(ctx, "bob"); len(b) != 1 {
		t.Errorf("bob lists %v", b)
	}
	serve(t, m, tok, "192.0.2.7:1", func(s *core.Session) { s.Destroy() })
	if b, _ := m.Sessions(ctx, "bob"); len(b) != 0 {
		t.Errorf("bob lists %v after logout", b)
	}
	if s := visit(t, m, "").Owner(); s != "" {
		t.Errorf("a new session has owner %q", s)
	}
}

// A request in flight on a session that is revoked meanwhile writes
// nothing back: the revocation holds.
func TestRevocationInFlightRevivesNothing(t *testing.T) {
	ctx := context.Background()
	m := newUsersManager(t)
	m.ErrorHandler = func(context.Context, error) {}
	tok := loginAs(t, m, "alice", "phone")
	ex := newExchange("192.0.2.7:1")
	ex.cookies["session"] = tok
	r := m.Begin(ex)
	s, err := r.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.RevokeAll(ctx, "alice", ""); err != nil {
		t.Fatal(err)
	}
	s.Set("cart", "full")
	if err := r.Commit(ctx); !errors.Is(err, core.ErrInterrupted) {
		t.Fatalf("Commit of a revoked session = %v, want ErrInterrupted", err)
	}
	if got := visit(t, m, tok); got.Reason() != core.Revoked {
		t.Errorf("after the in-flight save: reason %v, want Revoked", got.Reason())
	}
}

// Concurrent logins of one user all make it into the index.
func TestConcurrentLoginsAreAllListed(t *testing.T) {
	m := newUsersManager(t)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			loginAs(t, m, "alice", fmt.Sprint("client ", i))
		}()
	}
	wg.Wait()
	if devices, err := m.Sessions(context.Background(), "alice"); err != nil || len(devices) != 20 {
		t.Fatalf("Sessions = %d devices, %v; want 20", len(devices), err)
	}
}

func TestReasons(t *testing.T) {
	m := newUsersManager(t)
	m.ErrorHandler = func(context.Context, error) {}
	tok := loginAs(t, m, "alice", "phone")
	gone := loginAs(t, m, "alice", "laptop")
	serve(t, m, gone, "192.0.2.7:1", func(s *core.Session) { s.Destroy() })
	for name, c := range map[string]struct {
		token string
		want  core.Reason
	}{
		"a stored session":  {tok, core.NotNew},
		"no token":          {"", core.FirstVisit},
		"a logged-out one":  {gone, core.Expired},
		"a malformed token": {"not an id", core.InvalidToken},
	} {
		if got := visit(t, m, c.token).Reason(); got != c.want {
			t.Errorf("%s: Reason = %v, want %v", name, got, c.want)
		}
	}
}

func TestEvents(t *testing.T) {
	checkLifeEvents(t, newUsersManager(t))
}

// A backend without conditional writes reports the same events.
func TestEventsOfBlindWrites(t *testing.T) {
	m := core.NewManager(backendtest.Plain(backendtest.NewRecorder(t)))
	m.ErrorHandler = func(context.Context, error) {} // that it is not Conditional
	checkLifeEvents(t, m)
}

// checkLifeEvents runs a login, a write, a logout and a visit with the
// dead token through m, and checks the events they report.
func checkLifeEvents(t *testing.T, m *core.Manager) {
	t.Helper()
	var events []string
	var handles []string
	m.OnEvent = func(_ context.Context, e core.Event) {
		events = append(events, e.Kind.String()+" "+e.Owner)
		handles = append(handles, e.Handle)
	}
	tok := loginAs(t, m, "alice", "phone")
	ex := serve(t, m, tok, "192.0.2.7:1", func(s *core.Session) { s.Set("n", 1) })
	tok = ex.setCookie("session").Value
	serve(t, m, tok, "192.0.2.7:1", func(s *core.Session) { s.Destroy() })
	visit(t, m, tok)
	want := []string{"created alice", "loaded alice", "saved alice", "loaded alice", "destroyed alice", "expired "}
	if !slices.Equal(events, want) {
		t.Errorf("events %q, want %q", events, want)
	}
	for i, h := range handles {
		if h == "" || strings.Contains(tok, h) || i > 0 && i < 5 && h != handles[1] {
			t.Errorf("event %d (%s) has handle %q: want the session's handle, never its id", i, events[i], h)
		}
	}
}

// LastSeen moves when the device writes (at most once a minute) or its
// idle session is extended (at most once a TouchInterval); a read alone
// costs no write.
func TestLastSeen(t *testing.T) {
	ctx := context.Background()
	m := newUsersManager(t)
	m.IdleTimeout, m.TouchInterval = time.Hour, 10*time.Minute
	start := time.Unix(1_700_000_000, 0)
	clk := &clock{now: start}
	core.SetClock(m, clk.Now)
	tok := loginAs(t, m, "alice", "phone")
	seen := func() time.Time {
		d, err := m.Sessions(ctx, "alice")
		if err != nil || len(d) != 1 {
			t.Fatalf("Sessions = %v, %v", d, err)
		}
		return d[0].LastSeen
	}
	clk.Advance(2 * time.Minute)
	serve(t, m, tok, "192.0.2.7:1", func(s *core.Session) { s.Set("n", 1) })
	if got := seen(); !got.Equal(start.Add(2 * time.Minute)) {
		t.Errorf("after a write: LastSeen %v, want %v", got, start.Add(2*time.Minute))
	}
	clk.Advance(time.Minute)
	visit(t, m, tok) // within TouchInterval of the write: no touch
	if got := seen(); !got.Equal(start.Add(2 * time.Minute)) {
		t.Errorf("after a read: LastSeen %v, want it unchanged", got)
	}
	clk.Advance(20 * time.Minute)
	visit(t, m, tok) // due for a touch
	if got := seen(); !got.Equal(start.Add(23 * time.Minute)) {
		t.Errorf("after a touch: LastSeen %v, want %v", got, start.Add(23*time.Minute))
	}
}

// The events a save under contention, a regeneration and a revocation
// report; a handle in each, an id in none.
func TestEventsOfConflictsAndRevocations(t *testing.T) {
	ctx := context.Background()
	m := newUsersManager(t)
	m.ErrorHandler = func(context.Context, error) {}
	var kinds []string
	m.OnEvent = func(_ context.Context, e core.Event) {
		if e.Kind != core.EventLoaded {
			kinds = append(kinds, e.Kind.String())
		}
	}
	tok := loginAs(t, m, "alice", "phone")
	tok = serve(t, m, tok, "192.0.2.7:1", func(s *core.Session) { s.Regenerate() }).setCookie("session").Value

	// Two requests of one session: the second to save finds the first's
	// write and retries.
	first, second := newExchange("192.0.2.7:1"), newExchange("192.0.2.7:1")
	first.cookies["session"], second.cookies["session"] = tok, tok
	r1, r2 := m.Begin(first), m.Begin(second)
	s1, _ := r1.Session(ctx)
	s2, _ := r2.Session(ctx)
	s1.Set("a", 1)
	s2.Set("b", 2)
	if err := r1.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r2.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	r3 := m.Begin(first)
	s3, _ := r3.Session(ctx)
	if _, err := m.RevokeAll(ctx, "alice", ""); err != nil {
		t.Fatal(err)
	}
	s3.Set("c", 3)
	if err := r3.Commit(ctx); !errors.Is(err, core.ErrInterrupted) {
		t.Fatalf("Commit after revocation = %v", err)
	}
	// The revoked session's save conflicts with the tombstone first, then
	// finds it and gives up.
	want := []string{"created", "regenerated", "saved", "conflict", "saved", "revoked", "conflict", "interrupted"}
	if !slices.Equal(kinds, want) {
		t.Errorf("events %q, want %q", kinds, want)
	}
}

// A tombstone is known whatever the codec adds to what it decodes: the
// Django codec makes every session permanent.
func TestRevokedDjangoSession(t *testing.T) {
	m, err := core.NewDjangoManager(newUsersManager(t).Backend, "django-insecure-a-secret-key-of-fifty-characters")
	if err != nil {
		t.Fatal(err)
	}
	tok := loginAs(t, m, "7", "phone")
	if n, err := m.RevokeAll(context.Background(), "7", ""); err != nil || n != 1 {
		t.Fatalf("RevokeAll = %d, %v", n, err)
	}
	if s := visit(t, m, tok); s.Reason() != core.Revoked || s.Len() != 0 {
		t.Errorf("a revoked Django session: reason %v, keys %v", s.Reason(), s.Keys())
	}
}

// Cookie sessions live only in their client: there is nothing to list or
// revoke, which the Manager says rather than pretend.
func TestCookieSessionsHaveNoIndex(t *testing.T) {
	m, err := core.NewCookieManager("a secret of at least thirty-two bytes!")
	if err != nil {
		t.Fatal(err)
	}
	loginAs(t, m, "alice", "phone")
	ctx := context.Background()
	if _, err := m.Sessions(ctx, "alice"); !errors.Is(err, core.ErrNoBackend) {
		t.Errorf("Sessions = %v, want ErrNoBackend", err)
	}
	if _, err := m.RevokeAll(ctx, "alice", ""); !errors.Is(err, core.ErrNoBackend) {
		t.Errorf("RevokeAll = %v, want ErrNoBackend", err)
	}
	if err := m.Revoke(ctx, "alice", "h"); !errors.Is(err, core.ErrNoBackend) {
		t.Errorf("Revoke = %v, want ErrNoBackend", err)
	}
}
