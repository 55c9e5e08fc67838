package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/internal/demo"
)

// tokenKeeper is the http.RoundTripper of an API client that keeps its
// session token itself, in the header a transport names, and never a
// cookie: it sends the token it holds, keeps a new one a response hands
// out, and fails the test when a cookie travels.
type tokenKeeper struct {
	t     *testing.T
	token string
	send  func(h http.Header, token string)
}

func (k *tokenKeeper) RoundTrip(req *http.Request) (*http.Response, error) {
	if k.token != "" {
		req = req.Clone(req.Context()) // a RoundTripper leaves the caller's request alone
		k.send(req.Header, k.token)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if sc := res.Header.Values("Set-Cookie"); len(sc) > 0 {
		k.t.Errorf("%s %s set cookies %q", req.Method, req.URL.Path, sc)
	}
	if v, ok := res.Header[core.DefaultTokenHeader]; ok {
		k.token = v[0]
	}
	return res, nil
}

// tokenClient returns a client of base that keeps its token in k.
func tokenClient(t *testing.T, base string, k *tokenKeeper) *client {
	return &client{t: t, base: base, http: &http.Client{Transport: k}}
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
				k := &tokenKeeper{t: t, send: send}
				c := tokenClient(t, serveDemo(t, demo.Config{Framework: fw, Transport: name}, store), k)
				c.do("PUT", "/api/session/k", `"v"`, 204)
				first := k.token
				if first == "" {
					t.Fatal("the first write handed out no token")
				}
				if body, _ := c.do("GET", "/api/session", "", 200); body != `{"k":"v"}` {
					t.Errorf("/api/session with the token = %s", body)
				}
				if body, _ := c.do("POST", "/api/incr/n", "", 200); body != "1" {
					t.Errorf("incr = %q", body)
				}
				c.do("POST", "/api/login", `{"user":"alice"}`, 204)
				if k.token == first {
					t.Error("login kept the token")
				}
				if body, _ := c.do("GET", "/api/session", "", 200); !strings.Contains(body, `"user":"alice"`) {
					t.Errorf("/api/session after login = %s", body)
				}
				c.do("POST", "/api/logout", "", 204)
				if k.token != "" {
					t.Errorf("after logout the client holds token %q, want it told to drop it", k.token)
				}
				stale := tokenClient(t, c.base, &tokenKeeper{t: t, token: first, send: send})
				if body, _ := stale.do("GET", "/api/session", "", 200); body != "{}" {
					t.Errorf("the first token after login = %s, want nothing", body)
				}
			})
		}
	}
}

func TestDemoUnknownTransport(t *testing.T) {
	if _, err := demo.NewManager(demo.Config{Preset: "none", Protect: "off", Transport: "query"}, memory.New(memory.Options{}), nil); err == nil {
		t.Error("-transport query was accepted")
	}
}
