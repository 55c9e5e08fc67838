package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
	"github.com/cloakroom/cloakroom/internal/demo"
)

// frameworks lists every -framework value; each must pass the same script.
var frameworks = []string{"nethttp", "gin", "echo", "echo5", "fiber", "fiber3"}

var errBroken = errors.New("store down")

// brokenBackend fails every call, like a store that is down.
func brokenBackend(t *testing.T) core.Backend {
	b := backendtest.NewRecorder(t)
	b.FailReads(errBroken)
	b.FailWrites(errBroken)
	return b
}

// startDemo serves the demo with framework and backend on a loopback port.
func startDemo(t *testing.T, framework string, backend core.Backend) string {
	return serveDemo(t, demo.Config{Framework: framework}, backend)
}

// serveDemo serves the demo as its command line c would, over backend, on a
// loopback port until the test ends.
func serveDemo(t *testing.T, c demo.Config, backend core.Backend) string {
	t.Helper()
	if c.Preset == "" {
		c.Preset = "none"
	}
	c.Protect = "off"
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	_, srv, err := demo.New(c, backend, log, extensions)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return "http://" + ln.Addr().String()
}

type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, http: &http.Client{Jar: jar}}
}

// do sends a request and checks its status; it returns the body and headers.
func (c *client) do(method, path, body string, wantStatus int) (string, http.Header) {
	c.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != wantStatus {
		c.t.Fatalf("%s %s = %d %q, want %d", method, path, res.StatusCode, b, wantStatus)
	}
	return string(b), res.Header
}

func TestDemoRoutes(t *testing.T) {
	for _, fw := range frameworks {
		t.Run(fw, func(t *testing.T) {
			store := memory.New(memory.Options{})
			defer store.Close()
			c := newClient(t, startDemo(t, fw, store))

			if body, h := c.do("GET", "/healthz", "", 200); body != "ok\n" || h.Get("Set-Cookie") != "" {
				t.Errorf("/healthz = %q, Set-Cookie %q", body, h.Get("Set-Cookie"))
			}
			if body, h := c.do("GET", "/api/session", "", 200); body != "{}" || h.Get("Set-Cookie") != "" {
				t.Errorf("/api/session on no session = %q, Set-Cookie %q; want {} and nothing created", body, h.Get("Set-Cookie"))
			}
			values := map[string]string{
				"cart": `{" t":[1,"two"]}`,
				"raw":  `{" b":"aGkA/w=="}`,
				"id":   `{" u":"12345678123456781234567812345678"}`,
				"when": `{" d":"Thu, 02 Jan 2020 03:04:05 GMT"}`,
				"name": `"J\u00fcrgen"`,
			}
			for k, v := range values {
				c.do("PUT", "/api/session/"+k, v, 204)
			}
			body, _ := c.do("GET", "/api/session", "", 200)
			want := `{"cart":{" t":[1,"two"]},"id":{" u":"12345678123456781234567812345678"},"name":"J\u00fcrgen","raw":{" b":"aGkA/w=="},"when":{" d":"Thu, 02 Jan 2020 03:04:05 GMT"}}`
			if body != want {
				t.Errorf("/api/session = %s\nwant %s", body, want)
			}
			for i, want := range []string{"1", "2"} {
				if body, _ := c.do("POST", "/api/incr/n", "", 200); body != want {
					t.Errorf("incr #%d = %q", i+1, body)
				}
			}
			c.do("POST", "/api/incr/cart", "", 409)
			c.do("DELETE", "/api/session/cart", "", 204)

			before := sessionCookie(c)
			c.do("POST", "/api/login", `{"user":"alice"}`, 204)
			if after := sessionCookie(c); after == before || after == "" {
				t.Errorf("login kept the session id %q", before)
			}
			page, h := c.do("GET", "/", "", 200)
			for _, s := range []string{"Logged in as <strong>alice</strong>", demo.LoginFlash("alice"), "Visits in this session: <strong>1</strong>", `href="/static/style.css"`} {
				if !strings.Contains(page, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			if !strings.Contains(h.Get("Vary"), "Cookie") {
				t.Errorf("page Vary = %q", h.Get("Vary"))
			}
			if page, _ := c.do("GET", "/", "", 200); strings.Contains(page, demo.LoginFlash("alice")) {
				t.Error("the flash message showed twice")
			}
			if css, h := c.do("GET", "/static/style.css", "", 200); !strings.Contains(css, "body") || h.Get("Set-Cookie") != "" {
				t.Errorf("static file: Set-Cookie %q", h.Get("Set-Cookie"))
			}
			loggedIn := sessionCookie(c)
			c.do("POST", "/api/logout", "", 204)
			if body, _ := c.do("GET", "/api/session", "", 200); body != `{"_flashes":[{" t":["message","You are logged out."]}]}` {
				t.Errorf("/api/session after logout = %q, want only the flash that confirms it", body)
			}
			// The page's "You are logged out." lives in a new session.
			if id := sessionCookie(c); id == "" || id == loggedIn {
				t.Errorf("after logout the cookie holds %q, want a new session's id (%q before)", id, loggedIn)
			}
		})
	}
}

func sessionCookie(c *client) string {
	req, _ := http.NewRequest("GET", c.base+"/", nil)
	for _, ck := range c.http.Jar.Cookies(req.URL) {
		if ck.Name == "session" {
			return ck.Value
		}
	}
	return ""
}

func TestDemoBadInput(t *testing.T) {
	for _, fw := range frameworks {
		t.Run(fw, func(t *testing.T) {
			store := memory.New(memory.Options{})
			defer store.Close()
			c := newClient(t, startDemo(t, fw, store))
			c.do("PUT", "/api/session/k", `{"unclosed`, 400)
			c.do("PUT", "/api/session/k", `{" t": 1}`, 400)
			c.do("PUT", "/api/session/k", `"`+strings.Repeat("a", 70_000)+`"`, 413)
			c.do("POST", "/api/login", `{"user": 1}`, 400)
			c.do("POST", "/api/login", `{"user": ""}`, 400)
			c.do("POST", "/api/login", ``, 400)
			c.do("POST", "/api/login", `{"user": "alice", "remember": "yes"}`, 400)
			c.do("POST", "/api/login", `{"user": "alice", "remember": 1}`, 400)
			c.do("GET", "/no/such/route", "", 404)
			c.do("POST", "/api/session", "", 405)
			c.do("GET", "/api/incr/n", "", 405)
			if body, _ := c.do("GET", "/api/session", "", 200); body != "{}" {
				t.Errorf("bad requests changed the session: %q", body)
			}
		})
	}
}

func TestDemoBackendDown(t *testing.T) {
	for _, fw := range frameworks {
		t.Run(fw, func(t *testing.T) {
			c := newClient(t, startDemo(t, fw, brokenBackend(t)))
			c.do("GET", "/healthz", "", 200)
			c.http.Jar.SetCookies(mustURL(c.base), []*http.Cookie{{Name: "session", Value: core.RandomID{}.NewID()}})
			c.do("GET", "/api/session", "", 503)
			c.do("PUT", "/api/session/k", `1`, 503)
			c.do("GET", "/", "", 503)
			// A new session cannot be saved either: the write fails loudly.
			c2 := newClient(t, c.base)
			c2.do("PUT", "/api/session/k", `1`, 503)
		})
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
