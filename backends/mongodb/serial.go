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
// matching documents, then writes them back, whole, by _id. Two filtered
// writes of one document can therefore both match and both apply, so the
// filter of SetIf and DeleteIf no longer makes them atomic, and even a
// Touch, which sets only expires_at, puts back the data it selected over a
// write made in between. MongoDB applies a filtered write to a document
// atomically and needs none of this; FerretDB 2 hands writes to
// PostgreSQL's DocumentDB extension and is taken to do the same (the tests
// do not cover it).
//
// On such a server every write of a key (Set, SetIf, Delete, DeleteIf,
// Touch) holds the key's lock from before its first command to after its
// last: first a stripe of writeLocks, in process, then the key's lease
// (lease.go), across processes. The stripe makes the writers of one
// process queue in memory, so that only one of them at a time asks the
// server for the lease, instead of all of them polling it. Purge leases
// the keys it deletes (cleanup.go).
//
// Conditional writes are then atomic between all the processes that use
// this store on the collection, and no write puts back data it selected
// over another's, unless a command under a lease is carried out more than
// 2 seconds after it was sent, less the difference between the hosts'
// clocks (lease.go tells why that window stays). With two processes
// sharing one session (processes_test.go), 500 of 500 acknowledged
// increments were kept, where 323 were with locks in process only; 50 of
// 50 keys where 33 were; 50 of 50 keys set while the other process only
// read and touched, where 10 were; and no acknowledged increment was lost
// to a login, where one was in 9 logins of 10. It costs two round trips
// per write (the lease's insert and delete: Set took 3.4 ms instead of
// 1.1 ms on FerretDB with SQLite), and up to leaseTTL to the next writer
// of a key whose holder crashed.

// lockStripes is the number of locks writeLocks spreads keys over.
const lockStripes = 256

// writeLocks serializes the writes of each key: those of one Store with a
// stripe, those of every process with the key's lease. Each stripe is a
// channel of capacity one rather than a mutex, so that a write waiting
// for its turn still gives up when its context ends. A nil *writeLocks
// locks nothing, which is the case on MongoDB: no lease is then taken,
// and the lease collection is never created.
type writeLocks struct {
	seed    maphash.Seed
	stripes [lockStripes]chan struct{}
	leases  *leases
}

// newWriteLocks returns the locks of the writes to sessions.
func newWriteLocks(sessions *mongo.Collection) *writeLocks {
	w := &writeLocks{seed: maphash.MakeSeed(), leases: newLeases(sessions)}
	for i := range w.stripes {
		w.stripes[i] = make(chan struct{}, 1)
	}
	return w
}

// unlockNothing is what a nil *writeLocks hands out.
func unlockNothing() {}

// lock waits until no other write to key is running, in this Store or in
// another process, or ctx ends. It returns the context for the write's
// commands, ctx bounded so that they are sent before the lease may lapse,
// and the function that ends the write. On a nil *writeLocks it returns
// ctx itself and sends nothing.
func (w *writeLocks) lock(ctx context.Context, key string) (context.Context, func(), error) {
	if w == nil {
		return ctx, unlockNothing, nil
	}
	stripe := w.stripe(key)
	if err := acquire(ctx, stripe); err != nil {
		return ctx, nil, err
	}
	unstripe := func() { <-stripe }
	h, err := w.leases.acquire(ctx, key)
	if err != nil {
		unstripe()
		return ctx, nil, err
	}
	wctx, cancel := context.WithDeadline(ctx, h.until)
	return wctx, func() {
		cancel()
		h.release(ctx, unstripe)
	}, nil
}

// stripe returns the stripe of key.
func (w *writeLocks) stripe(key string) chan struct{} {
	return w.stripes[maphash.String(w.seed, key)%lockStripes]
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
