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

// shard is one lock's worth of the store: an index of its entries and the
// two segments that order them for eviction.
type shard struct {
	mu        sync.Mutex
	items     map[string]*entry
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

// entry is one stored key. Its fields are ordered and sized to keep it at
// 80 bytes, the allocator's size class below the 96 it took as a plain LRU
// entry, which pays for its slot in the protected segment's heap.
type entry struct {
	key     string
	value   []byte // never modified in place: it is also the version
	expires int64  // on the store's clock; 0: never
	// prev and next link the probation list; both nil in protected.
	prev, next *entry
	// priority orders the protected heap: L + uses/cost when last ranked.
	priority float64
	index    int32 // in the protected heap; -1 on probation
	uses     uint8 // reads and touches, up to maxUses
	// used says that the entry was read or touched since it was ranked,
	// and is to be ranked again before it may leave protected.
	used bool
}

// cost is what e counts against the byte bound.
func (e *entry) cost() int64 { return int64(len(e.key)+len(e.value)) + EntryOverhead }

// weight is e's lead over L in the protected segment: uses per byte.
func (e *entry) weight() float64 { return float64(e.uses) / float64(e.cost()) }

// put stores value in e, or in a new entry at the front of probation when
// e is nil, and evicts what the bounds require. Rewriting a key keeps it
// in its segment: only a read says that a session came back. The caller
// holds sh.mu and has checked that the value fits.
func (sh *shard) put(e *entry, key string, value []byte, expires int64) {
	switch {
	case e == nil:
		e = &entry{key: key, value: value, expires: expires, index: -1}
		sh.items[key] = e
		sh.probation.pushFront(e)
	case e.index < 0:
		sh.probation.unlink(e) // its cost changes with its value
		e.value, e.expires = value, expires
		sh.probation.pushFront(e)
	default:
		sh.rewrite(e, value, expires)
	}
	sh.evict(e)
}

// rewrite gives the protected entry e a new value and ranks it for its new
// size. A use since it was last ranked is taken as recent, which it is when
// the Manager saves what it has just read; else e keeps the L it was ranked
// from, so that a write alone does not make it younger. A key that grew may
// overfill the segment: the lowest ranked keys, e perhaps, go to probation.
func (sh *shard) rewrite(e *entry, value []byte, expires int64) {
	base := sh.inflation
	if !e.used {
		base = e.priority - e.weight()
	}
	sh.protected.bytes -= e.cost()
	e.value, e.expires = value, expires
	sh.protected.bytes += e.cost()
	e.priority, e.used = base+e.weight(), false
	sh.protected.fix(int(e.index))
	sh.demote(e)
}

// use counts a read or touch of the live entry e by a returning client. A
// protected entry is only marked, for lowest to rank again: the read path
// stays O(1). A probation entry asks for admission to protected.
func (sh *shard) use(e *entry) {
	if e.uses < maxUses {
		e.uses++
	}
	if e.index >= 0 {
		e.used = true
		return
	}
	sh.admit(e)
}

// admit moves the probation entry e, just used, to the protected segment if
// it outranks every key it would push out of it. Else e stays on
// probation, moved to the front as its most recently used key: a flood of
// large sessions that come back does not push out small ones that came
// back as often, nor raise L by doing so.
func (sh *shard) admit(e *entry) {
	sh.probation.unlink(e)
	sh.rank(e)
	if sh.makeRoom(e) {
		sh.protected.push(e)
	} else {
		sh.probation.pushFront(e)
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
		if low.priority > e.priority {
			return false
		}
		sh.leave(low, true)
	}
	return true
}

// demote moves the lowest ranked protected keys to the front of probation
// until the segment is back within its share. Only keys pushed out by
// another raise L: a key that leaves because it grew, self, does not.
func (sh *shard) demote(self *entry) {
	for sh.protectedOver(0, 0) {
		low := sh.lowest()
		sh.leave(low, low != self)
	}
}

// leave moves the protected entry e to the front of probation, raising L to
// its priority if another key pushed it out.
func (sh *shard) leave(e *entry, pushed bool) {
	if pushed {
		sh.age(e)
	}
	sh.protected.remove(e)
	sh.probation.pushFront(e)
}

// evict removes keys, the least recently used of probation first, then the
// lowest ranked of protected, until the shard is within its bounds, never
// keep, the key just written.
func (sh *shard) evict(keep *entry) {
	for sh.probation.n+sh.protected.n > sh.maxEntries ||
		sh.maxBytes >= 0 && sh.probation.bytes+sh.protected.bytes > sh.maxBytes {
		victim := sh.probation.tail
		if victim == nil || victim == keep {
			if victim = sh.lowest(); victim == nil || victim == keep {
				return // keep alone, which fits: fits checked it
			}
			sh.age(victim)
		}
		sh.remove(victim)
	}
}

// lowest returns the protected entry to leave first, nil if there is none.
// Entries used since they were ranked are ranked again on the way, from
// the L of now: each use pays here for the O(log n) that use saved, at
// most once.
func (sh *shard) lowest() *entry {
	for len(sh.protected.items) > 0 {
		e := sh.protected.items[0]
		if !e.used {
			return e
		}
		sh.rank(e)
		sh.protected.down(0)
	}
	return nil
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

// remove deletes e from the shard, wherever it is.
func (sh *shard) remove(e *entry) {
	delete(sh.items, e.key)
	if e.index >= 0 {
		sh.protected.remove(e)
	} else {
		sh.probation.unlink(e)
	}
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
	head, tail *entry
}

// pushFront adds e as the most recently used entry of l.
func (l *list) pushFront(e *entry) {
	e.prev, e.next = nil, l.head
	if l.head != nil {
		l.head.prev = e
	} else {
		l.tail = e
	}
	l.head = e
	l.n++
	l.bytes += e.cost()
}

// unlink removes e from l, which holds it.
func (l *list) unlink(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		l.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next = nil, nil
	l.n--
	l.bytes -= e.cost()
}

// heap is the protected segment: a binary min-heap of entries by priority,
// each knowing its index so that it can be moved or removed in O(log n).
type heap struct {
	totals
	items []*entry
}

// push adds e, which is ranked, to h.
func (h *heap) push(e *entry) {
	e.index = int32(len(h.items))
	h.items = append(h.items, e)
	h.n++
	h.bytes += e.cost()
	h.up(int(e.index))
}

// remove takes e out of h, which holds it.
func (h *heap) remove(e *entry) {
	i, last := int(e.index), len(h.items)-1
	if i != last {
		h.swap(i, last)
	}
	h.items[last] = nil // let the collector have e
	h.items = h.items[:last]
	if i != last {
		h.fix(i)
	}
	e.index = -1
	h.n--
	h.bytes -= e.cost()
}

// fix restores the order after the priority at index i changed.
func (h *heap) fix(i int) {
	if !h.up(i) {
		h.down(i)
	}
}

// up moves the entry at i towards the top while it ranks below its
// parent, and reports whether it moved.
func (h *heap) up(i int) bool {
	start := i
	for i > 0 {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			break
		}
		h.swap(i, parent)
		i = parent
	}
	return i != start
}

// down moves the entry at i away from the top while a child ranks below it.
func (h *heap) down(i int) {
	for {
		child := 2*i + 1
		if child >= len(h.items) {
			return
		}
		if right := child + 1; right < len(h.items) && h.less(right, child) {
			child = right
		}
		if !h.less(child, i) {
			return
		}
		h.swap(i, child)
		i = child
	}
}

func (h *heap) less(i, j int) bool { return h.items[i].priority < h.items[j].priority }

func (h *heap) swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].index, h.items[j].index = int32(i), int32(j)
}
