package core_test

import (
	"context"
	"fmt"

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
