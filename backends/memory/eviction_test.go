package memory

import (
	"context"
	"fmt"
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// These tests drive single shards, so that they choose which keys compete.
// They hash the keys they write there with hashOf: the store's hash also
// chooses the shard, and any hash serves a shard's index as long as a key
// always gets the same one.

var testSeed = maphash.MakeSeed()

// hashOf is the hash under which the tests index the keys they write in a
// single shard.
func hashOf(key string) uint32 { return uint32(maphash.String(testSeed, key) >> 32) }

// slotOf returns the slot of key, written with hashOf, or none.
func slotOf(sh *shard, key string) slot { return sh.keys.find(&sh.entries, hashOf(key), key) }

// lookup returns the entry of key, written with hashOf, or nil.
func lookup(sh *shard, key string) *entry { return entryAt(sh, slotOf(sh, key)) }

// entryAt returns the entry at i, nil for none.
func entryAt(sh *shard, i slot) *entry {
	if i == none {
		return nil
	}
	return sh.entries.at(i)
}

// storeEntry returns the entry of key in s, as Get finds it, or nil.
func storeEntry(s *Store, key string) *entry {
	sh, hash := s.shard(key)
	return entryAt(sh, sh.keys.find(&sh.entries, hash, key))
}

// testShard returns shard 0 of a store with opts and no background clean-up.
func testShard(t *testing.T, opts Options) *shard {
	t.Helper()
	opts.CleanupInterval = -1
	s := New(opts)
	t.Cleanup(func() { s.Close() })
	return &s.shards[0]
}

// write stores a value of size bytes under key as Set and SetIf do, and
// checks the shard. Only sizes matter to eviction: the value is zeros.
func write(t *testing.T, sh *shard, key string, size int) {
	t.Helper()
	data := make([]byte, len(key)+size)
	copy(data, key)
	writeData(t, sh, key, data)
}

// writeData stores data, which starts with key, as an entry's data, and
// checks the shard.
func writeData(t *testing.T, sh *shard, key string, data []byte) {
	t.Helper()
	sh.put(slotOf(sh, key), hashOf(key), len(key), data, 0)
	checkShard(t, sh)
}

// read reads key as GetVersion does and reports whether it was there.
func read(t *testing.T, sh *shard, key string) bool {
	t.Helper()
	i := slotOf(sh, key)
	if i != none {
		sh.use(i)
	}
	checkShard(t, sh)
	return i != none
}

func isProtected(sh *shard, key string) bool {
	e := lookup(sh, key)
	return e != nil && e.index >= 0
}

// checkShard fails t unless sh's structures agree with each other and with
// its bounds: every indexed entry is in exactly one segment, and found by
// its key; the probation list is linked both ways; the heap is ordered and
// knows its positions; every slot is in use or free, not both; the index
// holds exactly the slots in use; and the totals are the sums of what the
// segments hold.
func checkShard(t *testing.T, sh *shard) {
	t.Helper()
	indexed := func(i slot) bool {
		e := sh.entries.at(i)
		return e.data != nil && sh.keys.find(&sh.entries, e.hash, string(e.key())) == i
	}
	var prob, prot totals
	prev := none
	for i := sh.probation.head; i != none; prev, i = i, sh.entries.at(i).next {
		e := sh.entries.at(i)
		if e.prev != prev || e.index != -1 || !indexed(i) {
			t.Fatalf("probation entry %q in slot %d: prev %d (want %d), index %d, indexed %v", e.key(), i, e.prev, prev, e.index, indexed(i))
		}
		prob.n++
		prob.bytes += e.cost()
	}
	if sh.probation.tail != prev {
		t.Fatalf("probation tail %d, want %d", sh.probation.tail, prev)
	}
	for at, i := range sh.protected.items {
		e := sh.entries.at(i)
		if int(e.index) != at || e.prev != none || e.next != none || !indexed(i) {
			t.Fatalf("protected entry %q at %d: index %d, linked %v, indexed %v", e.key(), at, e.index, e.prev != none || e.next != none, indexed(i))
		}
		if parent := sh.entries.at(sh.protected.items[max(0, (at-1)/2)]); at > 0 && e.priority < parent.priority {
			t.Fatalf("protected entry %q at %d ranks %g, below its parent's %g", e.key(), at, e.priority, parent.priority)
		}
		prot.n++
		prot.bytes += e.cost()
	}
	inUse, free := 0, 0
	for i := slot(1); i < sh.entries.top; i++ {
		if sh.entries.at(i).data != nil {
			inUse++
		}
	}
	for i := sh.entries.free; i != none; i = sh.entries.at(i).next {
		if sh.entries.at(i).data != nil || free > int(sh.entries.top) {
			t.Fatalf("free slot %d in use, or the free list loops", i)
		}
		free++
	}
	buckets := 0
	for _, b := range sh.keys.buckets {
		if b.slot != none {
			if e := sh.entries.at(b.slot); e.data == nil || e.hash != b.hash {
				t.Fatalf("bucket of slot %d: slot in use %v, hash %#x, want %#x", b.slot, e.data != nil, b.hash, e.hash)
			}
			buckets++
		}
	}
	switch {
	case sh.entries.top > 0 && inUse+free != int(sh.entries.top)-1:
		t.Fatalf("%d slots in use and %d free of %d", inUse, free, sh.entries.top-1)
	case buckets != sh.keys.n || buckets != inUse || 4*buckets > 3*len(sh.keys.buckets):
		t.Fatalf("%d buckets full (the index counts %d) of %d, %d slots in use", buckets, sh.keys.n, len(sh.keys.buckets), inUse)
	case prob != sh.probation.totals || prot != sh.protected.totals:
		t.Fatalf("totals: probation %+v, counted %+v; protected %+v, counted %+v", sh.probation.totals, prob, sh.protected.totals, prot)
	case prob.n+prot.n != inUse:
		t.Fatalf("%d keys stored, %d in the segments", inUse, prob.n+prot.n)
	case prob.n+prot.n > sh.maxEntries || sh.maxBytes >= 0 && prob.bytes+prot.bytes > sh.maxBytes:
		t.Fatalf("%d keys of %d bytes, over the bounds %d and %d", prob.n+prot.n, prob.bytes+prot.bytes, sh.maxEntries, sh.maxBytes)
	case sh.protectedOver(0, 0):
		t.Fatalf("protected holds %+v, over its share %d, %d", prot, sh.protEntries, sh.protBytes)
	}
}

// TestEntrySize: an entry takes 64 bytes, most of EntryOverhead
// (TestEntryOverhead measures the rest), and a slab's chunk of them fits
// the allocator's 4 KiB size class with the header it adds.
func TestEntrySize(t *testing.T) {
	if bits.UintSize != 64 {
		t.Skip("the sizes are a 64-bit platform's")
	}
	if size := reflect.TypeFor[entry]().Size(); size != 64 {
		t.Fatalf("entry is %d bytes, want 64", size)
	}
	if size := reflect.TypeFor[[chunkLen]entry]().Size(); size+8 > 4096 {
		t.Fatalf("a chunk is %d bytes, more than 4 KiB with the allocator's header", size)
	}
}

// floodShape is a flood of sessions, each written writes times (each
// write adding step bytes), and read before each write but the first, as
// the Manager does: GetVersion, then SetIf.
type floodShape struct {
	sessions, writes, step int
}

// flood runs f against sh, working on eight sessions at a time as eight
// concurrent clients would, and calls between after each batch. It
// reports how many of the flood's sessions were evicted between two of
// their requests (the Manager then starts them again, as here).
//
// Each session's writes share one buffer, its key then room for its
// largest value, which the store may keep since it never modifies data in
// place; and the buffers of sessions the shard no longer holds serve new
// sessions, whatever their previous bytes: only sizes matter to eviction.
// A flood a hundred times the shard's capacity then allocates about the
// capacity, not a hundred times it (gigabytes, slow under -race).
func (f floodShape) run(t *testing.T, sh *shard, between func()) (lost int) {
	t.Helper()
	type session struct {
		key string
		buf []byte
	}
	var held []session // the shard may hold their buffers
	var spare [][]byte // it holds none of these
	const batch = 8
	for first := 0; first < f.sessions; first += batch {
		last := min(first+batch, f.sessions)
		for i := first; i < last; i++ {
			s := session{key: fmt.Sprint("flood:", i)}
			if n := len(spare); n > 0 {
				s.buf, spare = spare[n-1], spare[:n-1]
			} else {
				s.buf = make([]byte, len("flood:")+20+f.writes*f.step) // 20 digits: any int
			}
			copy(s.buf, s.key)
			held = append(held, s)
		}
		for w := 1; w <= f.writes; w++ {
			for _, s := range held[len(held)-(last-first):] {
				if w > 1 && !read(t, sh, s.key) {
					lost++
				}
				writeData(t, sh, s.key, s.buf[:len(s.key)+w*f.step])
			}
		}
		between()
		kept := held[:0]
		for _, s := range held {
			if slotOf(sh, s.key) != none {
				kept = append(kept, s)
			} else {
				spare = append(spare, s.buf)
			}
		}
		held = kept
	}
	return lost
}

// users writes n small sessions of users and reads each once, as a login
// and the next page do.
func users(t *testing.T, sh *shard, n int) []string {
	t.Helper()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprint("user:", i)
		write(t, sh, keys[i], 200)
		if !read(t, sh, keys[i]) {
			t.Fatalf("user %d evicted before the flood", i)
		}
	}
	return keys
}

