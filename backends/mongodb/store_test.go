package mongodb

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, newTestStore(t, Options{}))
}

func TestConformanceThroughOpen(t *testing.T) {
	testClient(t) // skips when the server is down
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	coll := "o_" + randomHex(6)
	// FerretDB over SQLite answers the kit's 50 concurrent writers of one
	// session more slowly than Open's 1.5 s default bound allows;
	// TestFrozenServer checks the default itself.
	s, err := Open(ctx, testURI()+"?timeoutMS=10000", Options{Database: testDatabase, Collection: coll})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		_ = s.Collection().Drop(context.Background())
		_ = leaseCollection(s.Collection()).Drop(context.Background())
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if got := s.Collection().Database().Name() + "." + s.Collection().Name(); got != testDatabase+"."+coll {
		t.Fatalf("collection = %s, want %s.%s", got, testDatabase, coll)
	}
	backendtest.Run(t, s)
}

// indexOn returns the specification of the index named IndexName, or nil.
func indexOn(t *testing.T, coll *mongo.Collection) *mongo.IndexSpecification {
	t.Helper()
	specs, err := coll.Indexes().ListSpecifications(context.Background())
	if err != nil {
		t.Fatalf("list indexes: %v", err)
	}
	for i := range specs {
		if specs[i].Name == IndexName {
			return &specs[i]
		}
	}
	return nil
}

func TestIndexCreated(t *testing.T) {
	s := newTestStore(t, Options{})
	spec := indexOn(t, s.coll)
	if spec == nil {
		t.Fatalf("no index %s after New", IndexName)
	}
	if keys := spec.KeysDocument.String(); keys != `{"expires_at": {"$numberInt":"1"}}` {
		t.Errorf("index keys = %s, want {expires_at: 1}", keys)
	}
	switch {
	case s.ttlIndex && (spec.ExpireAfterSeconds == nil || *spec.ExpireAfterSeconds != 0):
		t.Errorf("TTL index expireAfterSeconds = %v, want 0", spec.ExpireAfterSeconds)
	case !s.ttlIndex && spec.ExpireAfterSeconds != nil:
		t.Errorf("store reports no TTL index but the index has expireAfterSeconds %d", *spec.ExpireAfterSeconds)
	case !s.ttlIndex:
		t.Logf("the server refused TTL indexes (FerretDB 1.x does): plain index and clean-up in use")
		if s.cleanup == nil {
			t.Error("no clean-up runs although the server has no TTL index")
		}
	}

	// A second store on the same collection accepts the existing index.
	again, err := New(context.Background(), s.coll, Options{CleanupInterval: -1})
	if err != nil {
		t.Fatalf("New on a collection that has the index: %v", err)
	}
	_ = again.Close()
}

func TestSkipIndexes(t *testing.T) {
	s := newTestStore(t, Options{SkipIndexes: true})
	// Write once so that the collection exists and its indexes can be listed.
	if err := s.Set(context.Background(), "k", []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if spec := indexOn(t, s.coll); spec != nil {
		t.Fatalf("index %s created despite SkipIndexes", IndexName)
	}
	if s.cleanup != nil {
		t.Error("clean-up started despite SkipIndexes")
	}
}

// TestExpiredStoredDocument checks that a document past its expiry that the
// TTL monitor has not removed yet is invisible to every operation.
func TestExpiredStoredDocument(t *testing.T) {
	s := newTestStore(t, Options{CleanupInterval: -1})
	ctx := context.Background()
	past := time.Now().Add(-time.Minute)
	_, err := s.coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "gone"}, {Key: "data", Value: []byte("old")}, {Key: "expires_at", Value: past}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "gone"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("Get of an expired document: err = %v, want ErrNotFound", err)
	}
	if err := s.Touch(ctx, "gone", time.Hour); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("Touch of an expired document: err = %v, want ErrNotFound", err)
	}
	if _, err := s.ExpiresAt(ctx, "gone"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("ExpiresAt of an expired document: err = %v, want ErrNotFound", err)
	}
	for k, err := range s.Keys(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		t.Errorf("Keys yielded %q, an expired key", k)
	}
	// Set over an expired document revives it with the new value.
	if err := s.Set(ctx, "gone", []byte("new"), 0); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, "gone"); err != nil || string(got) != "new" {
		t.Fatalf("Get after Set = %q, %v; want new", got, err)
	}
	if got, err := s.ExpiresAt(ctx, "gone"); err != nil || !got.IsZero() {
		t.Errorf("ExpiresAt after Set without expiry = %v, %v; want the zero time", got, err)
	}
}

func TestDocumentShape(t *testing.T) {
	s := newTestStore(t, Options{})
	ctx := context.Background()
	if err := s.Set(ctx, "a", []byte{1, 2}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "b", nil, 0); err != nil {
		t.Fatal(err)
	}
	raw, err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: "a"}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	if exp, ok := raw.Lookup("expires_at").TimeOK(); !ok || time.Until(exp) < 59*time.Minute {
		t.Errorf("expires_at = %v (date: %v), want about an hour from now", exp, ok)
	}
	raw, err = s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: "b"}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.LookupErr("expires_at"); err == nil {
		t.Errorf("a value without expiry has expires_at: %s", raw)
	}
	if got, err := s.Get(ctx, "b"); err != nil || len(got) != 0 {
		t.Errorf("Get of an empty value = %q, %v", got, err)
	}
	// Touch with no ttl removes the expiry.
	if err := s.Touch(ctx, "a", 0); err != nil {
		t.Fatal(err)
	}
	raw, _ = s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: "a"}}).Raw()
	if _, err := raw.LookupErr("expires_at"); err == nil {
		t.Errorf("Touch(0) left expires_at: %s", raw)
	}
}

