package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
	fiber3 "github.com/gofiber/fiber/v3"
)

// TestAdapters counts visits through every adapter, on the memory backend,
// each with its framework's own way of serving a request in process.
func TestAdapters(t *testing.T) {
	store := memory.New(memory.Options{})
	defer store.Close()
	const timeout = 10 * time.Second
	for _, tc := range []struct {
		name  string
		serve func(*core.Manager) client
	}{
		{"net/http", func(m *core.Manager) client { return handlerClient(newNetHTTP(m)) }},
		{"gin", func(m *core.Manager) client { return handlerClient(newGin(m)) }},
		{"echo", func(m *core.Manager) client { return handlerClient(newEcho(m)) }},
		{"echo5 with a header token", func(m *core.Manager) client {
			m.Transport = core.HeaderTransport("")
			return handlerClient(newEcho5(m))
		}},
		{"fiber", func(m *core.Manager) client {
			app := newFiber(m)
			return func(req *http.Request) (*http.Response, error) {
				return app.Test(req, int(timeout/time.Millisecond))
			}
		}},
		{"fiber3", func(m *core.Manager) client {
			app := newFiber3(m)
			return func(req *http.Request) (*http.Response, error) {
				return app.Test(req, fiber3.TestConfig{Timeout: timeout, FailOnTimeout: true})
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantVisits(t, tc.serve(core.NewManager(store)), 3)
		})
	}
}
