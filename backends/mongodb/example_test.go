package mongodb_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strconv"
	"time"

	"github.com/cloakroom/cloakroom/backends/mongodb"
	"github.com/cloakroom/cloakroom/core"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Open connects from a URI; the database comes from its path. The store is
// then used wherever a core.Backend is expected. The examples need a
// running server, so go test compiles them but does not run them.
func ExampleOpen() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	store, err := mongodb.Open(ctx, "mongodb://127.0.0.1:27017/myapp", mongodb.Options{})
	if err != nil {
		log.Fatal(err) // the server did not answer the ping
	}
	defer store.Close() // disconnects the client Open created

	var backend core.Backend = store
	if err := backend.Set(ctx, "session:abc", []byte(`{"user":42}`), 30*time.Minute); err != nil {
		log.Fatal(err)
	}
	value, err := backend.Get(ctx, "session:abc")
	fmt.Println(string(value), err)
}

// New puts the store on a collection of a client the application
// configured and keeps owning: the store's Close leaves it connected.
func ExampleNew() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:27017/").SetAppName("myapp"))
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()

	store, err := mongodb.New(ctx, client.Database("myapp").Collection("sessions"), mongodb.Options{})
	if err != nil {
		log.Fatal(err) // the server did not answer, or the index could not be created
	}
	defer store.Close() // stops the store's clean-up, if any; the client stays connected
}

// SetIf writes only if the key still holds the value read, so that two
// requests incrementing one counter lose neither increment: the one that
// comes second reads again and retries. A key deleted meanwhile is not
// brought back.
func ExampleStore_SetIf() {
	ctx := context.Background()
	store, err := mongodb.Open(ctx, "mongodb://127.0.0.1:27017/myapp", mongodb.Options{})
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
			continue // another writer got there first: read again
		}
		if err != nil {
			log.Fatal(err) // core.ErrNotFound: deleted or expired; do not write it back
		}
		fmt.Println("visits:", n+1)
		return
	}
}

// Purge deletes expired documents on demand, for example from a cron job
// when the store's own clean-up is disabled. MongoDB's TTL index makes
// both unnecessary; servers without TTL indexes (FerretDB 1.x) need one.
func ExampleStore_Purge() {
	ctx := context.Background()
	store, err := mongodb.Open(ctx, "mongodb://127.0.0.1:27017/myapp", mongodb.Options{CleanupInterval: -1})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	n, err := store.Purge(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("deleted", n, "expired sessions")
}