func TestKeysEscapesPrefix(t *testing.T) {
	s := newTestStore(t, Options{})
	ctx := context.Background()
	for _, k := range []string{"a.b:1", "a.b:2", "axb:3", "a.b", "(x)*:1", "(x)*:2", "(x):3"} {
		if err := s.Set(ctx, k, []byte("v"), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	collect := func(prefix string) []string {
		var got []string
		for k, err := range s.Keys(ctx, prefix) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, k)
		}
		slices.Sort(got)
		return got
	}
	if got := collect("a.b:"); !slices.Equal(got, []string{"a.b:1", "a.b:2"}) {
		t.Errorf(`Keys("a.b:") = %q`, got)
	}
	if got := collect("(x)*"); !slices.Equal(got, []string{"(x)*:1", "(x)*:2"}) {
		t.Errorf(`Keys("(x)*") = %q`, got)
	}
	if got := collect(""); len(got) != 7 {
		t.Errorf(`Keys("") = %q, want all 7`, got)
	}
	// Stopping early closes the cursor without an error.
	for range s.Keys(ctx, "") {
		break
	}
}

func TestPurge(t *testing.T) {
	s := newTestStore(t, Options{CleanupInterval: -1})
	ctx := context.Background()
	past := time.Now().Add(-time.Second)
	docs := []any{
		bson.D{{Key: "_id", Value: "old"}, {Key: "data", Value: []byte("x")}, {Key: "expires_at", Value: past}},
		bson.D{{Key: "_id", Value: "forever"}, {Key: "data", Value: []byte("x")}},
	}
	if _, err := s.coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "fresh", []byte("x"), time.Hour); err != nil {
		t.Fatal(err)
	}
	n, err := s.Purge(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Purge = %d, %v; want 1 deleted", n, err)
	}
	left, err := s.coll.CountDocuments(ctx, bson.D{})
	if err != nil || left != 2 {
		t.Fatalf("documents left = %d, %v; want 2", left, err)
	}
}

func TestCleanupRuns(t *testing.T) {
	s := newTestStore(t, Options{CleanupInterval: 50 * time.Millisecond})
	if s.ttlIndex {
		t.Skip("the server has TTL indexes; the store runs no clean-up")
	}
	ctx := context.Background()
	past := time.Now().Add(-time.Second)
	if _, err := s.coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "old"}, {Key: "data", Value: []byte("x")}, {Key: "expires_at", Value: past}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := s.coll.CountDocuments(ctx, bson.D{})
		if err == nil && n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the clean-up left %d documents (err %v) after 5s", n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestNames(t *testing.T) {
	cases := []struct {
		uri        string
		opts       Options
		db, coll   string
		wantErrMsg bool
	}{
		{uri: "mongodb://127.0.0.1:27017/", db: DefaultDatabase, coll: DefaultCollection},
		{uri: "mongodb://127.0.0.1:27017", db: DefaultDatabase, coll: DefaultCollection},
		{uri: "mongodb://u:p@h1:1,h2:2/app?replicaSet=rs", db: "app", coll: DefaultCollection},
		{uri: "mongodb://h/app", opts: Options{Database: "other", Collection: "s"}, db: "other", coll: "s"},
		{uri: "http://nope", wantErrMsg: true},
	}
	for _, c := range cases {
		db, coll, err := names(c.uri, c.opts)
		if c.wantErrMsg {
			if err == nil {
				t.Errorf("names(%q) accepted an invalid URI", c.uri)
			}
			continue
		}
		if err != nil || db != c.db || coll != c.coll {
			t.Errorf("names(%q, %+v) = %q, %q, %v; want %q, %q", c.uri, c.opts, db, coll, err, c.db, c.coll)
		}
	}
}

func TestNewLeavesClientConnected(t *testing.T) {
	client := testClient(t)
	coll := freshCollection(t, client)
	s, err := New(context.Background(), coll, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := client.Ping(context.Background(), nil); err != nil {
		t.Fatalf("the application's client stopped working after Close: %v", err)
	}
	if _, err := New(context.Background(), nil, Options{}); err == nil {
		t.Error("New(nil collection) succeeded")
	}
}

func TestIsLive(t *testing.T) {
	now := time.Now()
	doc := func(e ...bson.E) bson.Raw {
		raw, err := bson.Marshal(bson.D(e))
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	cases := []struct {
		name string
		doc  bson.Raw
		want bool
	}{
		{"no expiry", doc(bson.E{Key: "data", Value: []byte("x")}), true},
		{"future", doc(bson.E{Key: "expires_at", Value: now.Add(time.Second)}), true},
		{"past", doc(bson.E{Key: "expires_at", Value: now.Add(-time.Second)}), false},
		{"not a date", doc(bson.E{Key: "expires_at", Value: "tomorrow"}), false},
	}
	for _, c := range cases {
		if got := isLive(c.doc, now); got != c.want {
			t.Errorf("%s: isLive = %v, want %v", c.name, got, c.want)
		}
	}
}
