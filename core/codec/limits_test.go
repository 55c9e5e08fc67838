package codec_test

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/codec"
)

// The bound that Gob, TaggedJSON and JSON document for Decode: 16 bytes
// allocated for each byte of input, input under 16 KiB counting as 16 KiB.
const (
	allocPerByte  = 16
	minAllocInput = 16 << 10
)

func allocBound(n int) uint64 {
	return allocPerByte * uint64(max(n, minAllocInput))
}

// The sizes of the hostile inputs: one that passes a Manager's default
// MaxSize, and one at Gob's own MaxGobSize.
var hostileSizes = []int{247_000, codec.MaxGobSize - 1024}

// allocated returns the bytes and the number of allocations of one call of
// f, after a first call has warmed up what the runtime sets up once (the
// unnamed fixed time zones, for one). TotalAlloc and Mallocs only grow,
// whatever the collector does meanwhile, and the package's tests run one
// at a time.
func allocated(f func()) (bytes, count uint64) {
	f()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, after.Mallocs - before.Mallocs
}

// checkBound decodes in with c, and fails when that allocates more than
// the documented bound or fails with another error than ErrTooLarge. It
// reports whether c accepted in.
func checkBound(t *testing.T, c core.Codec, name string, in []byte) bool {
	t.Helper()
	var err error
	got, count := allocated(func() { _, err = c.Decode(in) })
	if err != nil && !errors.Is(err, codec.ErrTooLarge) {
		t.Fatalf("%T: %s (%d bytes): %v", c, name, len(in), err)
	}
	outcome := "decoded"
	if err != nil {
		outcome = "refused"
	}
	t.Logf("%T: %s, %d bytes: %s, %d bytes allocated (%.1f a byte) in %d allocations",
		c, name, len(in), outcome, got, float64(got)/float64(len(in)), count)
	if bound := allocBound(len(in)); got > bound {
		t.Errorf("%T: %s (%d bytes): %s, allocating %d bytes, more than the bound of %d", c, name, len(in), outcome, got, bound)
	}
	return err == nil
}

// fieldsOnly is TaggedJSON with Decode made of DecodeFields alone, so
// that the bound tests measure what DecodeFields allocates.
type fieldsOnly struct{ codec.TaggedJSON }

func (f fieldsOnly) Decode(b []byte) (map[string]any, error) {
	_, err := f.DecodeFields(b, nil)
	return nil, err
}

// repeated returns open, then elem repeated with sep between until the
// whole is about size bytes long, then close.
func repeated(open, elem, sep, close string, size int) []byte {
	var b bytes.Buffer
	b.WriteString(open)
	for i := 0; b.Len()+len(elem)+len(close) < size; i++ {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(elem)
	}
	b.WriteString(close)
	return b.Bytes()
}

