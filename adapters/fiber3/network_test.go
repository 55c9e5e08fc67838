package fibersession_test

import (
	"io"
	"net/http"
	"net/netip"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v3"

	fibersession "github.com/cloakroom/cloakroom/adapters/fiber3"
	"github.com/cloakroom/cloakroom/core"
)

// get requests url over client with the given cookie and header lines.
func get(t *testing.T, client *http.Client, url string, cookie *http.Cookie, header http.Header) (string, *http.Response) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body), res
}

// TestSessionIDOutlivesRequestBuffer: fasthttp reuses a keep-alive
// connection's request buffer for the next request, so a session id that
// pointed into it would silently change to the next request's cookie.
func TestSessionIDOutlivesRequestBuffer(t *testing.T) {
	m, _, _ := newManager(t)
	app := newApp(m, fiber.Config{})
	var mu sync.Mutex
	var kept []*core.Session
	app.Get("/set", setA)
	app.Get("/keep", func(c fiber.Ctx) error {
		s, err := fibersession.Get(c)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		kept = append(kept, s)
		return nil
	})
	base := serve(t, app)
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	t.Cleanup(client.CloseIdleConnections)
	var ids []string
	for range 2 {
		_, res := get(t, client, base+"/set", nil, nil)
		ids = append(ids, res.Cookies()[0].Value)
	}
	for _, id := range ids {
		get(t, client, base+"/keep", &http.Cookie{Name: m.Cookie.Name, Value: id}, nil)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(kept) != len(ids) {
		t.Fatalf("%d sessions kept, want %d", len(kept), len(ids))
	}
	for i, s := range kept {
		if s.ID() != ids[i] {
			t.Errorf("session %d: id %q after the next request, want %q", i, s.ID(), ids[i])
		}
	}
}

// TestClientAddress: session protection reads the connection's peer and,
// behind trusted proxies, every X-Forwarded-For line.
func TestClientAddress(t *testing.T) {
	for name, tc := range map[string]struct {
		trusted []netip.Prefix
		want    string
	}{
		"peer":          {nil, "127.0.0.1"},
		"trusted proxy": {[]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, "198.51.100.7"},
	} {
		t.Run(name, func(t *testing.T) {
			m, _, _ := newManager(t)
			m.Protection = core.ProtectAddress
			m.TrustedProxies = tc.trusted
			app := newApp(m, fiber.Config{})
			app.Get("/addr", func(c fiber.Ctx) error {
				s, err := fibersession.Get(c)
				if err != nil {
					return err
				}
				addr, _ := s.GetString("_addr")
				return c.SendString(addr)
			})
			base := serve(t, app)
			// Two header lines: the proxy nearest us appended the second.
			xff := http.Header{"X-Forwarded-For": {"203.0.113.1", "198.51.100.7"}}
			if body, _ := get(t, http.DefaultClient, base+"/addr", nil, xff); body != tc.want {
				t.Errorf("client address = %q, want %q", body, tc.want)
			}
		})
	}
}

// TestHeaderTransportOverTheNetwork: a header transport's token reaches
// the client in the response header and comes back in the request's,
// through two Managers that each use their own header.
func TestHeaderTransportOverTheNetwork(t *testing.T) {
	api, _, _ := newManager(t)
	api.Transport = core.BearerTransport()
	device, _, _ := newManager(t)
	device.Transport = core.HeaderTransport("X-Device-Token")
	app := fiber.New()
	app.Use(fibersession.New(fibersession.Config{Manager: api}))
	app.Use(fibersession.New(fibersession.Config{Manager: device}))
	app.Get("/", func(c fiber.Ctx) error {
		n := 0
		for _, m := range []*core.Manager{api, device} {
			s, err := fibersession.GetFor(c, m)
			if err != nil {
				return err
			}
			v, _ := s.GetInt("n")
			s.Set("n", v+1)
			n += int(v + 1)
		}
		return c.JSON(n)
	})
	base := serve(t, app)
	body, res := get(t, http.DefaultClient, base+"/", nil, nil)
	apiToken, deviceToken := res.Header.Get(core.DefaultTokenHeader), res.Header.Get("X-Device-Token")
	if body != "2" || apiToken == "" || deviceToken == "" || len(res.Cookies()) > 0 {
		t.Fatalf("first request: body %q, tokens %q and %q, cookies %q", body, apiToken, deviceToken, res.Header.Values("Set-Cookie"))
	}
	h := http.Header{"Authorization": {"Bearer " + apiToken}, "X-Device-Token": {deviceToken}}
	body, res = get(t, http.DefaultClient, base+"/", nil, h)
	if body != "4" {
		t.Errorf("second request with both tokens: body %q, want 4", body)
	}
	if v := res.Header.Values(core.DefaultTokenHeader); len(v) > 0 {
		t.Errorf("a known token was handed out again: %q", v)
	}
}
