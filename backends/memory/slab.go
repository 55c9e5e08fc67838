package memory

// This file holds where a shard keeps its entries, and how it finds them by
// key, in fewer bytes a key than a map[string]*entry of separately
// allocated entries takes: that is most of what EntryOverhead pays for.

// slot is an entry's place in its shard's slab. Links between entries are
// slots rather than pointers: half the size, and nothing for the garbage
// collector to follow. Slot 0 is never handed out, so that the zero value,
// none, means no entry, as nil did.
type slot int32

// none is no entry: the end of a list, an empty bucket.
const none slot = 0

// chunkLen is the number of entries in a slab's chunk. Entries hold
// pointers, and the allocator puts an 8-byte header before such objects
// larger than 512 bytes: 63 entries and the header fill the 4 KiB size
// class, where 64 would take the 4,864-byte one, 19% more. A shard holds
// at most one chunk of slots it has not used yet.
const chunkLen = 63

// slab holds a shard's entries in chunks that never move, so that an
// *entry stays valid while the slab grows. Freed slots are reused before
// new ones; like a map's buckets, chunks are kept once allocated.
type slab struct {
	chunks []*[chunkLen]entry
	// free is the first free slot, whose next links the others.
	free slot
	// top is the first slot never handed out, 0 before the first.
	top slot
}

// at returns the entry in slot i, which is not none.
func (s *slab) at(i slot) *entry {
	// Unsigned, the division by a constant is a multiplication.
	return &s.chunks[uint32(i)/chunkLen][uint32(i)%chunkLen]
}

// alloc returns a slot for a new entry, whose fields are zero. Its data
// is set at once and is never nil while the slot is in use (join makes
// even empty data non-nil), which is how the shard's loops over the slab
// tell entries in use from free slots.
func (s *slab) alloc() slot {
	if i := s.free; i != none {
		e := s.at(i)
		s.free, e.next = e.next, none
		return i
	}
	s.top = max(s.top, 1) // slot 0 is none
	if int(s.top/chunkLen) == len(s.chunks) {
		// top is past the last chunk.
		s.chunks = append(s.chunks, new([chunkLen]entry))
	}
	s.top++
	return s.top - 1
}

// release frees slot i, dropping its data for the collector.
func (s *slab) release(i slot) {
	*s.at(i) = entry{next: s.free}
	s.free = i
}

// index finds a shard's entries by key: a hash table with open addressing
// and linear probing. Each bucket holds 32 bits of the key's hash beside
// the slot, so that a probe reads the entry only when those match; the
// store computes the hash once, to choose the shard, and the index reuses
// it. It takes 8 bytes a bucket, at most three quarters full, where a
// map[string]*entry takes 24 a slot and the key a separate allocation.
type index struct {
	buckets []bucket // a power of two of them, or none at all
	n       int
}

// bucket is one place of the index: empty when its slot is none.
type bucket struct {
	hash uint32
	slot slot
}

// find returns the slot of key, whose hash is hash, or none.
func (x *index) find(s *slab, hash uint32, key string) slot {
	if len(x.buckets) == 0 {
		return none
	}
	mask := uint32(len(x.buckets) - 1)
	for p := hash & mask; ; p = (p + 1) & mask {
		b := x.buckets[p]
		if b.slot == none {
			return none // the table is never full: probes end
		}
		if b.hash == hash && string(s.at(b.slot).key()) == key {
			return b.slot
		}
	}
}

// insert adds slot i, of a key with hash hash that the index lacks.
func (x *index) insert(hash uint32, i slot) {
	if (x.n+1)*4 > len(x.buckets)*3 {
		x.grow()
	}
	x.place(bucket{hash, i})
	x.n++
}

// place puts b in the first empty bucket from its hash's.
func (x *index) place(b bucket) {
	mask := uint32(len(x.buckets) - 1)
	p := b.hash & mask
	for x.buckets[p].slot != none {
		p = (p + 1) & mask
	}
	x.buckets[p] = b
}

// grow doubles the table. The buckets hold what placing them needs, so
// that growing reads no entry.
func (x *index) grow() {
	old := x.buckets
	x.buckets = make([]bucket, max(8, 2*len(old)))
	for _, b := range old {
		if b.slot != none {
			x.place(b)
		}
	}
}

// delete removes slot i, of a key with hash hash, which the index holds.
// The buckets after it that probed past it move back, so that no probe
// ends early and no tombstone stays behind.
func (x *index) delete(hash uint32, i slot) {
	mask := uint32(len(x.buckets) - 1)
	hole := hash & mask
	for x.buckets[hole].slot != i {
		hole = (hole + 1) & mask
	}
	for p := (hole + 1) & mask; x.buckets[p].slot != none; p = (p + 1) & mask {
		// The bucket at p may fill the hole unless its home lies
		// cyclically after the hole, up to p: it would then be found
		// before the hole is reached.
		if home := x.buckets[p].hash & mask; (p-home)&mask < (p-hole)&mask {
			continue
		}
		x.buckets[hole] = x.buckets[p]
		hole = p
	}
	x.buckets[hole] = bucket{}
	x.n--
}
