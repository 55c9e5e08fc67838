package postgres_test

import (
	"context"
	"log"
	"time"

	sqlstore "github.com/cloakroom/cloakroom/backends/sql"
	"github.com/cloakroom/cloakroom/backends/sql/postgres"
)

func ExampleOpen() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	store, err := postgres.Open(ctx, "postgres://app@127.0.0.1:5432/app?sslmode=disable", sqlstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // closes the pool

	// Once, at start-up; a no-op when the table exists.
	if err := store.CreateTable(ctx); err != nil {
		log.Fatal(err)
	}
	// Pass store wherever a core.Backend is expected.
}
