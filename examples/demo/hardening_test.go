package main

import (
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/internal/demo"
)

// A secret shorter than 32 bytes stops the demo at start, with the flag
// that accepts it named, unless that flag is given.
func TestDemoRefusesWeakSecrets(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, backend := range []string{"cookie", "memory", "django"} {
		c := demo.Config{Backend: backend, Preset: "none", Protect: "off", Secret: "q"}
		if _, err := demo.NewManager(c, memory.New(memory.Options{}), log); err == nil || !strings.Contains(err.Error(), "-allow-weak-secret") {
			t.Errorf("-backend %s -secret q: %v, want a refusal naming -allow-weak-secret", backend, err)
		}
		c.AllowWeakSecret = true
		if _, err := demo.NewManager(c, memory.New(memory.Options{}), log); err != nil {
			t.Errorf("-backend %s -secret q -allow-weak-Secret: %v", backend, err)
		}
	}
}

// "-secret 'new, old'" rotates to "old": a cookie signed with old still
// opens its session.
func TestDemoSecretListIsTrimmed(t *testing.T) {
	if got, want := demo.SecretList(" new , old,, "), []string{"new", "old"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("secretList = %q, want %q", got, want)
	}
	const old, current = "the old secret of thirty-two bytes+", "the new secret of thirty-two bytes+"
	before := newClient(t, serveDemo(t, demo.Config{Framework: "nethttp", Backend: "cookie", Secret: old}, nil))
	before.do("PUT", "/api/session/k", `"v"`, 204)
	after := &client{t: t, base: serveDemo(t, demo.Config{Framework: "nethttp", Backend: "cookie", Secret: current + ", " + old}, nil), http: before.http}
	if body, _ := after.do("GET", "/api/session", "", 200); body != `{"k":"v"}` {
		t.Errorf("after rotating to %q: /api/session = %s, want the session signed with the old secret", current+", "+old, body)
	}
}

// -secure names the cookie with the __Host- prefix and marks it Secure.
func TestDemoSecureCookie(t *testing.T) {
	for _, fw := range frameworks {
		store := memory.New(memory.Options{})
		defer store.Close()
		c := newClient(t, serveDemo(t, demo.Config{Framework: fw, Secure: true}, store))
		_, h := c.do("PUT", "/api/session/k", `"v"`, 204)
		sc := h.Get("Set-Cookie")
		if !strings.HasPrefix(sc, "__Host-session=") || !strings.Contains(sc, "; Secure") || !strings.Contains(sc, "Path=/") || strings.Contains(sc, "Domain=") {
			t.Errorf("%s: Set-Cookie %q, want a Secure __Host-session cookie on / without Domain", fw, sc)
		}
	}
}

// The library owns _flashes: the demo's PUT may not forge a message.
func TestDemoFlashesAreReserved(t *testing.T) {
	store := memory.New(memory.Options{})
	defer store.Close()
	c := newClient(t, startDemo(t, "nethttp", store))
	c.do("PUT", "/api/session/_flashes", `[{" t":["message","You won!"]}]`, 400)
}

// One client gets its budget of new sessions a minute and then 429, while
// its existing session and other clients are served.
func TestDemoNewSessionsPerClient(t *testing.T) {
	for _, fw := range frameworks {
		store := memory.New(memory.Options{})
		defer store.Close()
		base := serveDemo(t, demo.Config{Framework: fw, NewSessionsPerClient: 5}, store)
		first := newClient(t, base)
		first.do("PUT", "/api/session/k", `"v"`, 204)
		for range 4 {
			newClient(t, base).do("PUT", "/api/session/k", `"v"`, 204)
		}
		body, _ := newClient(t, base).do("PUT", "/api/session/k", `"v"`, http.StatusTooManyRequests)
		if store.Len() != 5 {
			t.Errorf("%s: %d sessions stored, want the 5 of the budget (429 body %q)", fw, store.Len(), body)
		}
		first.do("PUT", "/api/session/k2", `"v2"`, 204)
		first.do("POST", "/api/login", `{"user":"alice"}`, 204)
		if body, _ := first.do("GET", "/api/session", "", 200); !strings.Contains(body, `"user":"alice"`) {
			t.Errorf("%s: the budget held back a client's own session: %s", fw, body)
		}
	}
}
