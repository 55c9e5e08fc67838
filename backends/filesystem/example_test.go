package filesystem_test

import (
	"context"
	"fmt"
	"os"

	"github.com/cloakroom/cloakroom/backends/filesystem"
	"github.com/cloakroom/cloakroom/core"
)

func Example() {
	dir, _ := os.MkdirTemp("", "sessions")
	defer os.RemoveAll(dir)
	store, err := filesystem.New(dir, filesystem.Options{})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	m := core.NewManager(store)

	s := m.New(context.Background())
	s.Set("user", "alice")
	wrote, err := m.Save(context.Background(), s)
	fmt.Println(wrote, err)
	// Output: true <nil>
}
