package codec

import (
	"math"
	"runtime"
	"strconv"
	"testing"
)

// sink keeps what the tests below allocate on the heap.
var sink any

// allocated returns the bytes allocated by f: the least of three runs,
// so that what another goroutine of the test binary happens to allocate
// meanwhile does not count.
func allocated(f func()) uint64 {
	least := uint64(math.MaxUint64)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

// mapSizes returns entry counts around those at which Go's maps change
// size: each power of two, and 7/8 of it, where a table is full.
func mapSizes() []int {
	var sizes []int
	for n := range 40 {
		sizes = append(sizes, n)
	}
	for p := 64; p <= 1<<16; p *= 2 {
		for _, n := range []int{p * 7 / 8, p} {
			sizes = append(sizes, n-1, n, n+1, n+2)
		}
	}
	return sizes
}

// TestMapCosts checks the costs of maps in limits.go, measured on the
// runtime, against it: a map made with room for its entries, one grown an
// entry at a time from room for eight, and the literals the decoders make.
func TestMapCosts(t *testing.T) {
	keys := make([]string, 1<<16+2)
	for i := range keys {
		keys[i] = strconv.Itoa(i)
	}
	fill := func(m map[string]any, n int) {
		for _, k := range keys[:n] {
			m[k] = nil
		}
		sink = m
	}
	for _, n := range mapSizes() {
		if got := allocated(func() { fill(make(map[string]any, n), n) }); got > uint64(mapCost(n, n)) {
			t.Errorf("a map made for %d entries took %d bytes once filled, more than mapCost's %d", n, got, mapCost(n, n))
		}
		if got := allocated(func() { fill(make(map[string]any, 8), n) }); got > uint64(mapCost(8, n)) {
			t.Errorf("a map grown to %d entries took %d bytes, more than mapCost's %d", n, got, mapCost(8, n))
		}
	}
	if got := allocated(func() { sink = map[string]any{} }); got > uint64(mapCost(0, 0)) {
		t.Errorf("an empty map took %d bytes, more than mapCost's %d", got, mapCost(0, 0))
	}
	if got := allocated(func() { sink = map[string]any{keys[0]: nil} }); got > uint64(mapCost(0, 1)) {
		t.Errorf("a one-member map took %d bytes, more than mapCost's %d", got, mapCost(0, 1))
	}
}

// TestAllocCost checks allocCost and sliceCost against what the runtime
// takes for byte slices and strings, which hold no pointers, and slices
// of interfaces, which do.
func TestAllocCost(t *testing.T) {
	src := make([]byte, 1<<18)
	for n := 0; n <= len(src); n += 1 + n/64 {
		if got := allocated(func() { sink = string(src[:n]) }); got > uint64(allocCost(n)+stringBox) {
			t.Errorf("a %d-byte string took %d bytes, more than allocCost's %d", n, got, allocCost(n)+stringBox)
		}
		if got := allocated(func() { sink = make([]any, n/16) }); got > uint64(sliceCost(n/16)+sliceBox) {
			t.Errorf("a []any of %d took %d bytes, more than sliceCost's %d", n/16, got, sliceCost(n/16)+sliceBox)
		}
	}
}

// FuzzUnquotedSize: the strings that strSlow reads fit the buffer that
// unquotedSize sizes, so that it allocates once.
func FuzzUnquotedSize(f *testing.F) {
	for _, s := range []string{`\u00e9\ud83d\ude00`, `\ud800x`, "\xff\xfe\xc3", `\ud800\u0041`, `\"\\\/\b\f\n\r\t`, "é☃"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := decoder{data: []byte(`"` + s + `"`), left: valueBudget(len(s))}
		got, err := d.str()
		if err == nil && len(got) > unquotedSize(d.data, 1) {
			t.Fatalf("%q unquotes to %d bytes, more than unquotedSize's %d", s, len(got), unquotedSize(d.data, 1))
		}
	})
}

// TestStrSlowAllocatesOnce: a string with escapes or bytes outside ASCII
// costs one allocation, and one for its interface.
func TestStrSlowAllocatesOnce(t *testing.T) {
	for _, s := range []string{`"a\nb"`, `"\u00e9\ud83d\ude00"`, "\"\xff\xfe\"", `"\ud800\u0041"`, `"caf` + "é" + `"`} {
		b := []byte(s) // the caller's, as a backend's value is
		n := testing.AllocsPerRun(10, func() { sink, _ = UnmarshalTagged(b) })
		if n != 2 {
			t.Errorf("UnmarshalTagged(%s): %v allocations, want 2", s, n)
		}
	}
}

// TestShortInputStringsShareOneCopy: the strings of a short session cost
// one allocation together, whatever their number; each string value then
// costs only its interface.
func TestShortInputStringsShareOneCopy(t *testing.T) {
	allocs := func(s string) float64 {
		b := []byte(s)
		return testing.AllocsPerRun(10, func() { sink, _ = UnmarshalTagged(b) })
	}
	numbers := allocs(`{"user":1,"name":2,"role":3}`)
	strs := allocs(`{"user":"alice","name":"bob","role":"admin"}`)
	if strs-numbers != 3 {
		t.Errorf("three string values cost %v allocations more than three small numbers, want 3 (their interfaces)", strs-numbers)
	}
}
