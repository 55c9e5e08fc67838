package mongodb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core/backendtest"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// testDatabase holds every collection the tests create.
const testDatabase = "cloakroom_test"

func testURI() string {
	return backendtest.Env("CLOAKROOM_MONGODB_URI", "mongodb://127.0.0.1:27017/")
}

// serverDown pings the test server once per test binary, so that a
// missing server costs one timeout rather than one per test.
var serverDown = sync.OnceValue(func() error {
	client, err := mongo.Connect(options.Client().ApplyURI(testURI()).SetServerSelectionTimeout(3 * time.Second))
	if err != nil {
		return err
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return client.Ping(ctx, readpref.Primary())
})

// testClient connects to the test server, or skips (fails under
// CLOAKROOM_REQUIRE_SERVICES) when it does not answer.
func testClient(t testing.TB) *mongo.Client {
	t.Helper()
	if err := serverDown(); err != nil {
		backendtest.Unavailable(t, "MongoDB at "+testURI()+" (scripts/services/mongodb.sh start runs FerretDB)", err)
	}
	client, err := mongo.Connect(options.Client().ApplyURI(testURI()).SetServerSelectionTimeout(3 * time.Second))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client
}

// freshCollection returns a collection of its own for one test, dropped
// with its lease collection when the test ends.
func freshCollection(t testing.TB, client *mongo.Client) *mongo.Collection {
	t.Helper()
	coll := client.Database(testDatabase).Collection("t_" + randomHex(6))
	t.Cleanup(func() {
		_ = coll.Drop(context.Background())
		_ = leaseCollection(coll).Drop(context.Background())
	})
	return coll
}

// leaseCollection is where stores on coll keep their leases.
func leaseCollection(coll *mongo.Collection) *mongo.Collection {
	return newLeases(coll).coll
}

// newTestStore returns a Store on a fresh collection.
func newTestStore(t testing.TB, opts Options) *Store {
	t.Helper()
	return newTestStoreOn(t, freshCollection(t, testClient(t)), opts)
}

// newTestStoreOn returns a Store on coll, closed when the test ends, that
// logs nowhere unless opts names a Logger.
func newTestStoreOn(t testing.TB, coll *mongo.Collection, opts Options) *Store {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := New(ctx, coll, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
