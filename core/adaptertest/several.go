package adaptertest

import (
	"net/http"
	"testing"

	"github.com/cloakroom/cloakroom/core"
)

// several serves two Managers over one backend: the test's, and a second
// one whose cookie and keys are called flash.
func several(m *core.Manager) []*core.Manager {
	flash := core.NewManager(m.Backend)
	flash.Cookie.Name, flash.KeyPrefix = "flash", "flash:"
	flash.StaticSessions = true
	return []*core.Manager{m, flash}
}

// testSeveral: each Manager has its own session in a request, the default
// accessor returns the first one's, and one Manager's session never
// shadows another's.
func testSeveral(t *testing.T, e *env) {
	flash := e.ms[1]
	r := e.get("/set-all?k=a&v=1", "")
	login, second := r.cookie(e.m.Cookie.Name), r.cookie(flash.Cookie.Name)
	if r.status != 200 || login == nil || second == nil || login.Value == second.Value {
		t.Fatalf("/set-all = %d with cookies %q, want one of each Manager's", r.status, r.header.Values("Set-Cookie"))
	}
	e.wantCalls("set", "set")
	if !r.varies() {
		t.Errorf("Vary = %q, want Cookie once", r.header.Values("Vary"))
	}
	both := http.Header{"Cookie": {login.String() + "; " + second.String()}}
	for _, path := range []string{"/set?k=b&v=main", "/set?k=b&v=flash&slot=1"} {
		if r, err := e.fetchWith(path, both); err != nil || r.status != 200 {
			t.Fatalf("%s = %v, %v", path, r, err)
		}
	}
	e.wantCalls("get", "set", "get", "set")
	for path, want := range map[string]string{
		"/get?k=b": "main", "/get?k=b&slot=0": "main", "/get?k=b&slot=1": "flash", "/get?k=a&slot=1": "1",
	} {
		if r, err := e.fetchWith(path, both); err != nil || r.body != want {
			t.Errorf("%s = %q, %v; want %q", path, r.body, err, want)
		}
	}
	if r := e.get("/foreign?k=a", login.Value); r.status != 200 || r.body != "1" {
		t.Errorf("/foreign = %d %q", r.status, r.body)
	}
	// The first Manager lets static paths pass; its slot stays its own.
	for path, want := range map[string]string{"/static/a?k=a": "no session", "/static/a?k=a&slot=1": "1"} {
		if r, err := e.fetchWith(path, both); err != nil || r.body != want {
			t.Errorf("%s = %q, %v; want %q", path, r.body, err, want)
		}
	}
}

// testSameTwice: a Manager whose middleware runs twice on a route (app-wide
// and on a group) has one session, loaded and saved once.
func testSameTwice(t *testing.T, e *env) {
	r := e.get("/set?k=a&v=1", "")
	if n := len(r.header.Values("Set-Cookie")); n != 1 {
		t.Errorf("Set-Cookie = %q, want one cookie", r.header.Values("Set-Cookie"))
	}
	e.wantCalls("set")
	c := r.cookie(e.m.Cookie.Name)
	if c == nil {
		t.Fatal("no session cookie")
	}
	if r := e.get("/get?k=a&slot=1", c.Value); r.body != "1" {
		t.Errorf("/get = %q, want 1", r.body)
	}
	e.wantCalls("get")
}
