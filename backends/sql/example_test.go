package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // for ExampleNew: registers "pgx"

	sqlstore "github.com/cloakroom/cloakroom/backends/sql"
	"github.com/cloakroom/cloakroom/backends/sql/postgres"
	"github.com/cloakroom/cloakroom/backends/sql/sqlite"
	"github.com/cloakroom/cloakroom/core"
)

// SQLite needs no server, so this example runs as a test. PostgreSQL and
// MySQL work the same way with postgres.Open and mysql.Open.
func Example() {
	ctx := context.Background()
	// In production: a file path such as "/var/lib/app/sessions.db".
	store, err := sqlite.Open(ctx, ":memory:", sqlstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if err := store.CreateTable(ctx); err != nil {
		log.Fatal(err)
	}

	var backend core.Backend = store // what the session manager takes
	if err := backend.Set(ctx, "session-id", []byte(`{"user":"ada"}`), time.Hour); err != nil {
		log.Fatal(err)
	}
	value, err := backend.Get(ctx, "session-id")
	fmt.Println(string(value), err)
	// Output: {"user":"ada"} <nil>
}

// A write conditioned on the value read fails once another writer got
// there first, even one that knows nothing of versions.
func Example_conditional() {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, ":memory:", sqlstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if err := store.CreateTable(ctx); err != nil {
		log.Fatal(err)
	}

	err = store.SetIf(ctx, "counter", nil, []byte("1"), time.Hour) // create
	fmt.Println("create:", err)
	_, version, err := store.GetVersion(ctx, "counter")
	if err != nil {
		log.Fatal(err)
	}
	_ = store.Set(ctx, "counter", []byte("5"), time.Hour) // another writer
	err = store.SetIf(ctx, "counter", version, []byte("2"), time.Hour)
	fmt.Println("stale write conflicts:", errors.Is(err, core.ErrConflict))
	// Output:
	// create: <nil>
	// stale write conflicts: true
}

// Sharing sessions with Django means using its table; a Store opened by a
// sub-package owns its connection pool.
func Example_django() {
	ctx := context.Background()
	store, err := postgres.Open(ctx, "postgres://app@127.0.0.1:5432/mysite?sslmode=disable",
		sqlstore.Options{Table: sqlstore.DjangoTable})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if err := store.CreateTable(ctx); err != nil { // a no-op when Django made it
		log.Fatal(err)
	}
}

// New wraps a pool that the application opened and keeps: Close leaves
// it open.
func ExampleNew() {
	db, err := sql.Open("pgx", "postgres://app@127.0.0.1:5432/app?sslmode=disable")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	store, err := sqlstore.New(db, sqlstore.Postgres, sqlstore.Options{
		CleanupInterval: -1, // a scheduled job calls store.Purge
	})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
}
