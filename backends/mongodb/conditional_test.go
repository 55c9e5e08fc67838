package mongodb

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// rawDoc reads key's stored document as it is, or nil when there is none.
func rawDoc(t *testing.T, s *Store, key string) bson.Raw {
	t.Helper()
	raw, err := s.coll.FindOne(context.Background(), bson.D{{Key: "_id", Value: key}}).Raw()
	if err != nil {
		return nil
	}
	return raw
}

func insertExpired(t *testing.T, s *Store, key string, data []byte) {
	t.Helper()
	doc := bson.D{{Key: "_id", Value: key}, {Key: "data", Value: data}, {Key: "expires_at", Value: time.Now().Add(-time.Minute)}}
	if _, err := s.coll.InsertOne(context.Background(), doc); err != nil {
		t.Fatal(err)
	}
}

// TestConditionalAcrossStores has two application instances (two clients,
// two stores) share one collection. The second one's save between the
// first one's read and write must make the first one's write fail: a
// blind overwrite would lose the second one's data.
func TestConditionalAcrossStores(t *testing.T) {
	a := newTestStore(t, Options{})
	ctx := context.Background()
	b := newTestStoreOn(t, testClient(t).Database(testDatabase).Collection(a.coll.Name()), Options{CleanupInterval: -1})

	if err := a.SetIf(ctx, "s", nil, []byte(`{"cart":[]}`), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := b.SetIf(ctx, "s", nil, []byte(`{}`), time.Hour); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("second create through another store: err = %v, want ErrConflict", err)
	}
	_, va, err := a.GetVersion(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	_, vb, err := b.GetVersion(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetIf(ctx, "s", vb, []byte(`{"cart":[1]}`), time.Hour); err != nil {
		t.Fatalf("B's save: %v", err)
	}
	if err := a.SetIf(ctx, "s", va, []byte(`{"cart":[2]}`), time.Hour); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("A's save with the version B replaced: err = %v, want ErrConflict", err)
	}
	if err := a.DeleteIf(ctx, "s", va); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("A's delete with the version B replaced: err = %v, want ErrConflict", err)
	}
	if got, err := a.Get(ctx, "s"); err != nil || string(got) != `{"cart":[1]}` {
		t.Fatalf("Get = %q, %v; want B's save", got, err)
	}
}

// TestConditionalPeerWrite has a peer (a Python application) rewrite the
// document with its own driver, keeping the value's length and dropping
// expires_at: the version must not match any more.
func TestConditionalPeerWrite(t *testing.T) {
	s := newTestStore(t, Options{})
	ctx := context.Background()
	if err := s.Set(ctx, "p", []byte("aaaa"), time.Hour); err != nil {
		t.Fatal(err)
	}
	_, v, err := s.GetVersion(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	peer := bson.D{{Key: "_id", Value: "p"}, {Key: "data", Value: []byte("bbbb")}}
	if _, err := s.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: "p"}}, peer); err != nil {
		t.Fatal(err)
	}
	if err := s.SetIf(ctx, "p", v, []byte("mine"), time.Hour); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("SetIf after a peer's write: err = %v, want ErrConflict", err)
	}
	// A peer storing a string rather than binary data: no version of ours
	// matches it, and it is not absent either.
	if _, err := s.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "p"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "data", Value: "bbbb"}}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteIf(ctx, "p", dataVersion("bbbb")); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("DeleteIf of a string value: err = %v, want ErrConflict", err)
	}
	if rawDoc(t, s, "p") == nil {
		t.Fatal("DeleteIf removed a document it reported a conflict for")
	}
}

