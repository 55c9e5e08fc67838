package codec

import "fmt"

// Stored sessions can hold what clients chose: an application that lets a
// client put values into its session stores them as they came. And decoded
// Go values are far larger than their encodings: a null in a list is one
// byte of gob and sixteen of memory, an empty object two bytes of JSON and
// 48 of map. So every decoder adds up, before each allocation, an upper
// bound on what the runtime will take for it, and refuses input whose
// total would pass allocBound. The bounds below are for 64-bit platforms,
// where they are largest.

const (
	// allocPerByte is how many bytes of memory decoding may allocate for
	// each byte of input.
	allocPerByte = 16
	// minAllocInput is the input length below which the bound no longer
	// shrinks, so that a small session of unusual shape (a few hundred
	// one-member objects, say) still decodes: 256 KiB is nothing to guard.
	minAllocInput = 16 << 10
	// errorReserve is kept out of what values may take, for the error
	// that a decoder returns when it stops.
	errorReserve = 1 << 10
)

// allocBound returns how many bytes Decode may allocate for n bytes of
// input, the error it returns included.
func allocBound(n int) int {
	return allocPerByte * max(n, minAllocInput)
}

// valueBudget is what the values decoded from n bytes may take.
func valueBudget(n int) int {
	return allocBound(n) - errorReserve
}

// errTooCostly is the error for input whose decoded form would pass
// allocBound.
func errTooCostly(codec string, n int) error {
	return fmt.Errorf("cloakroom: %s: %w: decoding %d bytes would allocate more than %d", codec, ErrTooLarge, n, allocBound(n))
}

// allocCost bounds what the runtime takes for an allocation of n bytes: a
// small object is rounded up to its size class, at most a quarter more or
// up to 16 bytes for the tiniest, and a large one to whole 8 KiB pages.
func allocCost(n int) int {
	switch {
	case n <= 0:
		return 0
	case n > 32<<10:
		return n + 8<<10
	}
	return n + n/4 + 16
}

// What putting a value in an interface allocates: a non-empty string (or
// json.Number, template.HTML) takes a 16-byte header, a slice a 24-byte
// one; an int64 or float64 takes 8 bytes, but a fresh 16-byte block when
// it does not fit the runtime's current one, and nothing below 256; a
// UUID takes 16 bytes. A time.Time takes 24, its Location 160 more when
// its offset is not a whole hour, and a date parsed from text may first
// cost the error of a layout that did not fit, about 100.
const (
	stringBox = 16
	sliceBox  = 24
	scalarBox = 16
	uuidBox   = 16
	timeCost  = 256
)

// sliceCost bounds what a []any of n elements takes.
func sliceCost(n int) int {
	return allocCost(16 * n)
}

// The cost of a map[string]any, measured on Go 1.26's maps, whose groups
// hold eight 32-byte slots: an empty map is a 48-byte header; its first
// entry brings a group, 336 bytes in all for up to eight entries. A map
// made with room for more takes at most presizedEntryCost per entry,
// its tables being powers of two at most 7/8 full, and some growing once
// when the hash spreads entries unevenly. One grown an entry at a time
// has allocated at most grownEntryCost per entry, the tables it outgrew
// included. TestMapCosts checks these.
const (
	emptyMapCost      = 48
	smallMapCost      = 336
	presizedEntryCost = 120
	grownEntryCost    = 192
)

// mapCost bounds what a map made with room for hint entries has allocated
// once n entries (duplicates counted) have been stored in it.
func mapCost(hint, n int) int {
	c := emptyMapCost
	if hint > 0 || n > 0 {
		c = smallMapCost
	}
	if hint > 8 {
		c += presizedEntryCost * hint
	}
	if n > max(hint, 8) {
		c += grownEntryCost * n
	}
	return c
}
