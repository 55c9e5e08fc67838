package memory

import "sync"

// This file holds a shard's eviction policy, described in the package
// documentation: a probation list in front of a protected segment ranked by
// GreedyDual-Size-Frequency.

// maxUses is where an entry's count of uses stops. Beyond a few hundred
// requests, more tell little about whether a session is worth keeping,
// and a bounded count bounds how long a session read very often keeps its
// lead after its user has gone.
const maxUses = 255

// shard is one lock's worth of the store: its entries, an index of them
// by key, and the two segments that order them for eviction.
type shard struct {
	mu        sync.Mutex
	entries   slab
	keys      index
	probation list // written, not read since; or pushed out of protected
	protected heap // read since written, lowest priority on top
	// inflation is GreedyDual's L: the priority of the last key pushed out
	// of the protected segment to make room for another. Keys ranked later
	// start from it, so that keys not read for long fall behind.
	inflation float64

	maxEntries int
	maxBytes   int64 // negative: no bound
	// The protected segment's share of the bounds; it always leaves the
	// probation segment room for at least one key, so that a new key is
	// never evicted in favour of old ones.
	protEntries int
	protBytes   int64 // negative: no bound
}

// entry is one stored key. It is most of a key's bookkeeping, so it is
// kept to 64 bytes: the key and value share one slice, and the links are
// slots, not pointers (see slab).
type entry struct {
	// data is the key followed by the value: one allocation instead of
	// two, each rounded up to its size class. The value part is never
	// modified in place, since it is also the version.
	data    []byte
	expires int64 // on the store's clock; 0: never
	// priority orders the protected heap: L + uses/cost when last ranked.
	priority float64
	// prev and next link the probation list; both none in protected. In a
	// free slot, next links the slab's free list.
	prev, next slot
	index      int32  // in the protected heap; -1 on probation
	keyLen     uint32 // fits checked it
	hash       uint32 // the key's, as the index keeps it: to find its bucket
	uses       uint8  // reads and touches, up to maxUses
	// used says that the entry was read or touched since it was ranked,
	// and is to be ranked again before it may leave protected.
	used bool
}

// key returns e's key. Comparing it, as in e.key() == s, does not copy it;
// keeping it does.
func (e *entry) key() []byte { return e.data[:e.keyLen] }

// value returns e's value, which is also its version. It is a full slice
// expression so that appending to it, or to the version, never writes
// into the store.
func (e *entry) value() []byte { return e.data[e.keyLen:len(e.data):len(e.data)] }

// cost is what e counts against the byte bound.
func (e *entry) cost() int64 { return int64(len(e.data)) + EntryOverhead }

// weight is e's lead over L in the protected segment: uses per byte.
func (e *entry) weight() float64 { return float64(e.uses) / float64(e.cost()) }

// join returns the data of an entry for key and value: a copy of both in
// one allocation, made before the shard is locked.
func join(key string, value []byte) []byte {
	data := make([]byte, len(key)+len(value)) // never nil: see slab
	copy(data[copy(data, key):], value)
	return data
}

// put stores data, with a key of keyLen bytes, in the entry at i, or in a
// new entry at the front of probation when i is none, and evicts what the
// bounds require. Rewriting a key keeps it in its segment: only a read says
// that a session came back. The caller holds sh.mu and has checked that
// the value fits.
func (sh *shard) put(i slot, hash uint32, keyLen int, data []byte, expires int64) {
	switch {
	case i == none:
		i = sh.entries.alloc()
		e := sh.entries.at(i)
		e.data, e.keyLen, e.hash, e.expires, e.index = data, uint32(keyLen), hash, expires, -1
		sh.keys.insert(hash, i)
		sh.probation.pushFront(&sh.entries, i)
	case sh.entries.at(i).index < 0:
		sh.probation.unlink(&sh.entries, i) // its cost changes with its value
		e := sh.entries.at(i)
		e.data, e.expires = data, expires
		sh.probation.pushFront(&sh.entries, i)
	default:
		sh.rewrite(i, data, expires)
	}
	sh.evict(i)
}