// smallKeys returns an object of about size bytes whose members are short
// distinct keys with value.
func smallKeys(value string, size int) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; b.Len() < size-16; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%s", strconv.FormatInt(int64(i), 36), value)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// TestJSONDecodeAllocationBound decodes hostile tagged and plain JSON of
// the shapes that cost most memory for their size, and checks that no
// decode allocates more than the documented bound, whether it refuses
// the input or not.
func TestJSONDecodeAllocationBound(t *testing.T) {
	shapes := []struct {
		name string
		make func(size int) []byte
	}{
		{"nulls", func(n int) []byte { return repeated(`{"k":[`, "null", ",", "]}", n) }},
		{"zeros", func(n int) []byte { return repeated(`{"k":[`, "0", ",", "]}", n) }},
		{"big integers", func(n int) []byte { return repeated(`{"k":[`, "1000", ",", "]}", n) }},
		{"empty lists", func(n int) []byte { return repeated(`{"k":[`, "[]", ",", "]}", n) }},
		{"empty objects", func(n int) []byte { return repeated(`{"k":[`, "{}", ",", "]}", n) }},
		{"one-member objects", func(n int) []byte { return repeated(`{"k":[`, `{"a":0}`, ",", "]}", n) }},
		{"two-member objects", func(n int) []byte { return repeated(`{"k":[`, `{"a":0,"b":0}`, ",", "]}", n) }},
		{"nine-member objects", func(n int) []byte {
			return repeated(`{"k":[`, `{"a":0,"b":0,"c":0,"d":0,"e":0,"f":0,"g":0,"h":0,"i":0}`, ",", "]}", n)
		}},
		{"small keys", func(n int) []byte { return smallKeys("0", n) }},
		{"duplicate keys", func(n int) []byte { return repeated("{", `"a":0`, ",", "}", n) }},
		{"short strings", func(n int) []byte { return repeated(`{"k":[`, `"a"`, ",", "]}", n) }},
		{"escaped strings", func(n int) []byte { return repeated(`{"k":[`, `"\n"`, ",", "]}", n) }},
		{"invalid UTF-8", func(n int) []byte { return repeated(`{"k":"`, "\xff", "", `"}`, n) }},
		{"huge numbers", func(n int) []byte { return repeated(`{"k":[`, "1e999", ",", "]}", n) }},
		{"long floats", func(n int) []byte { return repeated(`{"k":[`, "0."+strings.Repeat("1", 800), ",", "]}", n) }},
		{"huge integers", func(n int) []byte { return repeated(`{"k":[`, "-99999999999999999999", ",", "]}", n) }},
		{"tuples", func(n int) []byte { return repeated(`{"k":[`, `{" t":[]}`, ",", "]}", n) }},
		{"bytes", func(n int) []byte { return repeated(`{"k":[`, `{" b":""}`, ",", "]}", n) }},
		{"escaped bytes", func(n int) []byte { return repeated(`{"k":[`, `{" b":"\u0041A=="}`, ",", "]}", n) }},
		{"markup", func(n int) []byte { return repeated(`{"k":[`, `{" m":"x"}`, ",", "]}", n) }},
		{"UUIDs", func(n int) []byte {
			return repeated(`{"k":[`, `{" u":"00000000000000000000000000000001"}`, ",", "]}", n)
		}},
		{"dates", func(n int) []byte { return repeated(`{"k":[`, `{" d":"2006-01-02 15:04:05+05:17"}`, ",", "]}", n) }},
		{"dicts", func(n int) []byte { return repeated(`{"k":[`, `{" di":{" t__":0}}`, ",", "]}", n) }},
		{"tag and member", func(n int) []byte { return repeated(`{"k":[`, `{" b":"","a":0}`, ",", "]}", n) }},
		{"nested lists", func(n int) []byte {
			return repeated(`{"k":[`, strings.Repeat("[", 500)+strings.Repeat("]", 500), ",", "]}", n)
		}},
	}
	for _, shape := range shapes {
		t.Run(shape.name, func(t *testing.T) {
			for _, size := range hostileSizes {
				in := shape.make(size)
				checkBound(t, codec.TaggedJSON{}, shape.name, in)
				checkBound(t, fieldsOnly{}, shape.name, in)
				checkBound(t, codec.JSON{}, shape.name, in)
			}
		})
	}
}

// gobNode returns a gobNode as gob writes it: its kind (field 0), then
// those of its byte slice (field 4), list (field 5) and keys (field 6) that
// are given, each as its length and encoded elements, and the final zero.
func gobNode(kind byte, b []byte, list [][]byte, keys []string) []byte {
	var n []byte
	last := -1
	field := func(f int) {
		n = append(n, byte(f-last))
		last = f
	}
	if kind != 0 {
		field(0)
		n = append(n, kind)
	}
	if b != nil {
		field(4)
		n = gobAppendUint(n, uint64(len(b)))
		n = append(n, b...)
	}
	if list != nil {
		field(5)
		n = gobAppendUint(n, uint64(len(list)))
		for _, e := range list {
			n = append(n, e...)
		}
	}
	if keys != nil {
		field(6)
		n = gobAppendUint(n, uint64(len(keys)))
		for _, k := range keys {
			n = gobAppendUint(n, uint64(len(k)))
			n = append(n, k...)
		}
	}
	return append(n, 0)
}

// The kinds of gobNode, as Gob writes them.
const (
	gobNil = iota
	gobFalse
	gobTrue
	gobString
	gobInt
	gobNumber
	gobFloat
	gobList
	gobTuple
	gobMap
	gobBytes
	gobHTML
	gobUUID
	gobTime
)

// gobListSession returns a stream of {"k": [elem, elem, ...]} of about size bytes.
func gobListSession(t testing.TB, elem []byte, size int) []byte {
	list := make([][]byte, (size-160)/len(elem))
	for i := range list {
		list[i] = elem
	}
	return gobStream(t, gobNode(gobMap, nil, [][]byte{gobNode(gobList, nil, list, nil)}, []string{"k"}))
}

