package mongodb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// dataVersion is the version of a document that holds data and no
// digest.
func dataVersion(data string) core.Version {
	return append(core.Version{versionData}, data...)
}

// wantDigest fails the test unless doc holds the digest of its data, as
// every write of the store leaves it.
func wantDigest(t *testing.T, doc bson.Raw) {
	t.Helper()
	_, data, _ := doc.Lookup(fieldData).BinaryOK()
	_, stored, ok := doc.Lookup(fieldDigest).BinaryOK()
	if sum := sha256.Sum256(data); !ok || !bytes.Equal(stored, sum[:]) {
		t.Fatalf("document %s does not hold the digest of its data", doc)
	}
}

func TestVersionForms(t *testing.T) {
	s := &Store{} // VersionOf sends nothing
	value := []byte("caf\xc3\xa9 \x00\xff")
	sum := sha256.Sum256(value)
	other := sha256.Sum256([]byte("other"))
	for _, c := range []struct {
		name   string
		stored []byte
		want   core.Version
	}{
		{"digest of the data", sum[:], s.VersionOf(value)},
		{"no digest", nil, dataVersion(string(value))},
		{"another digest", other[:], dataVersion(string(value))},
		{"short digest", sum[:31], dataVersion(string(value))},
	} {
		got, v := readVersion(value, c.stored)
		if !bytes.Equal(got, value) || !bytes.Equal(v, c.want) {
			t.Errorf("%s: readVersion = %q, %x; want %q, %x", c.name, got, v, value, c.want)
		}
		// The caller's value is a copy of its own.
		got[0] = 'X'
		if !bytes.Equal(v, c.want) {
			t.Errorf("%s: changing the value changed the version", c.name)
		}
		if _, ok := versionCondition(v); !ok {
			t.Errorf("%s: the version read names no condition", c.name)
		}
	}
	if _, v := readVersion(nil, nil); v == nil || !bytes.Equal(v, []byte{versionData}) {
		t.Errorf("version of an empty value without digest = %x, want %x", v, versionData)
	}
	if s.VersionOf(nil) == nil {
		t.Error("VersionOf(nil) is nil, which SetIf takes for an absent key")
	}
	for _, v := range []core.Version{nil, {}, {versionDigest}, core.Version("v"), s.VersionOf(value)[:32]} {
		if cond, ok := versionCondition(v); ok {
			t.Errorf("version %x names the condition %v, want none", v, cond)
		}
	}
}

// insertLegacy stores the document an older cloakroom (or a peer that
// knows nothing of digests) wrote: _id, data and expires_at alone.
func insertLegacy(t *testing.T, s *Store, key string, data []byte) {
	t.Helper()
	doc := bson.D{{Key: "_id", Value: key}, {Key: "data", Value: data}, {Key: "expires_at", Value: time.Now().Add(time.Hour)}}
	if _, err := s.coll.InsertOne(context.Background(), doc); err != nil {
		t.Fatal(err)
	}
}

// TestConditionalLegacyDocument reads and conditionally writes documents
// without a digest: the version names their data, a SetIf with it
// succeeds and leaves the digest, after which the version is the short
// one VersionOf tells.
func TestConditionalLegacyDocument(t *testing.T) {
	s := newTestStore(t, Options{})
	ctx := context.Background()
	for _, old := range []string{"legacy", ""} {
		insertLegacy(t, s, "l", []byte(old))
		got, v, err := s.GetVersion(ctx, "l")
		if err != nil || string(got) != old || !bytes.Equal(v, dataVersion(old)) {
			t.Fatalf("GetVersion of a legacy %q = %q, %x, %v; want the value and a version of the data form", old, got, v, err)
		}
		if err := s.SetIf(ctx, "l", v, []byte("new"), time.Hour); err != nil {
			t.Fatalf("SetIf with the version of a legacy %q: %v", old, err)
		}
		wantDigest(t, rawDoc(t, s, "l"))
		if _, v, err = s.GetVersion(ctx, "l"); err != nil || !bytes.Equal(v, s.VersionOf([]byte("new"))) {
			t.Fatalf("GetVersion after SetIf = %x, %v; want VersionOf the value", v, err)
		}
		if err := s.Delete(ctx, "l"); err != nil {
			t.Fatal(err)
		}
	}
	insertLegacy(t, s, "l", []byte("legacy"))
	_, v, err := s.GetVersion(ctx, "l")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteIf(ctx, "l", v); err != nil {
		t.Fatalf("DeleteIf with the version of a legacy document: %v", err)
	}
}