// rewrite gives the protected entry at i a new value and ranks it for its
// new size. A use since it was last ranked is taken as recent, which it is
// when the Manager saves what it has just read; else it keeps the L it was
// ranked from, so that a write alone does not make it younger. A key that
// grew may overfill the segment: the lowest ranked keys, it perhaps, go to
// probation.
func (sh *shard) rewrite(i slot, data []byte, expires int64) {
	e := sh.entries.at(i)
	base := sh.inflation
	if !e.used {
		base = e.priority - e.weight()
	}
	sh.protected.bytes -= e.cost()
	e.data, e.expires = data, expires
	sh.protected.bytes += e.cost()
	e.priority, e.used = base+e.weight(), false
	sh.protected.fix(&sh.entries, int(e.index))
	sh.demote(i)
}

// use counts a read or touch of the live entry at i by a returning client.
// A protected entry is only marked, for lowest to rank again: the read
// path stays O(1). A probation entry asks for admission to protected.
func (sh *shard) use(i slot) {
	e := sh.entries.at(i)
	if e.uses < maxUses {
		e.uses++
	}
	if e.index >= 0 {
		e.used = true
		return
	}
	sh.admit(i)
}

// admit moves the probation entry at i, just used, to the protected
// segment if it outranks every key it would push out of it. Else it stays
// on probation, moved to the front as its most recently used key: a flood
// of large sessions that come back does not push out small ones that came
// back as often, nor raise L by doing so.
func (sh *shard) admit(i slot) {
	sh.probation.unlink(&sh.entries, i)
	sh.rank(sh.entries.at(i))
	if sh.makeRoom(sh.entries.at(i)) {
		sh.protected.push(&sh.entries, i)
	} else {
		sh.probation.pushFront(&sh.entries, i)
	}
}

// makeRoom demotes protected keys ranked at or below e until e fits in the
// segment's share, and reports whether it does. When a key ranked above e
// stops it, those demoted on the way stay on probation: they ranked below
// e, which is on probation too.
func (sh *shard) makeRoom(e *entry) bool {
	if sh.protEntries < 1 || sh.protBytes >= 0 && e.cost() > sh.protBytes {
		return false // not even an empty segment would hold e
	}
	for sh.protectedOver(1, e.cost()) {
		low := sh.lowest()
		if sh.entries.at(low).priority > e.priority {
			return false
		}
		sh.leave(low, true)
	}
	return true
}

// demote moves the lowest ranked protected keys to the front of probation
// until the segment is back within its share. Only keys pushed out by
// another raise L: a key that leaves because it grew, self, does not.
func (sh *shard) demote(self slot) {
	for sh.protectedOver(0, 0) {
		low := sh.lowest()
		sh.leave(low, low != self)
	}
}

// leave moves the protected entry at i to the front of probation, raising
// L to its priority if another key pushed it out.
func (sh *shard) leave(i slot, pushed bool) {
	if pushed {
		sh.age(sh.entries.at(i))
	}
	sh.protected.remove(&sh.entries, i)
	sh.probation.pushFront(&sh.entries, i)
}

// evict removes keys, the least recently used of probation first, then the
// lowest ranked of protected, until the shard is within its bounds, never
// keep, the key just written.
func (sh *shard) evict(keep slot) {
	for sh.probation.n+sh.protected.n > sh.maxEntries ||
		sh.maxBytes >= 0 && sh.probation.bytes+sh.protected.bytes > sh.maxBytes {
		victim := sh.probation.tail
		if victim == none || victim == keep {
			if victim = sh.lowest(); victim == none || victim == keep {
				return // keep alone, which fits: fits checked it
			}
			sh.age(sh.entries.at(victim))
		}
		sh.remove(victim)
	}
}

// lowest returns the protected entry to leave first, none if there is
// none. Entries used since they were ranked are ranked again on the way,
// from the L of now: each use pays here for the O(log n) that use saved,
// at most once.
func (sh *shard) lowest() slot {
	for len(sh.protected.items) > 0 {
		i := sh.protected.items[0]
		e := sh.entries.at(i)
		if !e.used {
			return i
		}
		sh.rank(e)
		sh.protected.down(&sh.entries, 0)
	}
	return none
}

