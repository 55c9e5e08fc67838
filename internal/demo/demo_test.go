package demo

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core/codec"
)

// serve runs the demo as the command line c would, on a loopback port until
// the test ends, and returns a client with a cookie jar and the base URL.
func serve(t *testing.T, c Config) (*http.Client, string) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	backend, closeBackend, err := OpenBackend(context.Background(), c, Extensions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeBackend)
	_, srv, err := New(c, backend, log, Extensions{})
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
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}, "http://" + ln.Addr().String()
}

// call sends a request and checks its status; it returns the body.
func call(t *testing.T, c *http.Client, method, url, body string, want int) string {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s = %d %q, want %d", method, url, res.StatusCode, b, want)
	}
	return string(b)
}

// TestBuiltinBackends walks the page through a visit, a typed value, a
// login and a logout on each store the root module's demo has.
func TestBuiltinBackends(t *testing.T) {
	for _, c := range []Config{
		{Backend: "memory"},
		{Backend: "filesystem", DSN: filepath.Join(t.TempDir(), "sessions")},
		{Backend: "cookie", Secret: "a cookie secret that is 32+ bytes long"},
	} {
		t.Run(c.Backend, func(t *testing.T) {
			client, base := serve(t, c)
			page := call(t, client, "GET", base+"/", "", 200)
			for _, want := range []string{"Served by <strong>nethttp</strong> with the <strong>" + c.Backend + "</strong> backend", "a cookie named session (Path=/; HttpOnly", `rel="icon"`} {
				if !strings.Contains(page, want) {
					t.Errorf("the first page lacks %q", want)
				}
			}
			call(t, client, "GET", base+"/static/favicon.svg", "", 200)

			call(t, client, "PUT", base+"/api/session/pair", `{" t": [1, "two"]}`, 204)
			if page := call(t, client, "GET", base+"/", "", 200); !strings.Contains(page, `<td class="type">tuple`) {
				t.Errorf("the page does not call a tuple a tuple:\n%s", page)
			}

			call(t, client, "POST", base+"/api/login", `{"user": "ada"}`, 204)
			if page := call(t, client, "GET", base+"/", "", 200); strings.Count(page, `class="flash`) != 1 || !strings.Contains(page, LoginFlash("ada")) {
				t.Errorf("the page after login does not show its one flash:\n%s", page)
			}
			if page := call(t, client, "GET", base+"/", "", 200); strings.Contains(page, `class="flash`) {
				t.Errorf("the login flash shows twice:\n%s", page)
			}

			call(t, client, "POST", base+"/api/logout", "", 204)
			page = call(t, client, "GET", base+"/", "", 200)
			if !strings.Contains(page, "You are logged out.") || strings.Contains(page, `id="user"`) || strings.Contains(page, "pair") {
				t.Errorf("the page after logout should confirm it and hold nothing of the old session:\n%s", page)
			}
		})
	}
}

// TestExamplesDecodeToTheirType checks that every value the page suggests
// decodes to the type it is listed under.
func TestExamplesDecodeToTheirType(t *testing.T) {
	for _, e := range examples {
		v, err := codec.UnmarshalTagged([]byte(e.Input))
		if err != nil {
			t.Errorf("%s example %s: %v", e.Type, e.Input, err)
			continue
		}
		if got := typeName(v); got != e.Type {
			t.Errorf("%s decodes to %T, which the page calls %q, not %q", e.Input, v, got, e.Type)
		}
	}
}

func TestHeaderTransportHasNoCookie(t *testing.T) {
	client, base := serve(t, Config{Transport: "header"})
	if page := call(t, client, "GET", base+"/", "", 200); !strings.Contains(page, "a request header, with no cookie") {
		t.Errorf("the page does not say the token travels in a header:\n%s", page)
	}
}

func TestCookieBackendNeedsSecret(t *testing.T) {
	_, err := NewManager(Config{Backend: "cookie"}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "-secret") {
		t.Errorf("-backend cookie without -secret: err = %v, want one that asks for -secret", err)
	}
}