// TestConditionalExpiredDocument checks the expired document the TTL
// monitor (or the clean-up) has not removed yet: it counts as absent even
// when it holds the very bytes of the version, and a create takes it over.
func TestConditionalExpiredDocument(t *testing.T) {
	s := newTestStore(t, Options{CleanupInterval: -1})
	ctx := context.Background()
	insertExpired(t, s, "e", []byte("old"))
	if _, _, err := s.GetVersion(ctx, "e"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("GetVersion of an expired document: err = %v, want ErrNotFound", err)
	}
	if err := s.SetIf(ctx, "e", dataVersion("old"), []byte("revived"), time.Hour); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("SetIf of an expired document with its bytes: err = %v, want ErrNotFound", err)
	}
	if err := s.DeleteIf(ctx, "e", dataVersion("old")); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("DeleteIf of an expired document with its bytes: err = %v, want ErrNotFound", err)
	}
	if _, data := rawDoc(t, s, "e").Lookup("data").Binary(); string(data) != "old" {
		t.Fatalf("the expired document was rewritten: data = %q", data)
	}

	// A create over it replaces it, without expiry when ttl is zero.
	if err := s.SetIf(ctx, "e", nil, []byte("new"), 0); err != nil {
		t.Fatalf("SetIf(nil) over an expired document: %v", err)
	}
	raw := rawDoc(t, s, "e")
	if _, err := raw.LookupErr("expires_at"); err == nil {
		t.Errorf("create with ttl 0 kept the old expires_at: %s", raw)
	}
	if got, err := s.Get(ctx, "e"); err != nil || string(got) != "new" {
		t.Fatalf("Get = %q, %v; want new", got, err)
	}
	if err := s.SetIf(ctx, "e", nil, []byte("again"), time.Hour); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("SetIf(nil) of the live document: err = %v, want ErrConflict", err)
	}
}

// TestConditionalDocument checks what SetIf stores: the same document Set
// does, expiry included, and an empty value compares as a version too.
func TestConditionalDocument(t *testing.T) {
	s := newTestStore(t, Options{})
	ctx := context.Background()
	if err := s.SetIf(ctx, "d", nil, nil, time.Hour); err != nil {
		t.Fatal(err)
	}
	raw := rawDoc(t, s, "d")
	if _, data, ok := raw.Lookup("data").BinaryOK(); !ok || len(data) != 0 {
		t.Fatalf("a created empty value is stored as %s, want empty binary data", raw)
	}
	wantDigest(t, raw)
	if exp, ok := raw.Lookup("expires_at").TimeOK(); !ok || time.Until(exp) < 59*time.Minute {
		t.Fatalf("expires_at = %v (date: %v), want about an hour from now", exp, ok)
	}
	got, v, err := s.GetVersion(ctx, "d")
	if err != nil || len(got) != 0 || v == nil {
		t.Fatalf("GetVersion of an empty value = %q, %q, %v; want an empty value and a non-nil version", got, v, err)
	}
	if err := s.SetIf(ctx, "d", v, []byte("x"), 0); err != nil {
		t.Fatalf("SetIf with the version of an empty value: %v", err)
	}
	if _, err := rawDoc(t, s, "d").LookupErr("expires_at"); err == nil {
		t.Error("SetIf with ttl 0 left expires_at")
	}

	// The value GetVersion returns is the caller's: changing it changes
	// nothing about the version.
	got, v, err = s.GetVersion(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	got[0] = 'y'
	if err := s.DeleteIf(ctx, "d", v); err != nil {
		t.Fatalf("DeleteIf after the caller changed the value it read: %v", err)
	}
	if rawDoc(t, s, "d") != nil {
		t.Fatal("DeleteIf left the document")
	}
	if err := s.DeleteIf(ctx, "d", nil); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("DeleteIf(nil) of an absent key: err = %v, want ErrNotFound", err)
	}
}