// TestFloodManyTimesCapacity: the flood (sessions of four writes
// of 60 KB, each read before the next write) at a hundred times the
// shard's capacity leaves the protected users alone, whether they come
// back during the flood or not. The flood pushes out its own kind: L
// rises, but by a flood key's uses/cost for each turn of the protected
// segment, far below a small session's lead.
func TestFloodManyTimesCapacity(t *testing.T) {
	for _, revisit := range []bool{false, true} {
		t.Run(fmt.Sprint("revisit=", revisit), func(t *testing.T) {
			sh := testShard(t, Options{}) // 4 MiB a shard
			keys := users(t, sh, 20)
			shape := floodShape{writes: 4, step: 60_000}
			shape.sessions = int(100 * sh.maxBytes / int64(shape.writes*shape.step))
			lost := shape.run(t, sh, func() {
				if revisit {
					for _, key := range keys {
						read(t, sh, key)
					}
				}
			})
			for i, key := range keys {
				if !isProtected(sh, key) {
					t.Errorf("user %d left the protected segment (still stored: %v)", i, lookup(sh, key) != nil)
				}
			}
			if lost > 0 {
				t.Logf("%d flood sessions lost between two requests", lost)
			}
			if sh.inflation == 0 {
				t.Error("L did not rise: the flood did not push out its own kind")
			}
			t.Logf("%d flood sessions (%d MB, %d times the shard's bytes): 20 of 20 users kept, L = %.3g, a user's lead %.3g",
				shape.sessions, shape.sessions*shape.writes*shape.step/1e6, 100, sh.inflation, lookup(sh, keys[0]).weight())
		})
	}
}

