package mongodb

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"time"

	"github.com/cloakroom/cloakroom/internal/timeout"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// A lease makes the writes of one key exclusive across processes on a
// server whose filtered writes are not atomic (FerretDB 1.x; see
// serial.go). It is a document in a collection of its own, named after
// the session collection with leaseSuffix, so that Keys and Purge never
// see one:
//
//	{_id: <key>, token: <random, one per holder>, expires_at: <date>}
//
// The one write such a server does carry out atomically is an insert,
// whose unique _id it enforces: inserting the lease takes it, and a
// duplicate key error means another process holds it. Its holder deletes
// it when done. A lease whose holder crashed lapses at expires_at, and a
// contender then breaks it (breakExpired).
//
// The guarantee rests on time. A holder sends every command it makes
// under its lease, its release included, within leaseHold of asking for
// the lease, and the lease lasts leaseTTL from then; contenders compare
// expires_at with their own clocks. Two processes can therefore both act
// as holders only when a command reaches the server, or is carried out by
// it, more than leaseTTL - leaseHold (2 seconds) after it was sent, or
// when the clocks of two application hosts differ by as much: the window
// no lease without a fencing token checked by the server can close.
const (
	// leaseTTL is how long a lease lasts from the moment its holder asked
	// for it; so also the longest a crashed holder blocks the key.
	leaseTTL = 5 * time.Second
	// leaseHold is how long after asking for a lease its holder may still
	// send commands under it: the deadline of its write, and the last
	// moment for its release.
	leaseHold = 3 * time.Second
	// leasePollFirst and leasePollMax bound the pause between two attempts
	// at a lease another process holds: a few milliseconds at first, a
	// write under a lease taking about three round trips, growing to
	// leasePollMax, so that a long wait costs the server little.
	leasePollFirst = 2 * time.Millisecond
	leasePollMax   = 20 * time.Millisecond
)

// leaseSuffix follows the session collection's name in the name of the
// lease collection, in the same database.
const leaseSuffix = "_leases"

// fieldToken holds the random token of a lease's holder.
const fieldToken = "token"

// leases takes and releases the leases of one session collection.
type leases struct {
	coll *mongo.Collection
}

// newLeases returns the leases of the session collection sessions. The
// lease collection is created by the first lease taken, so it never
// exists where no lease is needed.
func newLeases(sessions *mongo.Collection) *leases {
	return &leases{coll: sessions.Database().Collection(sessions.Name() + leaseSuffix)}
}

// hold is a lease taken: on names, under one token.
type hold struct {
	leases *leases
	names  []string
	token  string
	until  time.Time // leaseHold after the lease was asked for
}

// stored is a lease as read back: whose it is and when it lapses. The
// zero stored is no lease.
type stored struct {
	found   bool
	token   string
	expires time.Time
}

// acquire waits until it holds the lease on name, or ctx ends. While
// another writer holds it, it tries again after a short pause, reading
// the lease only once it may have expired, so that a wait costs one
// insert per attempt.
func (ls *leases) acquire(ctx context.Context, name string) (*hold, error) {
	var lapses time.Time // the expiry of the lease last read in the way
	for attempt := 0; ; attempt++ {
		h, in, err := ls.try(ctx, name, lapses)
		if h != nil || err != nil {
			return h, err
		}
		lapses = in.expires
		if err := pause(ctx, attempt); err != nil {
			return nil, fmt.Errorf("waiting for the lease on %q, which another writer holds: %w", name, err)
		}
	}
}

// try makes one attempt at the lease on name: it inserts it, and returns
// the hold when the insert took it. When another writer holds it, try
// returns that lease as it reads it, so that the caller knows until when
// it is in the way; while lapses, the expiry read before, has not passed,
// it does not read it again. A lease that has expired it breaks, and one
// that is gone it reports as the zero stored: either way the next attempt
// may take it.
func (ls *leases) try(ctx context.Context, name string, lapses time.Time) (*hold, stored, error) {
	h, err := ls.insert(ctx, name)
	if !mongo.IsDuplicateKeyError(err) {
		return h, stored{}, leaseError(ctx, leaseOn(name), err)
	}
	if time.Now().Before(lapses) {
		return nil, stored{found: true, expires: lapses}, nil
	}
	in, err := ls.read(ctx, name)
	if err != nil || !in.found || time.Now().Before(in.expires) {
		return nil, in, leaseError(ctx, leaseOn(name), err)
	}
	return nil, stored{}, ls.breakExpired(ctx, name, in.token)
}

