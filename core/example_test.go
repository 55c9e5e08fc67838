package core_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/cloakroom/cloakroom/adapters/nethttp"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

// A background job or a websocket handler has an id but no HTTP response:
// it loads and saves the session directly.
func ExampleManager_Load() {
	ctx := context.Background()
	store := memory.New(memory.Options{})
	defer store.Close()
	m := core.NewManager(store)

	s := m.New(ctx)
	s.Set("user", "alice")
	wrote, _ := m.Save(ctx, s)
	fmt.Println("first save wrote:", wrote)

	again, _ := m.Load(ctx, s.ID())
	user, _ := again.GetString("user")
	wrote, _ = m.Save(ctx, again) // unchanged: nothing to write
	fmt.Println(user, "/ second save wrote:", wrote)
	// Output:
	// first save wrote: true
	// alice / second save wrote: false
}

// Structs are stored through their JSON form and read back with Get.
func ExampleGet() {
	type Cart struct {
		Items []string `json:"items"`
	}
	ctx := context.Background()
	store := memory.New(memory.Options{})
	defer store.Close()
	m := core.NewManager(store)

	s := m.New(ctx)
	s.Set("cart", Cart{Items: []string{"tea", "milk"}})
	m.Save(ctx, s)

	loaded, _ := m.Load(ctx, s.ID())
	cart, err := core.Get[Cart](loaded, "cart")
	fmt.Println(cart.Items, err)
	// Output: [tea milk] <nil>
}

// Flash messages use Flask's _flashes layout, so a Flask app sharing the
// session shows them too.
func ExampleSession_Flash() {
	store := memory.New(memory.Options{})
	defer store.Close()
	s := core.NewManager(store).New(context.Background())
	s.Flash("message", "Saved!")
	for _, f := range s.Flashes() {
		fmt.Println(f.Category, f.Message)
	}
	// Output: message Saved!
}

// API and mobile clients that keep no cookies carry the token in a header:
// the response hands it out when it changes, the client sends it back.
func ExampleHeaderTransport() {
	store := memory.New(memory.Options{})
	defer store.Close()
	m := core.NewManager(store)
	m.Transport = core.HeaderTransport("") // X-Session-Token

	handler := nethttp.Middleware(m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := nethttp.Get(r)
		if err != nil {
			http.Error(w, "session unavailable", http.StatusServiceUnavailable)
			return
		}
		n, _ := s.Incr("calls", 1)
		fmt.Fprintf(w, "call %d", n)
	}))

	token := ""
	for range 2 {
		req := httptest.NewRequest("POST", "/api/call", nil)
		req.Header.Set("X-Session-Token", token)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if t := rec.Header().Get("X-Session-Token"); t != "" {
			token = t
		}
		fmt.Printf("%s; cookies: %d; Vary: %s\n", rec.Body, len(rec.Result().Cookies()), rec.Header().Get("Vary"))
	}
	// Output:
	// call 1; cookies: 0; Vary: X-Session-Token
	// call 2; cookies: 0; Vary: X-Session-Token
}

// Two requests of one session take order numbers at once: IncrNow saves
// each increment before it answers, on top of the other's, so the numbers
// never repeat, where Incr would give both the same sum.
func ExampleSession_IncrNow() {
	ctx := context.Background()
	store := memory.New(memory.Options{})
	defer store.Close()
	m := core.NewManager(store)
	s := m.New(ctx)
	s.Set("user", "alice")
	m.Save(ctx, s)

	tab1, _ := m.Load(ctx, s.ID())
	tab2, _ := m.Load(ctx, s.ID()) // both loaded before either saved
	first, _ := tab1.IncrNow(ctx, "orders", 1)
	second, _ := tab2.IncrNow(ctx, "orders", 1)
	fmt.Println(first, second)
	// Output: 1 2
}

// A login form's "remember me": a ticked box keeps the session for 30
// days, an unticked one until the browser closes or 12 idle hours pass.
// The Manager allows sessions up to 30 days with MaxLifetime.
func ExampleSession_SetExpiry() {
	store := memory.New(memory.Options{})
	defer store.Close()
	m := core.NewManager(store)
	m.MaxLifetime = 30 * 24 * time.Hour

	login := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := nethttp.Get(r)
		if err != nil {
			http.Error(w, "session unavailable", http.StatusServiceUnavailable)
			return
		}
		s.Regenerate()
		s.Set("user", r.FormValue("user"))
		if r.FormValue("remember") == "on" {
			s.SetPermanent(true)
			s.SetExpiry(core.Expiry{Lifetime: 30 * 24 * time.Hour, Idle: -1})
		} else {
			s.SetPermanent(false)
			s.SetExpiry(core.Expiry{Idle: 12 * time.Hour})
		}
		fmt.Println("session ends in", time.Until(s.ExpiresAt()).Round(time.Hour))
	})
	h := nethttp.Middleware(m)(login)
	for _, form := range []string{"user=alice&remember=on", "user=bob"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/login?"+form, nil))
		c := w.Result().Cookies()[0]
		fmt.Println("cookie Max-Age:", c.MaxAge)
	}
	// Output:
	// session ends in 720h0m0s
	// cookie Max-Age: 2592000
	// session ends in 12h0m0s
	// cookie Max-Age: 0
}
