package mysql_test

import (
	"context"
	"log"
	"time"

	sqlstore "github.com/cloakroom/cloakroom/backends/sql"
	"github.com/cloakroom/cloakroom/backends/sql/mysql"
)

func ExampleOpen() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Or the driver's own form: "app:secret@tcp(127.0.0.1:3306)/app".
	store, err := mysql.Open(ctx, "mysql://app:secret@127.0.0.1:3306/app", sqlstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // closes the pool

	// Once, at start-up; a no-op when the table exists.
	if err := store.CreateTable(ctx); err != nil {
		log.Fatal(err)
	}
}