// TestSizeWeighing: when the protected segment must choose, a large key
// read once goes before small keys read more often, although it was read
// after them: a plain LRU would have kept it.
func TestSizeWeighing(t *testing.T) {
	sh := testShard(t, Options{MaxBytes: 16 * 10_000}) // 10,000 bytes a shard, 8,000 protected
	const small = 40
	for i := range 10 {
		key := fmt.Sprint("small:", i)
		write(t, sh, key, small)
		for range 3 {
			read(t, sh, key)
		}
	}
	write(t, sh, "large", 3000)
	read(t, sh, "large")
	if !isProtected(sh, "large") {
		t.Fatal("the large key was not admitted to a protected segment with room for it")
	}
	// New small keys, read once, fill the protected segment until one key
	// must go to probation.
	for i := 0; isProtected(sh, "large"); i++ {
		key := fmt.Sprint("new:", i)
		write(t, sh, key, small)
		read(t, sh, key)
		if i == 100 {
			t.Fatal("the large key is still protected after 100 admissions")
		}
	}
	for i := range 10 {
		if !isProtected(sh, fmt.Sprint("small:", i)) {
			t.Errorf("small key %d left the protected segment before the large one", i)
		}
	}
	// On probation, the large key is evicted before any protected key.
	for i := 0; lookup(sh, "large") != nil; i++ {
		write(t, sh, fmt.Sprint("one-shot:", i), small)
	}
	for i := range 10 {
		if !isProtected(sh, fmt.Sprint("small:", i)) {
			t.Errorf("small key %d was evicted with the large one", i)
		}
	}
}

