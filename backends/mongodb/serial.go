package mongodb

import (
	"context"
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// FerretDB 1.x carries out every write that has a filter (update, delete,
// findAndModify, upsert) as two steps on its SQL store: it selects the
// matching documents, then writes them back by _id. Two filtered writes of
// one document can therefore both match and both apply, so the filter of
// SetIf and DeleteIf no longer makes them atomic. MongoDB applies a
// filtered write to a document atomically and needs none of this; FerretDB
// 2 hands writes to PostgreSQL's DocumentDB extension and is taken to do the
// same (the tests do not cover it).
//
// On such a server the store serializes its own writes to each key with
// writeLocks: that makes a Store's conditional writes atomic with respect
// to one another, which covers one application instance, but not writes
// from other processes.

// lockStripes is the number of locks writeLocks spreads keys over.
const lockStripes = 256

// writeLocks serializes the writes one Store sends for each key. Each
// stripe is a channel of capacity one rather than a mutex, so that a write
// waiting for its turn still gives up when its context ends. A nil
// *writeLocks locks nothing, which is the case on MongoDB.
type writeLocks struct {
	seed    maphash.Seed
	stripes [lockStripes]chan struct{}
}

func newWriteLocks() *writeLocks {
	w := &writeLocks{seed: maphash.MakeSeed()}
	for i := range w.stripes {
		w.stripes[i] = make(chan struct{}, 1)
	}
	return w
}

// unlockNothing is what a nil *writeLocks hands out.
func unlockNothing() {}

// lock waits until no other write to key (or Purge) is running in this
// Store, or ctx ends, and returns the function that ends this write.
func (w *writeLocks) lock(ctx context.Context, key string) (unlock func(), err error) {
	if w == nil {
		return unlockNothing, nil
	}
	stripe := w.stripes[maphash.String(w.seed, key)%lockStripes]
	if err := acquire(ctx, stripe); err != nil {
		return nil, err
	}
	return func() { <-stripe }, nil
}

// lockAll waits until it holds every stripe, for Purge: its DeleteMany is
// two steps on FerretDB 1.x as well, and could otherwise delete a document
// that a write revived between them.
func (w *writeLocks) lockAll(ctx context.Context) (unlock func(), err error) {
	if w == nil {
		return unlockNothing, nil
	}
	for i, stripe := range w.stripes {
		if err := acquire(ctx, stripe); err != nil {
			release(w.stripes[:i])
			return nil, err
		}
	}
	return func() { release(w.stripes[:]) }, nil
}

// acquire takes the stripe, or returns ctx's error if ctx ends first.
func acquire(ctx context.Context, stripe chan struct{}) error {
	select {
	case stripe <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func release(stripes []chan struct{}) {
	for _, stripe := range stripes {
		<-stripe
	}
}

// needsWriteLocks asks the server (one buildInfo) whether it is FerretDB
// 1.x, whose filtered writes are not atomic. FerretDB names its version in
// the field ferretdbVersion; a build that does not know its version (it
// says "unknown") is taken for 1.x, since locking costs little there.
func needsWriteLocks(ctx context.Context, db *mongo.Database) (bool, error) {
	raw, err := db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Raw()
	if err != nil {
		return false, fmt.Errorf("mongodb: buildInfo: %w", err)
	}
	version, ok := raw.Lookup("ferretdbVersion").StringValueOK()
	if !ok {
		return false, nil // MongoDB itself
	}
	return ferretMajor(version) < 2, nil
}

// ferretMajor returns the major number of a FerretDB version such as
// "v1.24.0", or 0 when version is not one.
func ferretMajor(version string) int {
	major, _, _ := strings.Cut(strings.TrimPrefix(version, "v"), ".")
	n, err := strconv.Atoi(major)
	if err != nil {
		return 0
	}
	return n
}
