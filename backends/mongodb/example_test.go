package mongodb_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/cloakroom/cloakroom/backends/mongodb"
	"github.com/cloakroom/cloakroom/core"
)

// Open connects from a URI; the database comes from its path. The store is
// then used wherever a core.Backend is expected.
func ExampleOpen() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	store, err := mongodb.Open(ctx, "mongodb://127.0.0.1:27017/myapp", mongodb.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	var backend core.Backend = store
	if err := backend.Set(ctx, "session:abc", []byte(`{"user":42}`), 30*time.Minute); err != nil {
		log.Fatal(err)
	}
	value, err := backend.Get(ctx, "session:abc")
	fmt.Println(string(value), err)
}
