package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

// tokenClient is an API client that keeps its session token itself, in
// the header a transport names, and never a cookie.
type tokenClient struct {
	t           *testing.T
	base, token string
	send        func(h http.Header, token string)
}

// do sends a request with the token and checks its status and that no
// cookie travelled; it keeps a new token the response hands out.
func (c *tokenClient) do(method, path, body string, wantStatus int) string {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if c.token != "" {
		c.send(req.Header, c.token)
	}
	res, err := http.DefaultClient.Do(req) // no cookie jar
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != wantStatus {
		c.t.Fatalf("%s %s = %d %q, want %d", method, path, res.StatusCode, b, wantStatus)
	}
	if sc := res.Header.Values("Set-Cookie"); len(sc) > 0 {
		c.t.Errorf("%s %s set cookies %q", method, path, sc)
	}
	if v, ok := res.Header[core.DefaultTokenHeader]; ok {
		c.token = v[0]
	}
	return string(b)
}

// TestDemoTokenTransports drives the demo's API as a client without
// cookies would, on every framework, with the token in X-Session-Token
// (-transport header) and as a bearer token (-transport bearer).
func TestDemoTokenTransports(t *testing.T) {
	transports := map[string]func(h http.Header, token string){
		"header": func(h http.Header, token string) { h.Set(core.DefaultTokenHeader, token) },
		"bearer": func(h http.Header, token string) { h.Set("Authorization", "Bearer "+token) },
	}
	for _, fw := range frameworks {
		for name, send := range transports {
			t.Run(fw+"/"+name, func(t *testing.T) {
				store := memory.New(memory.Options{})
				defer store.Close()
				c := &tokenClient{t: t, base: serveDemo(t, config{framework: fw, transport: name}, store), send: send}
				c.do("PUT", "/api/session/k", `"v"`, 204)
				first := c.token
				if first == "" {
					t.Fatal("the first write handed out no token")
				}
				if body := c.do("GET", "/api/session", "", 200); body != `{"k":"v"}` {
					t.Errorf("/api/session with the token = %s", body)
				}
				if body := c.do("POST", "/api/incr/n", "", 200); body != "1" {
					t.Errorf("incr = %q", body)
				}
				c.do("POST", "/api/login", `{"user":"alice"}`, 204)
				if c.token == first {
					t.Error("login kept the token")
				}
				if body := c.do("GET", "/api/session", "", 200); !strings.Contains(body, `"user":"alice"`) {
					t.Errorf("/api/session after login = %s", body)
				}
				c.do("POST", "/api/logout", "", 204)
				if c.token != "" {
					t.Errorf("after logout the client holds token %q, want it told to drop it", c.token)
				}
				stale := &tokenClient{t: t, base: c.base, token: first, send: send}
				if body := stale.do("GET", "/api/session", "", 200); body != "{}" {
					t.Errorf("the first token after login = %s, want nothing", body)
				}
			})
		}
	}
}

func TestDemoUnknownTransport(t *testing.T) {
	if _, err := newManager(config{preset: "none", protect: "off", transport: "query"}, memory.New(memory.Options{}), nil); err == nil {
		t.Error("-transport query was accepted")
	}
}