// TestAdmissionByRank: a key read for the first time enters a full
// protected segment only if it outranks the keys it would push out. A
// large one does not: it stays on probation, at the front, and L stays
// where it was, so that a flood of such keys ages nothing.
func TestAdmissionByRank(t *testing.T) {
	sh := testShard(t, Options{MaxBytes: 16 * 10_000})
	const small = 40
	// Fill the segment with as many small keys as it holds, so that
	// admitting "later", a little cheaper than each, pushes one out.
	for i := 0; ; i++ {
		key := fmt.Sprint("small:", i)
		if sh.protected.bytes+int64(len(key)+small)+EntryOverhead > sh.protBytes {
			break
		}
		write(t, sh, key, small)
		read(t, sh, key)
	}
	if room := sh.protBytes - sh.protected.bytes; room >= int64(len("later")+small)+EntryOverhead {
		t.Fatalf("%d bytes left in the protected segment: room for another small key", room)
	}
	before := sh.inflation
	write(t, sh, "large", 1000)
	write(t, sh, "later", small)
	read(t, sh, "large")
	if isProtected(sh, "large") || sh.probation.head != slotOf(sh, "large") {
		t.Fatalf("the large key: protected %v, at the front of probation %v; want on probation, at the front", isProtected(sh, "large"), sh.probation.head == slotOf(sh, "large"))
	}
	if sh.inflation != before {
		t.Errorf("L went from %g to %g on a refused admission", before, sh.inflation)
	}
	// A small key read for the first time ranks with the keys in place
	// (their L is older) and gets in, pushing one out and raising L.
	read(t, sh, "later")
	if !isProtected(sh, "later") || sh.inflation <= before {
		t.Errorf("a small key: protected %v, L %g (was %g); want admitted and L raised", isProtected(sh, "later"), sh.inflation, before)
	}
	// A key larger than the protected share is never admitted, and pushes
	// nothing out for nothing.
	write(t, sh, "huge", int(sh.protBytes))
	n := sh.protected.n
	read(t, sh, "huge")
	if isProtected(sh, "huge") || sh.protected.n != n {
		t.Errorf("a key larger than the protected share: protected %v, %d keys left protected, want %d", isProtected(sh, "huge"), sh.protected.n, n)
	}
}

// TestProtectedKeyGrows: a protected key rewritten larger ranks for its new
// size, from the L it was ranked from unless it was read since; when it
// overfills the segment, the lowest ranked keys go to probation, itself if
// it is the lowest, and a key that leaves because it grew raises no L.
func TestProtectedKeyGrows(t *testing.T) {
	sh := testShard(t, Options{MaxBytes: 16 * 10_000})
	const small = 100
	for i := range 20 {
		key := fmt.Sprint("small:", i)
		write(t, sh, key, small)
		read(t, sh, key)
	}
	e := lookup(sh, "small:0")
	base := e.priority - e.weight()
	write(t, sh, "small:0", 1000)
	if want := base + e.weight(); e.priority != want || e.used {
		t.Errorf("after a blind rewrite: priority %g, used %v; want %g, false", e.priority, e.used, want)
	}
	sh.inflation = 1 // as if a flood had aged the segment
	read(t, sh, "small:1")
	write(t, sh, "small:1", 200)
	if e := lookup(sh, "small:1"); e.priority != 1+e.weight() {
		t.Errorf("after a read and a rewrite: priority %g, want L + uses/cost = %g", e.priority, 1+e.weight())
	}
	// Grown past what the segment may hold with the others, the key ranks
	// lowest and leaves by itself.
	write(t, sh, "small:0", 4000)
	if isProtected(sh, "small:0") || sh.inflation != 1 {
		t.Errorf("a key grown to most of the segment: protected %v, L %g; want demoted, L unchanged", isProtected(sh, "small:0"), sh.inflation)
	}
	if b := lookup(sh, "small:0"); b == nil || len(b.value()) != 4000 {
		t.Fatal("the key just rewritten was evicted")
	}
	for i := 1; i < 20; i++ {
		if !isProtected(sh, fmt.Sprint("small:", i)) {
			t.Errorf("small key %d left the protected segment for a key that grew", i)
		}
	}
}