// TestConditionalPeerRawWrite has a peer rewrite the document with its
// own driver between GetVersion and SetIf, in each of the ways one may:
// whichever the document's form, the stale version must conflict.
func TestConditionalPeerRawWrite(t *testing.T) {
	peerData := []byte("peer's")
	sum := sha256.Sum256(peerData)
	data, digest := bson.E{Key: "data", Value: peerData}, bson.E{Key: "data_sha256", Value: sum[:]}
	expiry := bson.E{Key: "expires_at", Value: time.Now().Add(time.Hour)}
	peerWrites := map[string]func(coll *mongo.Collection, key string) error{
		"ReplaceOne without the digest": func(coll *mongo.Collection, key string) error {
			_, err := coll.ReplaceOne(context.Background(), bson.D{{Key: "_id", Value: key}}, bson.D{data, expiry})
			return err
		},
		"ReplaceOne with the digest": func(coll *mongo.Collection, key string) error {
			_, err := coll.ReplaceOne(context.Background(), bson.D{{Key: "_id", Value: key}}, bson.D{data, digest, expiry})
			return err
		},
		"$set data and the digest": func(coll *mongo.Collection, key string) error {
			update := bson.D{{Key: "$set", Value: bson.D{data, digest}}}
			_, err := coll.UpdateOne(context.Background(), bson.D{{Key: "_id", Value: key}}, update)
			return err
		},
		"$set data, $unset the digest": func(coll *mongo.Collection, key string) error {
			update := bson.D{{Key: "$set", Value: bson.D{data}}, {Key: "$unset", Value: bson.D{{Key: "data_sha256", Value: ""}}}}
			_, err := coll.UpdateOne(context.Background(), bson.D{{Key: "_id", Value: key}}, update)
			return err
		},
	}
	s := newTestStore(t, Options{})
	ctx := context.Background()
	starts := map[string]func(key string){
		"legacy document": func(key string) { insertLegacy(t, s, key, []byte("mine")) },
		"digest document": func(key string) {
			if err := s.Set(ctx, key, []byte("mine"), time.Hour); err != nil {
				t.Fatal(err)
			}
		},
	}
	for start, store := range starts {
		for name, write := range peerWrites {
			key := start + "/" + name
			store(key)
			_, v, err := s.GetVersion(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if err := write(s.coll, key); err != nil {
				t.Fatal(err)
			}
			if err := s.SetIf(ctx, key, v, []byte("lost"), time.Hour); !errors.Is(err, core.ErrConflict) {
				t.Errorf("%s, SetIf after the peer's %s: err = %v, want ErrConflict", start, name, err)
			}
			if err := s.DeleteIf(ctx, key, v); !errors.Is(err, core.ErrConflict) {
				t.Errorf("%s, DeleteIf after the peer's %s: err = %v, want ErrConflict", start, name, err)
			}
			if got, err := s.Get(ctx, key); err != nil || !bytes.Equal(got, peerData) {
				t.Errorf("%s, after the peer's %s: Get = %q, %v; want the peer's value", start, name, got, err)
			}
		}
	}
}

// TestConditionalStaleDigest has a peer $set data alone, leaving the
// digest of the value before. GetVersion checks the digest against the
// data, so a version read after that write names the data itself, and a
// second such write before SetIf still conflicts; a SetIf without one
// stores a digest that matches again.
func TestConditionalStaleDigest(t *testing.T) {
	s := newTestStore(t, Options{})
	ctx := context.Background()
	peerSet := func(data string) {
		t.Helper()
		update := bson.D{{Key: "$set", Value: bson.D{{Key: "data", Value: []byte(data)}}}}
		if _, err := s.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "k"}}, update); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Set(ctx, "k", []byte("mine"), time.Hour); err != nil {
		t.Fatal(err)
	}
	peerSet("peer 1")
	got, v, err := s.GetVersion(ctx, "k")
	if err != nil || string(got) != "peer 1" || !bytes.Equal(v, dataVersion("peer 1")) {
		t.Fatalf("GetVersion under a stale digest = %q, %x, %v; want the peer's value and a version of the data form", got, v, err)
	}
	peerSet("peer 2")
	if err := s.SetIf(ctx, "k", v, []byte("lost"), time.Hour); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("SetIf after a second write of the peer: err = %v, want ErrConflict", err)
	}
	if _, v, err = s.GetVersion(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetIf(ctx, "k", v, []byte("mine again"), time.Hour); err != nil {
		t.Fatalf("SetIf with the version of the peer's value: %v", err)
	}
	wantDigest(t, rawDoc(t, s, "k"))
}
