package core_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

// countingBackend is a memory backend that records the calls made to it and
// can be told to fail.
type countingBackend struct {
	*memory.Store
	mu    sync.Mutex
	calls []string
	err   error
}

func newCounting(t *testing.T) *countingBackend {
	s := memory.New(memory.Options{CleanupInterval: -1})
	t.Cleanup(func() { s.Close() })
	return &countingBackend{Store: s}
}

func (b *countingBackend) record(op, key string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, op+" "+key)
	return b.err
}

func (b *countingBackend) failWith(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.err = err
}

func (b *countingBackend) take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.calls
	b.calls = nil
	return c
}

func (b *countingBackend) Get(ctx context.Context, key string) ([]byte, error) {
	if err := b.record("get", key); err != nil {
		return nil, err
	}
	return b.Store.Get(ctx, key)
}

func (b *countingBackend) Set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	if err := b.record("set", key); err != nil {
		return err
	}
	return b.Store.Set(ctx, key, v, ttl)
}

func (b *countingBackend) Delete(ctx context.Context, key string) error {
	if err := b.record("delete", key); err != nil {
		return err
	}
	return b.Store.Delete(ctx, key)
}

func (b *countingBackend) Touch(ctx context.Context, key string, ttl time.Duration) error {
	if err := b.record("touch", key); err != nil {
		return err
	}
	return b.Store.Touch(ctx, key, ttl)
}

// plainBackend hides the Toucher of the backend it wraps.
type plainBackend struct{ core.Backend }

func wantCalls(t *testing.T, b *countingBackend, want ...string) {
	t.Helper()
	if got := b.take(); !slices.Equal(got, want) {
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

func (e *exchange) Cookie(name string) (string, bool) { v, ok := e.cookies[name]; return v, ok }
func (e *exchange) RemoteAddr() string                { return e.remote }
func (e *exchange) RequestHeader(name string) string  { return e.header.Get(name) }
func (e *exchange) AddResponseHeader(name, value string) {
	e.out.Add(name, value)
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