// TestReadsRankLazily: a read of a protected key only marks it, and the key
// is ranked again, from the L of the moment, when it comes to the top of
// the heap: a key read since it was ranked does not leave before one that
// was not. Uses stop counting at maxUses.
func TestReadsRankLazily(t *testing.T) {
	sh := testShard(t, Options{MaxEntries: 16 * 10, MaxBytes: -1}) // 8 protected
	const size = 100
	for i := range 8 {
		key := fmt.Sprint("k", i)
		write(t, sh, key, size)
		read(t, sh, key)
	}
	top := sh.entries.at(sh.protected.items[0])
	priority := top.priority
	read(t, sh, string(top.key()))
	if !top.used || top.priority != priority || sh.entries.at(sh.protected.items[0]) != top {
		t.Fatalf("a read moved the key in the heap: used %v, priority %g (was %g)", top.used, top.priority, priority)
	}
	sh.inflation = 0.5
	write(t, sh, "k8", size)
	read(t, sh, "k8") // the segment is full: one key goes to probation
	if !isProtected(sh, string(top.key())) || top.used || top.priority != 0.5+top.weight() {
		t.Errorf("the key read since it was ranked: protected %v, used %v, priority %g; want protected, ranked at %g",
			isProtected(sh, string(top.key())), top.used, top.priority, 0.5+top.weight())
	}
	for range 300 {
		read(t, sh, "k8")
	}
	if e := lookup(sh, "k8"); e.uses != maxUses {
		t.Errorf("uses = %d after 301 reads, want %d", e.uses, maxUses)
	}
}

// TestRemovalAnywhere: deleting, expiring and purging keys of either
// segment keep the structures whole, and Touch admits a key as a read
// does, on the store's own clock.
func TestRemovalAnywhere(t *testing.T) {
	ctx := context.Background()
	s := New(Options{MaxEntries: 16 * 20, CleanupInterval: -1})
	defer s.Close()
	now := s.epoch
	s.now = func() time.Time { return now }
	sh := &s.shards[0]
	var keys []string
	for i := 0; len(keys) < 12; i++ { // keys of shard 0
		if key := fmt.Sprint("k", i); storeShard(s, key) == sh {
			keys = append(keys, key)
		}
	}
	for i, key := range keys {
		if err := s.Set(ctx, key, []byte("v"), time.Duration(i+1)*time.Minute); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if err := s.Touch(ctx, key, time.Duration(i+1)*time.Minute); err != nil {
				t.Fatal(err)
			}
			if e := storeEntry(s, key); e == nil || e.index < 0 {
				t.Fatalf("Touch did not admit %s", key)
			}
		}
	}
	checkShard(t, sh)
	for _, key := range keys[:2] { // one of each segment
		if err := s.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		checkShard(t, sh)
	}
	now = now.Add(4*time.Minute + time.Second) // keys 0 to 3 expired
	if _, err := s.Get(ctx, keys[2]); err == nil {
		t.Fatal("Get returned an expired key")
	}
	checkShard(t, sh)
	if n, err := s.Purge(ctx); n != 1 || err != nil {
		t.Fatalf("Purge = %d, %v; want the one expired key left", n, err)
	}
	checkShard(t, sh)
	if err := s.Touch(ctx, keys[4], time.Hour); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour - time.Second)
	if _, err := s.Get(ctx, keys[4]); err != nil {
		t.Fatalf("Touch did not extend the expiry: %v", err)
	}
	if got, want := sh.probation.n+sh.protected.n, len(keys)-4; got != want {
		t.Fatalf("%d keys left, want %d", got, want)
	}
}

// TestRandomOperations runs a fixed random sequence of every operation
// against a small store and checks every shard after each.
func TestRandomOperations(t *testing.T) {
	ctx := context.Background()
	s := New(Options{MaxEntries: 16 * 12, MaxBytes: 16 * 4000, CleanupInterval: -1})
	defer s.Close()
	now := s.epoch
	s.now = func() time.Time { return now }
	rng := rand.New(rand.NewPCG(1, 2))
	for step := range 10_000 {
		key := fmt.Sprint("k", rng.IntN(400))
		value := make([]byte, rng.IntN(1500))
		ttl := time.Duration(rng.IntN(10)) * time.Second
		switch op := rng.IntN(10); {
		case op < 3:
			_ = s.Set(ctx, key, value, ttl)
		case op < 5:
			_, version, _ := s.GetVersion(ctx, key)
			_ = s.SetIf(ctx, key, version, value, ttl)
		case op < 8:
			_, _ = s.Get(ctx, key)
		case op == 8:
			_ = s.Touch(ctx, key, ttl)
		default:
			_ = s.Delete(ctx, key)
			now = now.Add(time.Second)
			if step%50 == 0 {
				_, _ = s.Purge(ctx)
			}
		}
		for i := range s.shards {
			checkShard(t, &s.shards[i])
		}
	}
}

// storeShard returns the shard of key in s.
func storeShard(s *Store, key string) *shard {
	sh, _ := s.shard(key)
	return sh
}