// insert takes the lease on name, or fails with a duplicate key error.
// An insert that failed otherwise (a timeout) may have been carried out
// all the same: it is released, so that the key is not blocked for
// leaseTTL by a lease no one holds.
func (ls *leases) insert(ctx context.Context, name string) (*hold, error) {
	h := ls.newHold([]string{name})
	_, err := ls.coll.InsertOne(ctx, h.document(name))
	switch {
	case err == nil:
		return h, nil
	case !mongo.IsDuplicateKeyError(err):
		h.release(ctx, func() {})
	}
	return nil, err
}

// insertMany takes, with one insert that goes on past a duplicate key, the
// leases on those of names that no one holds, and returns the hold on
// them: nil when it took none. Purge leases a batch of keys so, and leaves
// those it could not lease to the next Purge.
func (ls *leases) insertMany(ctx context.Context, names []string) (*hold, error) {
	h := ls.newHold(names)
	docs := make([]any, len(names))
	for i, name := range names {
		docs[i] = h.document(name)
	}
	_, err := ls.coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	took, err := taken(names, err)
	if err != nil {
		h.release(ctx, func() {}) // the leases it took, if any
		return nil, leaseError(ctx, "leases of a batch", err)
	}
	if len(took) == 0 {
		return nil, nil
	}
	h.names = took
	return h, nil
}

// taken returns those of names whose leases an unordered insert of them
// took, given the insert's error: all of them when err is nil, all but
// those refused as duplicate keys when that is all err says; err itself
// when anything else failed.
func taken(names []string, err error) ([]string, error) {
	if err == nil {
		return names, nil
	}
	var bulk mongo.BulkWriteException
	if !errors.As(err, &bulk) || bulk.WriteConcernError != nil {
		return nil, err
	}
	refused := make(map[int]bool, len(bulk.WriteErrors))
	for _, we := range bulk.WriteErrors {
		if !mongo.IsDuplicateKeyError(we.WriteError) {
			return nil, err
		}
		refused[we.Index] = true
	}
	var took []string
	for i, name := range names {
		if !refused[i] {
			took = append(took, name)
		}
	}
	return took, nil
}

// newHold returns the hold of a lease about to be asked for on names.
func (ls *leases) newHold(names []string) *hold {
	return &hold{leases: ls, names: names, token: rand.Text(), until: time.Now().Add(leaseHold)}
}

// document is the lease on name that h inserts.
func (h *hold) document(name string) bson.D {
	expires := h.until.Add(leaseTTL - leaseHold)
	return bson.D{{Key: fieldID, Value: name}, {Key: fieldToken, Value: h.token}, {Key: fieldExpires, Value: expires}}
}

// read returns the lease on name, or the zero stored when there is none.
func (ls *leases) read(ctx context.Context, name string) (stored, error) {
	raw, err := ls.coll.FindOne(ctx, bson.D{{Key: fieldID, Value: name}}).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return stored{}, nil
	}
	if err != nil {
		return stored{}, err
	}
	token, _ := raw.Lookup(fieldToken).StringValueOK()
	expires, _ := raw.Lookup(fieldExpires).TimeOK() // none: expired long ago
	return stored{found: true, token: token, expires: expires}, nil
}