// rank sets e's priority from the current L. When e is in the heap, the
// caller restores the heap's order.
func (sh *shard) rank(e *entry) {
	e.priority, e.used = sh.inflation+e.weight(), false
}

// age raises L to the priority of e, which is leaving the protected segment
// for another key. L never falls: a key rewritten larger may rank below it.
func (sh *shard) age(e *entry) {
	sh.inflation = max(sh.inflation, e.priority)
}

// protectedOver reports whether the protected segment, with n more keys of
// the given bytes, would exceed its share of the bounds.
func (sh *shard) protectedOver(n int, bytes int64) bool {
	return sh.protected.n+n > sh.protEntries ||
		sh.protBytes >= 0 && sh.protected.bytes+bytes > sh.protBytes
}

// remove deletes the entry at i from the shard, wherever it is, and frees
// its slot.
func (sh *shard) remove(i slot) {
	e := sh.entries.at(i)
	sh.keys.delete(e.hash, i)
	if e.index >= 0 {
		sh.protected.remove(&sh.entries, i)
	} else {
		sh.probation.unlink(&sh.entries, i)
	}
	sh.entries.release(i)
}

// totals are what a segment's bounds are checked against.
type totals struct {
	n     int
	bytes int64
}

// list is the probation segment: a doubly linked list of entries, most
// recently used first.
type list struct {
	totals
	head, tail slot
}

// pushFront adds the entry at i as the most recently used entry of l.
func (l *list) pushFront(s *slab, i slot) {
	e := s.at(i)
	e.prev, e.next = none, l.head
	if l.head != none {
		s.at(l.head).prev = i
	} else {
		l.tail = i
	}
	l.head = i
	l.n++
	l.bytes += e.cost()
}

// unlink removes the entry at i from l, which holds it.
func (l *list) unlink(s *slab, i slot) {
	e := s.at(i)
	if e.prev != none {
		s.at(e.prev).next = e.next
	} else {
		l.head = e.next
	}
	if e.next != none {
		s.at(e.next).prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next = none, none
	l.n--
	l.bytes -= e.cost()
}

// heap is the protected segment: a binary min-heap of entries by priority,
// each knowing its index so that it can be moved or removed in O(log n).
// It holds slots, half the size of pointers.
type heap struct {
	totals
	items []slot
}

// push adds the entry at i, which is ranked, to h.
func (h *heap) push(s *slab, i slot) {
	e := s.at(i)
	e.index = int32(len(h.items))
	h.items = append(h.items, i)
	h.n++
	h.bytes += e.cost()
	h.up(s, int(e.index))
}

// remove takes the entry at i out of h, which holds it.
func (h *heap) remove(s *slab, i slot) {
	e := s.at(i)
	at, last := int(e.index), len(h.items)-1
	if at != last {
		h.swap(s, at, last)
	}
	h.items = h.items[:last]
	if at != last {
		h.fix(s, at)
	}
	e.index = -1
	h.n--
	h.bytes -= e.cost()
}

// fix restores the order after the priority at index i changed.
func (h *heap) fix(s *slab, i int) {
	if !h.up(s, i) {
		h.down(s, i)
	}
}

// up moves the entry at i towards the top while it ranks below its
// parent, and reports whether it moved.
func (h *heap) up(s *slab, i int) bool {
	start := i
	for i > 0 {
		parent := (i - 1) / 2
		if !h.less(s, i, parent) {
			break
		}
		h.swap(s, i, parent)
		i = parent
	}
	return i != start
}

// down moves the entry at i away from the top while a child ranks below it.
func (h *heap) down(s *slab, i int) {
	for {
		child := 2*i + 1
		if child >= len(h.items) {
			return
		}
		if right := child + 1; right < len(h.items) && h.less(s, right, child) {
			child = right
		}
		if !h.less(s, child, i) {
			return
		}
		h.swap(s, i, child)
		i = child
	}
}

func (h *heap) less(s *slab, i, j int) bool {
	return s.at(h.items[i]).priority < s.at(h.items[j]).priority
}

func (h *heap) swap(s *slab, i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	s.at(h.items[i]).index, s.at(h.items[j]).index = int32(i), int32(j)
}
