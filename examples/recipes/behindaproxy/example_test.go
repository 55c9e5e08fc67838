package behindaproxy_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"

	"github.com/cloakroom/cloakroom/adapters/nethttp"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

// newManager returns a Manager that pins each session to its client's
// address, and believes X-Forwarded-For only from the load balancers in
// 10.0.0.0/24, the network the application's own proxies run in.
func newManager(store core.Backend) *core.Manager {
	m := core.NewManager(store)
	m.Protection = core.ProtectAddress // or core.ProtectNetwork: the same /24 or /64
	m.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}
	return m
}

func login(w http.ResponseWriter, r *http.Request) {
	s, err := nethttp.Get(r)
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return
	}
	s.Regenerate() // Check the password first.
	s.Set("user", "alice")
	fmt.Fprintln(w, "welcome, alice")
}

func home(w http.ResponseWriter, r *http.Request) {
	s, err := nethttp.Get(r)
	if err != nil {
		http.Error(w, "session unavailable", core.HTTPStatus(err))
		return
	}
	if user, ok := s.GetString("user"); ok {
		fmt.Fprintf(w, "hello %s\n", user)
		return
	}
	fmt.Fprintf(w, "not logged in (%s)\n", s.Reason())
}

// Alice, at 203.0.113.7, logs in through the load balancers. A thief at
// 198.51.100.9 with a copy of her cookie claims her address in
// X-Forwarded-For, directly and through a load balancer: neither is
// believed, and each attempt ends the session it tried to use.
func Example() {
	store := memory.New(memory.Options{})
	defer store.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", login)
	mux.HandleFunc("GET /{$}", home)
	handler := nethttp.Middleware(newManager(store))(mux)

	var cookie *http.Cookie // Alice's, which the thief copied
	// do sends a request from peer, the address the connection comes
	// from, with the X-Forwarded-For header xff.
	do := func(who, method, path, peer, xff string) {
		req := httptest.NewRequest(method, path, nil)
		req.RemoteAddr = peer + ":40000"
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if c := rec.Result().Cookies(); len(c) > 0 && c[0].MaxAge > 0 {
			cookie = c[0]
		}
		fmt.Printf("%s %s %s: %d %s", who, method, path, rec.Code, rec.Body)
	}

	do("alice", "POST", "/login", "10.0.0.2", "203.0.113.7")
	do("alice", "GET", "/", "10.0.0.3", "203.0.113.7") // another load balancer
	do("thief", "GET", "/", "198.51.100.9", "203.0.113.7")
	do("alice", "GET", "/", "10.0.0.2", "203.0.113.7")

	do("alice", "POST", "/login", "10.0.0.2", "203.0.113.7")
	// A load balancer appends the address it saw to what the client sent.
	do("thief", "GET", "/", "10.0.0.2", "203.0.113.7, 198.51.100.9")
	do("alice", "GET", "/", "10.0.0.3", "203.0.113.7")
	// Output:
	// alice POST /login: 200 welcome, alice
	// alice GET /: 200 hello alice
	// thief GET /: 200 not logged in (invalid token)
	// alice GET /: 200 not logged in (expired)
	// alice POST /login: 200 welcome, alice
	// thief GET /: 200 not logged in (invalid token)
	// alice GET /: 200 not logged in (expired)
}
