package mongodb

import (
	"bytes"
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// benchValue is the size of a typical small session.
var benchValue = bytes.Repeat([]byte("0123456789"), 20)

func BenchmarkGet(b *testing.B) {
	s := newTestStore(b, Options{})
	ctx := context.Background()
	if err := s.Set(ctx, "bench", benchValue, time.Hour); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSet(b *testing.B) {
	s := newTestStore(b, Options{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Set(ctx, "bench", benchValue, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetVersion(b *testing.B) {
	s := newTestStore(b, Options{})
	ctx := context.Background()
	if err := s.Set(ctx, "bench", benchValue, time.Hour); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.GetVersion(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSetIf saves with the version of the value stored just before,
// which VersionOf tells, so no read is needed between saves.
func BenchmarkSetIf(b *testing.B) {
	s := newTestStore(b, Options{})
	ctx := context.Background()
	cur, next := benchValue, bytes.Repeat([]byte("9876543210"), 20)
	if err := s.SetIf(ctx, "bench", nil, cur, time.Hour); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.SetIf(ctx, "bench", s.VersionOf(cur), next, time.Hour); err != nil {
			b.Fatal(err)
		}
		cur, next = next, cur
	}
}

// BenchmarkRawGet is the driver alone doing the same read: FindOne by _id
// with the same projection, the value taken from the raw document.
func BenchmarkRawGet(b *testing.B) {
	s := newTestStore(b, Options{})
	ctx := context.Background()
	if err := s.Set(ctx, "bench", benchValue, time.Hour); err != nil {
		b.Fatal(err)
	}
	opts := options.FindOne().SetProjection(bson.D{{Key: "data", Value: 1}, {Key: "_id", Value: 0}})
	b.ReportAllocs()
	for b.Loop() {
		raw, err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: "bench"}}, opts).Raw()
		if err != nil {
			b.Fatal(err)
		}
		if _, data := raw.Lookup("data").Binary(); len(data) != len(benchValue) {
			b.Fatal("short value")
		}
	}
}

// BenchmarkRawSet is the driver alone doing the same write: an UpdateOne
// upsert setting data and expires_at.
func BenchmarkRawSet(b *testing.B) {
	s := newTestStore(b, Options{})
	ctx := context.Background()
	opts := options.UpdateOne().SetUpsert(true)
	b.ReportAllocs()
	for b.Loop() {
		update := bson.D{{Key: "$set", Value: bson.D{
			{Key: "data", Value: benchValue},
			{Key: "expires_at", Value: time.Now().Add(time.Hour)},
		}}}
		if _, err := s.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "bench"}}, update, opts); err != nil {
			b.Fatal(err)
		}
	}
}