// gobKeysSession returns a stream of a session of about size bytes whose members
// have the keys that key gives and nil values.
func gobKeysSession(t testing.TB, key func(i int) string, size int) []byte {
	var list [][]byte
	var keys []string
	for n, i := 0, 0; n < size-200; i++ {
		keys = append(keys, key(i))
		list = append(list, gobNode(gobNil, nil, nil, nil))
		n += 2 + len(keys[i])
	}
	return gobStream(t, gobNode(gobMap, nil, list, keys))
}

// TestGobDecodeAllocationBound decodes hostile gob streams of the shapes
// that cost most memory for their size, and checks that no decode
// allocates more than the documented bound, whether it refuses the stream
// or not. Encode would not write these streams at these sizes, so they
// are made by hand; the smallest come from Encode too.
func TestGobDecodeAllocationBound(t *testing.T) {
	when, err := time.Date(2024, 5, 6, 7, 8, 9, 0, time.FixedZone("", 5*3600+17*60)).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	shapes := []struct {
		name  string
		value any // an element, for Encode
		make  func(size int) []byte
	}{
		{"nils", nil, func(n int) []byte { return gobListSession(t, gobNode(gobNil, nil, nil, nil), n) }},
		{"empty lists", []any{}, func(n int) []byte { return gobListSession(t, gobNode(gobList, nil, nil, nil), n) }},
		{"empty tuples", codec.Tuple{}, func(n int) []byte { return gobListSession(t, gobNode(gobTuple, nil, nil, nil), n) }},
		{"empty maps", map[string]any{}, func(n int) []byte { return gobListSession(t, gobNode(gobMap, nil, nil, nil), n) }},
		{"empty bytes", []byte{}, func(n int) []byte { return gobListSession(t, gobNode(gobBytes, nil, nil, nil), n) }},
		{"one-member maps", map[string]any{"a": nil}, func(n int) []byte {
			return gobListSession(t, gobNode(gobMap, nil, [][]byte{{0}}, []string{"a"}), n)
		}},
		{"big integers", int64(1000), func(n int) []byte {
			return gobListSession(t, []byte{1, gobInt, 2, 0xfe, 0x07, 0xd0, 0}, n)
		}},
		{"floats", 1.5, func(n int) []byte { return gobListSession(t, []byte{1, gobFloat, 3, 0xfe, 0xf8, 0x3f, 0}, n) }},
		{"short strings", "a", func(n int) []byte { return gobListSession(t, []byte{1, gobString, 1, 1, 'a', 0}, n) }},
		{"UUIDs", codec.UUID{1}, func(n int) []byte { return gobListSession(t, gobNode(gobUUID, make([]byte, 16), nil, nil), n) }},
		{"times", time.Time{}, func(n int) []byte { return gobListSession(t, gobNode(gobTime, when, nil, nil), n) }},
		{"small keys", nil, func(n int) []byte {
			return gobKeysSession(t, func(i int) string { return strconv.FormatInt(int64(i), 36) }, n)
		}},
		{"duplicate keys", nil, func(n int) []byte { return gobKeysSession(t, func(int) string { return "" }, n) }},
	}
	for _, shape := range shapes {
		t.Run(shape.name, func(t *testing.T) {
			if shape.value != nil || shape.name == "nils" {
				list := make([]any, 500)
				for i := range list {
					list[i] = shape.value
				}
				b, err := codec.Gob{}.Encode(map[string]any{"k": list})
				if err != nil {
					t.Fatal(err)
				}
				checkBound(t, codec.Gob{}, shape.name+" from Encode", b)
			}
			for _, size := range hostileSizes {
				checkBound(t, codec.Gob{}, shape.name, shape.make(size))
			}
		})
	}
}

// TestEncodeRefusesWhatDecodeWould: Gob.Encode refuses a session that
// Decode would refuse as too costly, instead of losing it on the next
// request.
func TestEncodeRefusesWhatDecodeWould(t *testing.T) {
	session := map[string]any{"k": make([]any, 100_000)}
	if _, err := (codec.Gob{}).Encode(session); !errors.Is(err, codec.ErrTooLarge) {
		t.Errorf("Encode of 100,000 nils: err = %v, want ErrTooLarge", err)
	}
}

