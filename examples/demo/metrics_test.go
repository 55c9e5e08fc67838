package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/internal/demo"
)

// events reads the lifecycle event counts out of a /metrics page.
func events(t *testing.T, page string) map[string]float64 {
	t.Helper()
	counts := map[string]float64{}
	line := regexp.MustCompile(`^cloakroom_session_events_total\{(?:.*,)?event="([a-z_]+)"(?:,.*)?\} (\S+)$`)
	for l := range strings.SplitSeq(page, "\n") {
		if m := line.FindStringSubmatch(l); m != nil {
			v, err := strconv.ParseFloat(m[2], 64)
			if err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			counts[m[1]] += v
		}
	}
	return counts
}

// With -metrics, GET /metrics serves the sessions' metrics, the Go
// runtime's and the process's on every framework, and the event counts
// follow the requests; it never shows a session id or a user. Without it,
// /metrics is an unknown route.
func TestDemoMetrics(t *testing.T) {
	for _, fw := range frameworks {
		t.Run(fw, func(t *testing.T) {
			store := memory.New(memory.Options{})
			defer store.Close()
			c := newClient(t, serveDemo(t, demo.Config{Framework: fw, Metrics: true}, store))
			page, h := c.do("GET", "/metrics", "", 200)
			if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("/metrics Content-Type %q", ct)
			}
			for _, name := range []string{"go_goroutines ", "process_cpu_seconds_total "} {
				if !strings.Contains(page, name) {
					t.Errorf("/metrics lacks %q", name)
				}
			}
			if h.Get("Set-Cookie") != "" || sessionCookie(c) != "" {
				t.Error("/metrics started a session")
			}
			if !strings.Contains(page, "\ncloakroom_demo_sessions 0\n") {
				t.Error("/metrics does not count 0 stored sessions before the first")
			}
			before := events(t, page)

			const user = "metrics-user-7e21"
			c.do("PUT", "/api/session/k", `1`, 204) // created
			c.login(user)                           // loaded, regenerated
			for range 3 {
				c.do("GET", "/api/session", "", 200) // loaded
			}
			c.do("PUT", "/api/session/k", `2`, 204) // loaded, saved
			id := sessionCookie(c)

			page, _ = c.do("GET", "/metrics", "", 200)
			if !strings.Contains(page, "\ncloakroom_demo_sessions 1\n") { // the login replaced the first
				t.Error("/metrics does not count the 1 session stored")
			}
			after := events(t, page)
			for event, n := range map[string]float64{"created": 1, "regenerated": 1, "loaded": 5, "saved": 1} {
				if grown := after[event] - before[event]; grown < n {
					t.Errorf("%s events grew by %v, want at least %v (before %v, after %v)", event, grown, n, before, after)
				}
			}
			for _, s := range []string{
				"# TYPE cloakroom_session_events_total counter",
				"# TYPE cloakroom_step_duration_seconds histogram",
				`cloakroom_backend_duration_seconds_count{backend="memory",operation="get_version"}`,
				`cloakroom_backend_duration_seconds_count{backend="memory",operation="set_if"}`,
				`cloakroom_step_duration_seconds_count{step="load"}`,
				`cloakroom_session_size_bytes_count{backend="memory"}`,
			} {
				if !strings.Contains(page, s) {
					t.Errorf("/metrics lacks %s", s)
				}
			}
			if id == "" || strings.Contains(page, id) || strings.Contains(page, user) {
				t.Errorf("/metrics shows the session id %q or its user", id)
			}
		})
	}
}

func TestDemoNoMetrics(t *testing.T) {
	for _, fw := range frameworks {
		t.Run(fw, func(t *testing.T) {
			store := memory.New(memory.Options{})
			defer store.Close()
			c := newClient(t, startDemo(t, fw, store))
			c.do("GET", "/metrics", "", 404)
		})
	}
}
