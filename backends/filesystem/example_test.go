package filesystem_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

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

// The options: how often expired files are swept away, and where a failed
// sweep is reported.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "sessions")
	defer os.RemoveAll(dir)
	store, err := filesystem.New(dir, filesystem.Options{
		CleanupInterval: time.Hour,
		Logger:          slog.Default(),
	})
	if err != nil {
		panic(err)
	}
	defer store.Close() // stops the clean-up; the folder stays

	removed, err := store.Purge(context.Background()) // on demand, too
	fmt.Println(removed, err)
	// Output: 0 <nil>
}

// A write conditioned on the value read fails once another writer got
// there first, even in another process sharing the folder.
func ExampleStore_SetIf() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "sessions")
	defer os.RemoveAll(dir)
	store, err := filesystem.New(dir, filesystem.Options{})
	if err != nil {
		panic(err)
	}
	defer store.Close()

	fmt.Println(store.SetIf(ctx, "session:a", nil, []byte(`{"n":1}`), time.Hour)) // create
	_, version, _ := store.GetVersion(ctx, "session:a")
	_ = store.Set(ctx, "session:a", []byte(`{"n":2}`), time.Hour) // another writer
	err = store.SetIf(ctx, "session:a", version, []byte(`{"n":9}`), time.Hour)
	fmt.Println(errors.Is(err, core.ErrConflict))
	// Output:
	// <nil>
	// true
}
