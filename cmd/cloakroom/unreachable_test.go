package main

import (
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core/backendtest"
)

// A server that does not answer fails the command within a couple of
// seconds, with one line on stderr that shows no password.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	const password = "s3cret-Passw0rd"
	for _, c := range []struct {
		backend string
		dsn     func(addr string) string
	}{
		{"redis", func(a string) string { return "redis://:" + password + "@" + a + "/0" }},
		{"memcached", func(a string) string { return a }},
		{"postgres", func(a string) string { return "postgres://postgres:" + password + "@" + a + "/app?sslmode=disable" }},
		{"mysql", func(a string) string { return "root:" + password + "@tcp(" + a + ")/app" }},
		{"mongodb", func(a string) string { return "mongodb://app:" + password + "@" + a + "/app" }},
		{"django", func(a string) string { return "postgres://postgres:" + password + "@" + a + "/app" }},
	} {
		t.Run(c.backend, func(t *testing.T) {
			t.Parallel()
			dsn := c.dsn(backendtest.ClosedAddr(t))
			r := cli(t, "-backend", c.backend, "-dsn", dsn, "-secret", "a-django-secret-key", "list")
			if r.code != 1 {
				t.Errorf("exit %d, want 1; stderr %q", r.code, r.stderr)
			}
			if got := lines(r.stderr); len(got) != 1 || !strings.HasPrefix(got[0], "cloakroom: ") {
				t.Errorf("stderr %q, want one line", r.stderr)
			}
			if strings.Contains(r.stderr, password) || r.stdout != "" {
				t.Errorf("stdout %q, stderr %q: want nothing on stdout and no password", r.stdout, r.stderr)
			}
			if r.took > 3*time.Second {
				t.Errorf("took %v to fail", r.took)
			}
		})
	}

	// The same through $CLOAKROOM_DSN, which keeps the password out of the
	// process listing.
	dsn := "postgres://postgres:" + password + "@" + backendtest.ClosedAddr(t) + "/app"
	env := func(name string) string {
		if name == envDSN {
			return dsn
		}
		return ""
	}
	if r := cliEnv(t, env, "-backend", "postgres", "stats"); r.code != 1 || strings.Contains(r.stderr, password) {
		t.Errorf("$%s: exit %d, stderr %q", envDSN, r.code, r.stderr)
	}
}
