package core_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

func wantCalls(t *testing.T, b *backendtest.Recorder, want ...string) {
	t.Helper()
	if got := b.Calls(); !slices.Equal(got, want) {
		t.Fatalf("backend calls = %q, want %q", got, want)
	}
}

// exchange is a fake HTTP exchange for tests of Request.
type exchange struct {
	cookies map[string]string
	remote  string
	header  http.Header
	out     http.Header
}

func newExchange(remote string) *exchange {
	return &exchange{cookies: map[string]string{}, remote: remote, header: http.Header{}, out: http.Header{}}
}

func (e *exchange) RemoteAddr() string { return e.remote }

// RequestHeader joins the header's lines with commas, as adapters do; the
// cookies set in e.cookies come in a Cookie header of their own, after any
// in e.header.
func (e *exchange) RequestHeader(name string) string {
	values := e.header.Values(name)
	if name == "Cookie" {
		for _, k := range slices.Sorted(maps.Keys(e.cookies)) {
			values = append(values, k+"="+e.cookies[k])
		}
		return strings.Join(values, "; ")
	}
	return strings.Join(values, ",")
}
func (e *exchange) AddResponseHeader(name, value string) {
	e.out.Add(name, value)
}
func (e *exchange) ResponseHeader(name string) string { return strings.Join(e.out.Values(name), ", ") }
func (e *exchange) SetResponseHeader(name, value string) {
	e.out.Set(name, value)
}

// setCookie returns the cookie the exchange's response set, or nil.
func (e *exchange) setCookie(name string) *http.Cookie {
	for _, c := range (&http.Response{Header: e.out}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var errDown = errors.New("backend down")

// newCounting returns a Recorder for one test.
func newCounting(t *testing.T) *backendtest.Recorder { return backendtest.NewRecorder(t) }

// serve runs one request through m with the given cookie and client
// address, applying change to the session, and returns the exchange.
func serve(t *testing.T, m *core.Manager, cookie, remote string, change func(*core.Session)) *exchange {
	t.Helper()
	ex := newExchange(remote)
	if cookie != "" {
		ex.cookies[m.Cookie.Name] = cookie
	}
	r := m.Begin(ex)
	s, err := r.Session(context.Background())
	if err != nil {
		t.Fatalf("Session: %v", err)
	}
	if change != nil {
		change(s)
	}
	if err := r.Commit(context.Background()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return ex
}

// stored returns a session holding a=1, saved through m.
func stored(t *testing.T, m *core.Manager) *core.Session {
	t.Helper()
	s := m.New(context.Background())
	s.Set("a", 1)
	if _, err := m.Save(context.Background(), s); err != nil {
		t.Fatalf("Save: %v", err)
	}
	return s
}

// reloaded loads s again through m, as the next request would.
func reloaded(t *testing.T, m *core.Manager, s *core.Session) *core.Session {
	t.Helper()
	again, err := m.Load(context.Background(), s.ID())
	if err != nil || again.IsNew() {
		t.Fatalf("Load = new %v, %v", again != nil && again.IsNew(), err)
	}
	return again
}
