package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core/backendtest"
	"github.com/cloakroom/cloakroom/internal/demo"
)

// TestDemoFailsFastWhenItsStoreFreezes puts a TCP proxy that the test runs
// between the demo and its real Redis or PostgreSQL, and stalls it, as a
// frozen server or a black-holing network would: every request that needs
// the session must answer 503 within 2 seconds, 20 at a time too, and the
// demo must recover when the store does.
func TestDemoFailsFastWhenItsStoreFreezes(t *testing.T) {
	for _, tc := range []struct{ backend, target, dsn string }{
		{"redis", backendtest.Env("CLOAKROOM_REDIS_ADDR", "127.0.0.1:6379"), "redis://%s/0"},
		{"postgres", "127.0.0.1:5432", "postgres://postgres@%s/postgres?sslmode=disable"},
	} {
		t.Run(tc.backend, func(t *testing.T) {
			proxy := backendtest.StartProxy(t, tc.target)
			base := startConfigured(t, demo.Config{Framework: "nethttp", Backend: tc.backend, DSN: fmt.Sprintf(tc.dsn, proxy.Addr)})
			s := newShared(t, base)

			proxy.Stall()
			start := time.Now()
			backendtest.Parallel(t, 20, func(i int) error {
				method, path, body := "GET", "/api/session", ""
				if i%2 == 1 {
					method, path, body = "PUT", fmt.Sprintf("/api/session/k%d", i), "1"
				}
				status, _, err := s.send(method, path, body)
				if err == nil && status != http.StatusServiceUnavailable {
					err = fmt.Errorf("%s %s on a frozen %s = %d, want 503", method, path, tc.backend, status)
				}
				if d := time.Since(start); err == nil && d > 2*time.Second {
					err = fmt.Errorf("%s %s answered 503 after %v, want within 2s", method, path, d)
				}
				return err
			})
			t.Logf("20 requests on a frozen %s answered 503 within %v", tc.backend, time.Since(start).Round(time.Millisecond))

			proxy.Resume()
			deadline := time.Now().Add(10 * time.Second)
			for {
				status, _, err := s.send("GET", "/api/session", "")
				if err == nil && status == http.StatusOK {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the demo did not recover after the store did: %d, %v", status, err)
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}
