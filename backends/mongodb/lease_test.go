package mongodb

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// plantLease stores a lease on name as another process would have left
// it: with token, lapsing at expires.
func plantLease(t *testing.T, ls *leases, name, token string, expires time.Time) {
	t.Helper()
	doc := bson.D{{Key: fieldID, Value: name}, {Key: fieldToken, Value: token}, {Key: fieldExpires, Value: expires}}
	if _, err := ls.coll.InsertOne(context.Background(), doc); err != nil {
		t.Fatal(err)
	}
}

// storedLeases returns the names and tokens of the leases stored.
func storedLeases(t *testing.T, ls *leases) map[string]string {
	t.Helper()
	cur, err := ls.coll.Find(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []bson.Raw
	if err := cur.All(context.Background(), &docs); err != nil {
		t.Fatal(err)
	}
	stored := make(map[string]string, len(docs))
	for _, doc := range docs {
		stored[doc.Lookup(fieldID).StringValue()] = doc.Lookup(fieldToken).StringValue()
	}
	return stored
}

// testLeases returns the leases of a fresh collection, and the same
// leases as another process on a client of its own sees them.
func testLeases(t *testing.T) (*leases, *leases) {
	t.Helper()
	coll := freshCollection(t, testClient(t))
	return newLeases(coll), otherProcess(t, coll)
}

// otherProcess returns the leases of coll on a client of its own.
func otherProcess(t *testing.T, coll *mongo.Collection) *leases {
	t.Helper()
	return newLeases(testClient(t).Database(testDatabase).Collection(coll.Name()))
}

// TestLeaseExcludes: while one process holds a key's lease, another
// waits for it until its context ends, with an error that says so, and
// takes it once it is released.
func TestLeaseExcludes(t *testing.T) {
	ls, other := testLeases(t)
	ctx := context.Background()
	h, err := ls.acquire(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := other.acquire(wctx, "k"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire of a held lease: err = %v, want DeadlineExceeded", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("acquire of a held lease gave up after %v, with a 100ms deadline", took)
	}
	if _, err := other.acquire(ctx, "other key"); err != nil {
		t.Fatalf("acquire of another key: %v", err)
	}
	h.release(ctx, func() {})
	wctx, cancel = context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := other.acquire(wctx, "k"); err != nil {
		t.Fatalf("acquire after the release: %v", err)
	}
}

// TestLeaseTakeOver: a lease whose holder crashed is taken over once it
// expires, and so is one whose breaker crashed too; what they leave is
// gone afterwards, but for the new lease.
func TestLeaseTakeOver(t *testing.T) {
	for name, crashed := range map[string][]string{
		"holder":             {"k"},
		"holder and breaker": {"k", "k\x00crashed"},
	} {
		t.Run(name, func(t *testing.T) {
			ls, _ := testLeases(t)
			for _, name := range crashed {
				plantLease(t, ls, name, "crashed", time.Now().Add(-time.Second))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			h, err := ls.acquire(ctx, "k")
			if err != nil {
				t.Fatalf("acquire of an expired lease: %v", err)
			}
			if got := storedLeases(t, ls); len(got) != 1 || got["k"] != h.token {
				t.Fatalf("leases stored after the take-over: %q, want only k with token %q", got, h.token)
			}
		})
	}
}

// TestLeaseLapses: a lease that lapses soon is waited for, then taken, its
// expiry read once rather than at every attempt.
func TestLeaseLapses(t *testing.T) {
	ls, _ := testLeases(t)
	plantLease(t, ls, "k", "crashed", time.Now().Add(300*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := ls.acquire(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 300*time.Millisecond || took > 2*time.Second {
		t.Errorf("took a lease lapsing after 300ms in %v", took)
	}
}

// TestLeaseTakeOverRace has eight contenders, each with a client of its
// own, race for a lease whose holder crashed, ten times: only one of them
// may hold it at a time.
func TestLeaseTakeOverRace(t *testing.T) {
	const contenders, rounds = 8, 10
	coll := freshCollection(t, testClient(t))
	ls := newLeases(coll)
	each := make([]*leases, contenders)
	for i := range each {
		each[i] = otherProcess(t, coll)
	}
	var inside, most atomic.Int32
	for round := range rounds {
		plantLease(t, ls, "k", fmt.Sprint("crashed", round), time.Now().Add(-time.Second))
		var next atomic.Int32
		parallel(contenders, func() {
			mine := each[next.Add(1)-1]
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			h, err := mine.acquire(ctx, "k")
			if err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(2 * time.Millisecond)
			inside.Add(-1)
			h.release(ctx, func() {})
		})
		if got := storedLeases(t, ls); len(got) != 0 {
			t.Fatalf("round %d left leases %q", round, got)
		}
	}
	if n := most.Load(); n != 1 {
		t.Fatalf("%d contenders held the lease at once", n)
	}
}

// TestLeaseNotReleasedLate: a holder past its leaseHold leaves its lease
// to lapse rather than delete it, since it may be another's by then.
func TestLeaseNotReleasedLate(t *testing.T) {
	ls, _ := testLeases(t)
	ctx := context.Background()
	h, err := ls.acquire(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	h.until = time.Now().Add(-time.Millisecond)
	h.release(ctx, func() {})
	if got := storedLeases(t, ls); got["k"] != h.token {
		t.Fatalf("leases after a late release: %q, want k still held", got)
	}
}

// TestPurgeLeased checks Purge where writes take leases: it deletes every
// expired session, over several batches, but none whose lease another
// writer holds, and it breaks the leases crashed holders left.
func TestPurgeLeased(t *testing.T) {
	s := newTestStore(t, Options{CleanupInterval: -1})
	s.locks = newWriteLocks(s.coll) // as on FerretDB 1.x, whatever the server
	ctx := context.Background()
	const expired = purgeBatch + 44
	docs := make([]any, 0, expired)
	for i := range expired {
		docs = append(docs, bson.D{{Key: fieldID, Value: fmt.Sprintf("e%03d", i)}, {Key: fieldData, Value: []byte("x")},
			{Key: fieldExpires, Value: time.Now().Add(-time.Minute)}})
	}
	if _, err := s.coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "live", []byte("x"), time.Hour); err != nil {
		t.Fatal(err)
	}
	other := otherProcess(t, s.coll)
	h, err := other.acquire(ctx, "e007") // a write of another process
	if err != nil {
		t.Fatal(err)
	}
	plantLease(t, other, "orphan", "crashed", time.Now().Add(-time.Second))

	n, err := s.Purge(ctx)
	if err != nil || n != expired-1 {
		t.Fatalf("Purge = %d, %v; want %d", n, err, expired-1)
	}
	if rawDoc(t, s, "e007") == nil || rawDoc(t, s, "live") == nil {
		t.Fatal("Purge deleted a leased or live session")
	}
	if got := storedLeases(t, other); len(got) != 1 || got["e007"] != h.token {
		t.Fatalf("leases after Purge: %q, want only the one held", got)
	}
	h.release(ctx, func() {})
	if n, err := s.Purge(ctx); err != nil || n != 1 {
		t.Fatalf("Purge once the lease is released = %d, %v; want 1", n, err)
	}
}
