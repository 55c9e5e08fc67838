package fibersession_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"

	fibersession "github.com/cloakroom/cloakroom/adapters/fiber"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/adaptertest"
)

func TestConformance(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, ms ...*core.Manager) string {
		// fasthttp's default 4 KiB read buffer answers 431 to the kit's
		// 4000-byte cookie before any handler runs.
		app := fiber.New(fiber.Config{DisableStartupMessage: true, ReadBufferSize: 8192})
		app.Use(recover.New())
		app.Use(func(c *fiber.Ctx) error {
			c.SetUserContext(adaptertest.Mark(c.UserContext()))
			return c.Next()
		})
		for _, m := range ms {
			app.Use(fibersession.New(fibersession.Config{Manager: m}))
		}
		app.All("/*", func(c *fiber.Ctx) error {
			query, err := url.ParseQuery(string(c.Request().URI().QueryString()))
			if err != nil {
				return err
			}
			adaptertest.Serve(c.Path(), query, ms, func(m *core.Manager) (*core.Session, error) {
				if m == nil {
					return fibersession.Get(c)
				}
				return fibersession.GetFor(c, m)
			}, writer{c})
			return nil
		})
		return serve(t, app)
	})
}

// writer is adaptertest's view of a Fiber response.
type writer struct{ c *fiber.Ctx }

func (w writer) WriteHeader(code int)        { w.c.Status(code) }
func (w writer) Write(p []byte) (int, error) { return w.c.Write(p) }

// serve runs app on a loopback listener until t ends and returns its base
// URL.
func serve(t *testing.T, app *fiber.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Listener(ln) }()
	t.Cleanup(func() {
		// fasthttp's Shutdown waits for every connection, also one the
		// client dialled but never used (its transport does that under
		// concurrent requests): close the client's idle ones first, and
		// bound the wait.
		http.DefaultClient.CloseIdleConnections()
		if err := app.ShutdownWithTimeout(5 * time.Second); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("listener: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// reports collects what a Manager hands its ErrorHandler.
type reports struct {
	mu   sync.Mutex
	errs []error
}

func (r *reports) handle(_ context.Context, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

func (r *reports) has(target error) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, err := range r.errs {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// newManager returns a Manager over a fresh memory store whose errors go
// to the returned reports.
func newManager(t *testing.T) (*core.Manager, *memory.Store, *reports) {
	store := memory.New(memory.Options{})
	t.Cleanup(func() { store.Close() })
	m := core.NewManager(store)
	rep := &reports{}
	m.ErrorHandler = rep.handle
	return m, store, rep
}
