package memcached_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strconv"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/cloakroom/cloakroom/backends/memcached"
	"github.com/cloakroom/cloakroom/core"
)

// Example stores a session in two memcached servers. The examples need
// running servers, so go test compiles them but does not run them.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	store, err := memcached.Open(ctx, "memcached://127.0.0.1:11211,127.0.0.1:11212", memcached.Options{})
	if err != nil {
		log.Fatal(err) // a server did not answer the ping
	}
	defer store.Close()

	var backend core.Backend = store // what the session manager takes
	if err := backend.Set(ctx, "session:abc", []byte(`{"user":"ada"}`), 14*24*time.Hour); err != nil {
		log.Fatal(err)
	}
	data, err := backend.Get(ctx, "session:abc")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", data)
}

// ExampleNew wraps a gomemcache client configured by the caller, who keeps
// owning it: the Store's Close leaves it open.
func ExampleNew() {
	client := memcache.New("10.0.0.5:11211", "10.0.0.6:11211")
	client.Timeout = 200 * time.Millisecond // set before New: the Store reads it once
	client.MaxIdleConns = 64
	defer client.Close()

	store := memcached.New(client, memcached.Options{})
	_ = store
}

// ExampleStore_SetIf increments a counter without losing a concurrent
// increment: it writes only if the value is still the one it read, and
// reads again when another writer got there first.
func ExampleStore_SetIf() {
	ctx := context.Background()
	store, err := memcached.Open(ctx, "127.0.0.1:11211", memcached.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	// Create the counter only if nobody has yet.
	err = store.SetIf(ctx, "visits", nil, []byte("0"), time.Hour)
	if err != nil && !errors.Is(err, core.ErrConflict) {
		log.Fatal(err)
	}
	for {
		value, version, err := store.GetVersion(ctx, "visits")
		if err != nil {
			log.Fatal(err) // wraps core.ErrNotFound if it was deleted meanwhile
		}
		n, err := strconv.Atoi(string(value))
		if err != nil {
			log.Fatal(err)
		}
		err = store.SetIf(ctx, "visits", version, []byte(strconv.Itoa(n+1)), time.Hour)
		if errors.Is(err, core.ErrConflict) {
			continue // someone else wrote it: read again
		}
		if err != nil {
			log.Fatal(err) // core.ErrNotFound: deleted meanwhile, do not revive it
		}
		fmt.Println("visits:", n+1)
		return
	}
}

// ExampleStore_DeleteIf logs a session out only if no other request has
// changed it since it was read.
func ExampleStore_DeleteIf() {
	ctx := context.Background()
	store, err := memcached.Open(ctx, "127.0.0.1:11211", memcached.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	_, version, err := store.GetVersion(ctx, "session:abc")
	if err != nil {
		log.Fatal(err)
	}
	switch err := store.DeleteIf(ctx, "session:abc", version); {
	case errors.Is(err, core.ErrConflict):
		fmt.Println("changed since read: read it again")
	case errors.Is(err, core.ErrNotFound):
		fmt.Println("already gone")
	case err != nil:
		log.Fatal(err)
	}
}
