package sqlstore_test

import (
	"context"
	"fmt"
	"log"
	"time"

	sqlstore "github.com/cloakroom/cloakroom/backends/sql"
	"github.com/cloakroom/cloakroom/core"
)

// SQLite needs no server, so this example runs as a test.
func Example() {
	// In production: a file path such as "/var/lib/app/sessions.db".
	store, err := sqlstore.Open(sqlstore.SQLite, ":memory:", sqlstore.Options{
		PurgeInterval: 10 * time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
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

// A -dsn setting picks the database; sharing sessions with Django means
// using its table.
func ExampleParseDSN() {
	dialect, dsn, err := sqlstore.ParseDSN("postgres://postgres@127.0.0.1:5432/app?sslmode=disable")
	if err != nil {
		log.Fatal(err)
	}
	store, err := sqlstore.Open(dialect, dsn, sqlstore.Options{Table: sqlstore.DjangoTable})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if err := store.CreateTable(context.Background()); err != nil { // no-op when Django made it
		log.Fatal(err)
	}
}
