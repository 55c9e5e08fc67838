package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	sqlstore "github.com/cloakroom/cloakroom/backends/sql"
	"github.com/cloakroom/cloakroom/backends/sql/sqlite"
)

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "sessions")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	// In production: a path such as "/var/lib/app/sessions.db".
	store, err := sqlite.Open(ctx, filepath.Join(dir, "sessions.db"), sqlstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if err := store.CreateTable(ctx); err != nil {
		log.Fatal(err)
	}
	if err := store.Set(ctx, "session-id", []byte("data"), time.Hour); err != nil {
		log.Fatal(err)
	}
	value, err := store.Get(ctx, "session-id")
	fmt.Println(string(value), err)
	// Output: data <nil>
}
