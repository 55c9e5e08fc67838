package memcached_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/cloakroom/cloakroom/backends/memcached"
	"github.com/cloakroom/cloakroom/core"
)

// Example stores a session in two memcached servers. It needs the servers,
// so it is compiled but not run by go test.
func Example() {
	store, err := memcached.New("127.0.0.1:11211", "127.0.0.1:11212")
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	var backend core.Backend = store // what the session manager takes
	ctx := context.Background()
	if err := backend.Set(ctx, "session:abc", []byte(`{"user":"ada"}`), 14*24*time.Hour); err != nil {
		log.Fatal(err)
	}
	data, err := backend.Get(ctx, "session:abc")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", data)
}
