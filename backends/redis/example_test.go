package redis_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strconv"
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
	defer client.Close() // the caller owns the client; Store.Close leaves it open

	// Timeout bounds each call, so a frozen server fails it within 1.5 s;
	// with zero Options New adds no bound to the client's own settings.
	var backend core.Backend = redis.New(client, redis.Options{Timeout: redis.DefaultTimeout})
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

// A Store built from a URL, as Quart-Session's SESSION_URI gives it. Open
// pings the server within ctx's deadline; the Store owns the client and
// closes it. With zero Options each call is bounded by DefaultTimeout.
func ExampleOpen() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	store, err := redis.Open(ctx, "redis+sentinel://127.0.0.1:26390?master_name=cloakroom", redis.Options{})
	if err != nil {
		log.Fatal(err) // the server did not answer; the message hides any password
	}
	defer store.Close()
	if err := store.Set(ctx, "session:abc", []byte("{}"), time.Hour); err != nil {
		log.Fatal(err)
	}
}

// A read-modify-write that loses no update to a concurrent writer: a
// cloakroom request, or a Python peer (Quart-Session) that writes the key
// blindly with SETEX. SetIf fails with core.ErrConflict when the key no
// longer holds what GetVersion read, and with core.ErrNotFound once the key
// is gone (a logout elsewhere), which must not be undone.
func ExampleStore_SetIf() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	store, err := redis.Open(ctx, "redis://127.0.0.1:6379/0", redis.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	const key = "counter:visits"
	// Create the key only if it does not exist yet.
	if err := store.SetIf(ctx, key, nil, []byte("0"), time.Hour); err != nil && !errors.Is(err, core.ErrConflict) {
		log.Fatal(err)
	}
	for {
		value, version, err := store.GetVersion(ctx, key)
		if err != nil {
			log.Fatal(err) // wraps core.ErrNotFound when the key is gone
		}
		n, err := strconv.Atoi(string(value))
		if err != nil {
			log.Fatal(err)
		}
		err = store.SetIf(ctx, key, version, []byte(strconv.Itoa(n+1)), time.Hour)
		if errors.Is(err, core.ErrConflict) {
			continue // someone wrote in between: read again and redo
		}
		if err != nil {
			log.Fatal(err) // core.ErrNotFound: deleted meanwhile, give up
		}
		fmt.Println("visits:", n+1)
		return
	}
}

// Keys lists the live sessions of one prefix, on every master of a Cluster.
func ExampleStore_Keys() {
	client := goredis.NewClusterClient(&goredis.ClusterOptions{
		Addrs: []string{"127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"},
	})
	defer client.Close()
	for key, err := range redis.New(client, redis.Options{}).Keys(context.Background(), "session:") {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(key)
	}
}