// TestHostileInputIsRefused: the costliest shapes are refused with
// ErrTooLarge, and within the bound.
func TestHostileInputIsRefused(t *testing.T) {
	for _, tc := range []struct {
		c    core.Codec
		name string
		in   []byte
	}{
		{codec.Gob{}, "nils", gobListSession(t, []byte{0}, hostileSizes[1])},
		{codec.Gob{}, "empty maps", gobListSession(t, gobNode(gobMap, nil, nil, nil), hostileSizes[0])},
		{codec.Gob{}, "duplicate keys", gobKeysSession(t, func(int) string { return "" }, hostileSizes[0])},
		{codec.TaggedJSON{}, "empty objects", repeated(`{"k":[`, "{}", ",", "]}", hostileSizes[0])},
		{codec.TaggedJSON{}, "one-member objects", repeated(`{"k":[`, `{"a":0}`, ",", "]}", hostileSizes[1])},
		{fieldsOnly{}, "one-member objects", repeated(`{"k":[`, `{"a":0}`, ",", "]}", hostileSizes[1])},
		{codec.JSON{}, "one-member objects", repeated(`{"k":[`, `{"a":0}`, ",", "]}", hostileSizes[0])},
	} {
		if checkBound(t, tc.c, tc.name, tc.in) {
			t.Errorf("%T: %s (%d bytes) decoded", tc.c, tc.name, len(tc.in))
		}
	}
}

// largeSessions returns sessions of a few hundred kilobytes of the shapes
// real sessions have, which every codec must write and read back.
func largeSessions() map[string]map[string]any {
	ids := make([]any, 40_000)
	for i := range ids {
		ids[i] = int64(1000 + i)
	}
	cart := make([]any, 3000)
	for i := range cart {
		cart[i] = map[string]any{"sku": fmt.Sprintf("SKU-%06d", i), "qty": int64(i % 7), "price": 9.99}
	}
	flags := make(map[string]any, 10_000)
	for i := range 10_000 {
		flags[fmt.Sprintf("feature_%d", i)] = i%2 == 0
	}
	notes := make([]any, 2000)
	for i := range notes {
		notes[i] = strings.Repeat("note ", 20)
	}
	return map[string]map[string]any{
		"ids":   {"seen": ids},
		"cart":  {"cart": cart},
		"flags": {"flags": flags},
		"notes": {"notes": notes},
	}
}

// TestLargeSessionsDecode: real sessions, even large ones, stay well
// within the bound.
func TestLargeSessionsDecode(t *testing.T) {
	for name, session := range largeSessions() {
		for _, c := range []core.Codec{codec.TaggedJSON{}, codec.JSON{}, codec.Gob{}} {
			b, err := c.Encode(session)
			if err != nil {
				t.Fatalf("%T: %s: %v", c, name, err)
			}
			if !checkBound(t, c, name, b) {
				t.Errorf("%T: %s (%d bytes) refused", c, name, len(b))
			}
		}
	}
}

// TestTypicalSessionAllocations: the bound costs a typical session no
// allocation: as many as before it, 29 for TaggedJSON, and for Gob far
// fewer than the 276 of encoding/gob.
func TestTypicalSessionAllocations(t *testing.T) {
	session := tjWholeSession()
	for _, tc := range []struct {
		c    core.Codec
		want float64
	}{{codec.TaggedJSON{}, 29}, {codec.Gob{}, 27}} {
		b, err := tc.c.Encode(session)
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() { _, _ = tc.c.Decode(b) }); n > tc.want {
			t.Errorf("%T: Decode of a typical session: %v allocations, want %v", tc.c, n, tc.want)
		}
	}
}

func benchmarkHostile(b *testing.B, c core.Codec, in []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		_, _ = c.Decode(in)
	}
}

// BenchmarkGobDecodeHostile decodes a 1 MiB stream of empty maps, which
// is refused, and one of trues, which is decoded.
func BenchmarkGobDecodeHostile(b *testing.B) {
	b.Run("empty maps", func(b *testing.B) {
		benchmarkHostile(b, codec.Gob{}, gobListSession(b, gobNode(gobMap, nil, nil, nil), hostileSizes[1]))
	})
	b.Run("trues", func(b *testing.B) {
		benchmarkHostile(b, codec.Gob{}, gobListSession(b, gobNode(gobTrue, nil, nil, nil), hostileSizes[1]))
	})
}

// BenchmarkTaggedJSONDecodeHostile decodes 1 MiB of one-member objects,
// which is refused, and of empty lists, which is decoded.
func BenchmarkTaggedJSONDecodeHostile(b *testing.B) {
	b.Run("one-member objects", func(b *testing.B) {
		benchmarkHostile(b, codec.TaggedJSON{}, repeated(`{"k":[`, `{"a":0}`, ",", "]}", hostileSizes[1]))
	})
	b.Run("empty lists", func(b *testing.B) {
		benchmarkHostile(b, codec.TaggedJSON{}, repeated(`{"k":[`, "[]", ",", "]}", hostileSizes[1]))
	})
}