func TestWriteLocksFollowServer(t *testing.T) {
	s := newTestStore(t, Options{SkipIndexes: true})
	raw, err := s.coll.Database().RunCommand(context.Background(), bson.D{{Key: "buildInfo", Value: 1}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	version, ferret := raw.Lookup("ferretdbVersion").StringValueOK()
	want := ferret && ferretMajor(version) < 2
	if got := s.locks != nil; got != want {
		t.Fatalf("write locks in use: %v, want %v (ferretdbVersion %q)", got, want, version)
	}
	t.Logf("ferretdbVersion %q, write locks: %v", version, want)
}

func TestFerretMajor(t *testing.T) {
	for version, want := range map[string]int{"v1.24.0": 1, "1.24.0": 1, "v2.1.0": 2, "unknown": 0, "": 0} {
		if got := ferretMajor(version); got != want {
			t.Errorf("ferretMajor(%q) = %d, want %d", version, got, want)
		}
	}
}

// TestConditionalRoundTrips counts the commands each method sends: one on
// success, a second only when a write matched nothing (the classifying
// read; for a create, the take-over of an expired document). It counts
// them as a store sends them on MongoDB, without locks, where it must send
// nothing to the lease collection, which must never be created; then with
// the locks of FerretDB 1.x, where each write also inserts and deletes its
// key's lease.
func TestConditionalRoundTrips(t *testing.T) {
	testClient(t) // skips when the server is down
	sent := commandCounter{n: map[string]int32{}}
	client, err := mongo.Connect(options.Client().ApplyURI(testURI()).SetMonitor(sent.monitor()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	coll := freshCollection(t, client)
	s := newTestStoreOn(t, coll, Options{CleanupInterval: -1})
	ctx := context.Background()
	var v, stale core.Version
	steps := []struct {
		name             string
		sessions, leases int32 // commands sent; to leases only with locks
		call             func() error
	}{
		{"create", 1, 2, func() error { return s.SetIf(ctx, "k", nil, []byte("1"), time.Hour) }},
		{"GetVersion", 1, 0, func() (err error) { _, v, err = s.GetVersion(ctx, "k"); return err }},
		{"SetIf", 1, 2, func() error { stale = v; return s.SetIf(ctx, "k", v, []byte("2"), time.Hour) }},
		{"stale SetIf", 2, 2, func() error { return wantIs(s.SetIf(ctx, "k", stale, []byte("3"), time.Hour), core.ErrConflict) }},
		{"second create", 2, 2, func() error { return wantIs(s.SetIf(ctx, "k", nil, []byte("3"), time.Hour), core.ErrConflict) }},
		{"stale DeleteIf", 2, 2, func() error { return wantIs(s.DeleteIf(ctx, "k", stale), core.ErrConflict) }},
		{"Touch", 1, 2, func() error { return s.Touch(ctx, "k", time.Hour) }},
		{"GetVersion", 1, 0, func() (err error) { _, v, err = s.GetVersion(ctx, "k"); return err }},
		{"DeleteIf", 1, 2, func() error { return s.DeleteIf(ctx, "k", v) }},
		{"DeleteIf of a deleted key", 2, 2, func() error { return wantIs(s.DeleteIf(ctx, "k", v), core.ErrNotFound) }},
		{"Set", 1, 2, func() error { return s.Set(ctx, "k", []byte("4"), time.Hour) }},
		{"Delete", 1, 2, func() error { return s.Delete(ctx, "k") }},
		// With locks, Purge reads the expired leases and the expired keys.
		{"Purge", 1, 1, func() error { _, err := s.Purge(ctx); return err }},
	}
	for _, locked := range []bool{false, true} {
		s.locks = nil
		if locked {
			s.locks = newWriteLocks(coll)
		}
		for _, step := range steps {
			sent.reset()
			if err := step.call(); err != nil {
				t.Fatalf("%s (locks %v): %v", step.name, locked, err)
			}
			want := step.leases
			if !locked {
				want = 0
			}
			n, l := sent.to(coll), sent.to(leaseCollection(coll))
			if n != step.sessions || l != want {
				t.Errorf("%s (locks %v) sent %d commands and %d to the leases, want %d and %d", step.name, locked, n, l, step.sessions, want)
			}
		}
		if !locked {
			wantNoLeaseCollection(t, coll)
		}
	}
}

// commandCounter counts the commands a client sends, by collection.
type commandCounter struct {
	mu sync.Mutex
	n  map[string]int32
}

func (c *commandCounter) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		coll, _ := e.Command.Lookup(e.CommandName).StringValueOK()
		c.mu.Lock()
		defer c.mu.Unlock()
		c.n[coll]++
	}}
}

func (c *commandCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.n)
}

// to returns how many commands went to coll.
func (c *commandCounter) to(coll *mongo.Collection) int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[coll.Name()]
}

// wantNoLeaseCollection fails the test if the lease collection of coll
// exists.
func wantNoLeaseCollection(t *testing.T, coll *mongo.Collection) {
	t.Helper()
	name := leaseCollection(coll).Name()
	names, err := coll.Database().ListCollectionNames(context.Background(), bson.D{{Key: "name", Value: name}})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 0 {
		t.Errorf("a store without locks created %s", name)
	}
}

// wantIs turns an error that does not match target into a failure, and
// the expected one into success.
func wantIs(err, target error) error {
	if errors.Is(err, target) {
		return nil
	}
	return fmt.Errorf("err = %v, want %v", err, target)
}
