package core_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

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
