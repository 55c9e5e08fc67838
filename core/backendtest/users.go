package backendtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
)

// client is the least of an HTTP request the users check needs: a client
// address, a User-Agent and a session cookie.
type client struct {
	agent, cookie string
	out           http.Header
}

func (c *client) RemoteAddr() string { return "192.0.2.9:4000" }
func (c *client) RequestHeader(name string) string {
	switch name {
	case "User-Agent":
		return c.agent
	case "Cookie":
		if c.cookie != "" {
			return "session=" + c.cookie
		}
	}
	return ""
}
func (c *client) AddResponseHeader(name, value string) { c.out.Add(name, value) }
func (c *client) ResponseHeader(name string) string    { return strings.Join(c.out.Values(name), ", ") }
func (c *client) SetResponseHeader(name, value string) { c.out.Set(name, value) }

// request runs one request of c through m, calling f with its session, and
// keeps the cookie the response sets.
func (c *client) request(m *core.Manager, f func(*core.Session)) (*core.Session, error) {
	c.out = http.Header{}
	r := m.Begin(c)
	s, err := r.Session(context.Background())
	if err != nil {
		return nil, err
	}
	f(s)
	if err := r.Commit(context.Background()); err != nil {
		return s, err
	}
	for _, sc := range (&http.Response{Header: c.out}).Cookies() {
		if sc.Name == "session" {
			c.cookie = sc.Value
		}
	}
	return s, nil
}

// login logs c in as user.
func (c *client) login(t *testing.T, m *core.Manager, user string) {
	t.Helper()
	if _, err := c.request(m, func(s *core.Session) {
		s.Regenerate()
		s.Set("user", user)
		s.SetOwner(user)
	}); err != nil {
		t.Fatalf("login of %s: %v", c.agent, err)
	}
}

// reason returns why c's session is new on its next request.
func (c *client) reason(t *testing.T, m *core.Manager) core.Reason {
	t.Helper()
	s, err := c.request(m, func(*core.Session) {})
	if err != nil {
		t.Fatal(err)
	}
	return s.Reason()
}

// testUsers checks the index of a user's sessions over the backend:
// listing with device facts, revoking the others, all, or the oldest past
// a cap, across two Managers, and concurrent logins all listed.
func testUsers(t *testing.T, b core.Backend, prefix string) {
	ctx := context.Background()
	user := "user-" + randomHex(6) // the index is shared by every test run on the server
	m := core.NewManager(b)
	m.KeyPrefix = prefix
	m.ErrorHandler = func(context.Context, error) {}
	t.Cleanup(func() { _, _ = m.RevokeAll(ctx, user, "") })

	clients := []*client{{agent: "phone"}, {agent: "laptop"}, {agent: "tablet"}}
	for _, c := range clients {
		c.login(t, m, user)
	}
	devices, err := m.Sessions(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	var agents []string
	for _, d := range devices {
		agents = append(agents, d.UserAgent)
		if d.Addr != "192.0.2.9" || d.Handle == "" || d.Created.IsZero() {
			t.Errorf("device %+v", d)
		}
	}
	if strings.Join(agents, ",") != "phone,laptop,tablet" {
		t.Fatalf("Sessions lists %q, want the three logins", agents)
	}

	laptop, _ := clients[1].request(m, func(*core.Session) {})
	if n, err := m.RevokeAll(ctx, user, laptop.Handle()); err != nil || n != 2 {
		t.Fatalf("RevokeAll but the laptop = %d, %v; want 2", n, err)
	}
	for _, c := range []*client{clients[0], clients[2]} {
		if r := c.reason(t, m); r != core.Revoked {
			t.Errorf("%s after log out elsewhere: reason %v, want Revoked", c.agent, r)
		}
	}
	if r := clients[1].reason(t, m); r != core.NotNew {
		t.Errorf("the laptop itself: reason %v, want its session", r)
	}
	if n, err := m.RevokeAll(ctx, user, ""); err != nil || n != 1 {
		t.Fatalf("RevokeAll = %d, %v; want the laptop", n, err)
	}
	if r := clients[1].reason(t, m); r != core.Revoked {
		t.Errorf("the laptop after log out everywhere: reason %v", r)
	}

	capped := core.NewManager(b)
	capped.KeyPrefix, capped.MaxSessionsPerUser = prefix, 2
	capped.ErrorHandler = m.ErrorHandler
	first, second, third := &client{agent: "first"}, &client{agent: "second"}, &client{agent: "third"}
	for _, c := range []*client{first, second, third} {
		c.login(t, capped, user) // within one second: the index keeps their order
	}
	if r := first.reason(t, capped); r != core.Revoked {
		t.Errorf("the oldest of three logins under a cap of 2: reason %v, want Revoked", r)
	}
	if r := third.reason(t, capped); r != core.NotNew {
		t.Errorf("the newest login under the cap: reason %v", r)
	}
	if _, err := m.RevokeAll(ctx, user, ""); err != nil {
		t.Fatal(err)
	}

	// Two Managers (a web and an API session) log the user in 20 times at
	// once: every login is listed, and log out everywhere ends them all.
	// All 20 update one index, one after the other, which a slow store
	// (FerretDB, with a lease per write) does not finish within a save's
	// 2-second default bound: the check is that none is lost, so it gives
	// them time.
	api := core.NewManager(b)
	api.KeyPrefix, api.ErrorHandler = prefix+"api:", m.ErrorHandler
	m.BackendTimeout, api.BackendTimeout = time.Minute, time.Minute
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &client{agent: fmt.Sprint("client ", i)}
			if _, err := c.request([]*core.Manager{m, api}[i%2], func(s *core.Session) { s.SetOwner(user); s.Set("n", int64(i)) }); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent login: %v", err)
	}
	if devices, err := m.Sessions(ctx, user); err != nil || len(devices) != 20 {
		t.Errorf("after 20 concurrent logins over two Managers: %d listed, %v; want 20", len(devices), err)
	}
	if n, err := api.RevokeAll(ctx, user, ""); err != nil || n != 20 {
		t.Errorf("RevokeAll = %d, %v; want 20", n, err)
	}

	// A request in flight on a revoked session writes nothing back.
	c := &client{agent: "in flight"}
	c.login(t, m, user)
	r := m.Begin(c)
	s, err := r.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.RevokeAll(ctx, user, ""); err != nil {
		t.Fatal(err)
	}
	s.Set("cart", "full")
	if err := r.Commit(ctx); !errors.Is(err, core.ErrInterrupted) {
		t.Errorf("saving a session revoked in flight = %v, want ErrInterrupted", err)
	}
	if r := c.reason(t, m); r != core.Revoked {
		t.Errorf("after the in-flight save: reason %v, want Revoked", r)
	}
}