// breakExpired deletes the lease on name that carries token, found
// expired: its holder crashed, or overran leaseHold by far.
//
// Deleting it takes a filtered delete, which FerretDB 1.x carries out as
// a select, then a delete by _id. Two contenders that found it expired
// could both select it; the first deletes it, a third process inserts a
// fresh lease, and the second's delete by _id removes that fresh lease,
// which two processes would then both believe theirs. So only the holder
// of a second lease, on name+"\x00"+token, deletes the expired one. Tokens
// are random and never reused, so that lease exists once per expired
// lease: the contender that cannot take it leaves the deleting to its
// holder, and one that takes it after the expired lease is gone deletes
// nothing, its filter on the old token matching no fresh lease. The second
// lease is taken with try, so that one left by a crashed breaker is in
// turn broken once it expires.
func (ls *leases) breakExpired(ctx context.Context, name, token string) error {
	h, _, err := ls.try(ctx, name+"\x00"+token, time.Time{})
	if h == nil {
		return err // another contender is breaking it
	}
	dctx, cancel := context.WithDeadline(ctx, h.until)
	defer cancel()
	_, err = ls.coll.DeleteOne(dctx, bson.D{{Key: fieldID, Value: name}, {Key: fieldToken, Value: token}})
	h.release(ctx, func() {})
	return leaseError(ctx, "breaking the expired "+leaseOn(name), err)
}

// release deletes the leases of h, then calls done. It sends the delete
// only before h.until: later, a lease may have lapsed and been taken by
// another process, and the delete, a select then a delete by _id on
// FerretDB 1.x, could remove that lease even though its filter names h's
// token. (Before h.until, the lease read by the select is still h's when
// the delete by _id follows, unless the server delays it by more than
// leaseTTL - leaseHold.) A lease not deleted lapses at its expiry.
//
// While ctx runs, the release is part of the call; once it has ended (the
// call failed at its deadline), the release goes on in the background, so
// that the call keeps its bound.
func (h *hold) release(ctx context.Context, done func()) {
	if ctx.Err() == nil {
		h.delete(ctx)
		done()
		return
	}
	go func() {
		defer done()
		h.delete(context.WithoutCancel(ctx))
	}()
}

// delete deletes the leases of h, as release describes. A failure is not
// reported: the write it ends has succeeded or failed already, and the
// leases lapse at their expiry.
func (h *hold) delete(ctx context.Context) {
	ctx, cancel := context.WithDeadline(ctx, h.until)
	defer cancel()
	if ctx.Err() != nil {
		return
	}
	filter := bson.D{{Key: fieldID, Value: bson.D{{Key: "$in", Value: h.names}}}, {Key: fieldToken, Value: h.token}}
	_, _ = h.leases.coll.DeleteMany(ctx, filter)
}

// leaseError wraps err, a failure of what. When ctx has ended, the error
// wraps ctx's error, so that the caller's bound shows, whatever the driver
// made of it.
func leaseError(ctx context.Context, what string, err error) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil && !errors.Is(err, ctx.Err()):
		return fmt.Errorf("%s: %w (%w)", what, ctx.Err(), err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// leaseOn names the lease on name in errors.
func leaseOn(name string) string {
	return fmt.Sprintf("lease on %q", name)
}

// pause waits before attempt+1 at a lease held by another process, or
// returns ctx's error if ctx ends first. The pause grows from
// leasePollFirst to leasePollMax, with jitter so that contenders do not
// poll in step.
func pause(ctx context.Context, attempt int) error {
	ceiling := min(leasePollFirst<<min(attempt, 8), leasePollMax)
	return timeout.Sleep(ctx, ceiling/2+mathrand.N(ceiling/2))
}

// breakAllExpired breaks every lease that has expired: those that crashed
// holders left on keys no one has written since, which would otherwise
// stay, and keep Purge from leasing their keys.
func (ls *leases) breakAllExpired(ctx context.Context) error {
	cur, err := ls.coll.Find(ctx, bson.D{{Key: fieldExpires, Value: bson.D{{Key: "$lte", Value: time.Now()}}}})
	if err != nil {
		return leaseError(ctx, "reading expired leases", err)
	}
	var expired []bson.Raw
	if err := cur.All(ctx, &expired); err != nil {
		return leaseError(ctx, "reading expired leases", err)
	}
	for _, raw := range expired {
		name, _ := raw.Lookup(fieldID).StringValueOK()
		token, _ := raw.Lookup(fieldToken).StringValueOK()
		if err := ls.breakExpired(ctx, name, token); err != nil {
			return err
		}
	}
	return nil
}
