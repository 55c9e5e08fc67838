package redis_test

import (
	"context"
	"fmt"
	"log"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cloakroom/cloakroom/backends/redis"
	"github.com/cloakroom/cloakroom/core"
)

// A Store over a client the application already has. It needs a server on
// 127.0.0.1:6379, so it has no Output line and is compiled but not run.
func Example() {
	client := goredis.NewClient(&goredis.Options{
		Addr:                  "127.0.0.1:6379",
		ContextTimeoutEnabled: true, // context deadlines bound every call
	})
	defer client.Close()

	var backend core.Backend = redis.New(client)
	ctx := context.Background()
	if err := backend.Set(ctx, "session:abc", []byte(`{"user":42}`), 30*time.Minute); err != nil {
		log.Fatal(err)
	}
	value, err := backend.Get(ctx, "session:abc")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(value))
}

// A Store built from a URL, as Quart-Session's SESSION_URI gives it. The
// Store owns the client and closes it.
func ExampleNewFromURL() {
	store, err := redis.NewFromURL("redis+sentinel://127.0.0.1:26390?master_name=cloakroom")
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if err := store.Set(context.Background(), "session:abc", []byte("{}"), time.Hour); err != nil {
		log.Fatal(err)
	}
}

// Keys lists the live sessions of one prefix, on every master of a Cluster.
func ExampleStore_Keys() {
	client := goredis.NewClusterClient(&goredis.ClusterOptions{
		Addrs: []string{"127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"},
	})
	defer client.Close()
	for key, err := range redis.New(client).Keys(context.Background(), "session:") {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(key)
	}
}
