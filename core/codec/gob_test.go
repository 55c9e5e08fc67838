package codec_test

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"errors"
	"html/template"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core/codec"
)

func TestGobRoundTrip(t *testing.T) {
	when := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("", -5*3600))
	data := map[string]any{
		"tuple":  codec.Tuple{int64(1), "two", codec.Tuple{}},
		"uuid":   tjUUID("12345678-1234-5678-1234-567812345678"),
		"bytes":  []byte{0, 1, 255},
		"empty":  []byte{},
		"when":   when,
		"html":   template.HTML("<b>x</b>"),
		"num":    json.Number("99999999999999999999"),
		"float":  1.5,
		"nan":    math.Inf(1),
		"nil":    nil,
		"yes":    true,
		"no":     false,
		"list":   []any{int64(1), []any{}, map[string]any{}},
		"nested": map[string]any{"a": map[string]any{"b": []any{"c", map[string]any{" t": int64(1)}}}},
	}
	b, err := codec.Gob{}.Encode(data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := codec.Gob{}.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	gotWhen, ok := got["when"].(time.Time)
	if !ok || !gotWhen.Equal(when) || gotWhen.Format(time.RFC3339Nano) != when.Format(time.RFC3339Nano) {
		t.Errorf("time: got %v, want %v", got["when"], when)
	}
	delete(got, "when")
	delete(data, "when")
	if !reflect.DeepEqual(got, data) {
		t.Errorf("got  %#v\nwant %#v", got, data)
	}

	// Other Go types come back as TaggedJSON gives them.
	in := map[string]any{
		"int": 7, "u8": uint8(3), "big": uint64(math.MaxUint64), "f32": float32(0.5),
		"strs": []string{"a"}, "ms": map[string]string{"k": "v"}, "ints": []int{1, 2},
		"named": tjNamedUUID{1}, "struct": tjProfile{Name: "x", Since: time.Unix(0, 0).UTC()},
	}
	b, err = codec.Gob{}.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err = codec.Gob{}.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"int": int64(7), "u8": int64(3), "big": json.Number("18446744073709551615"), "f32": 0.5,
		"strs": []any{"a"}, "ms": map[string]any{"k": "v"}, "ints": []any{int64(1), int64(2)},
		"named":  codec.UUID{1},
		"struct": map[string]any{"name": "x", "age": int64(0), "since": "1970-01-01T00:00:00Z"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}

	if b, err := (codec.Gob{}).Encode(nil); err != nil {
		t.Error(err)
	} else if m, err := (codec.Gob{}).Decode(b); err != nil || m == nil || len(m) != 0 {
		t.Errorf("nil map: %#v, %v", m, err)
	}
}

func TestGobDecodeGarbage(t *testing.T) {
	valid, err := codec.Gob{}.Encode(map[string]any{"a": codec.Tuple{int64(1)}, "b": []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	inputs := [][]byte{nil, {}, {0}, []byte("not gob at all"), valid[:len(valid)/2]}
	for range 2000 {
		b := append([]byte(nil), valid...)
		for range 1 + r.IntN(4) {
			b[r.IntN(len(b))] = byte(r.IntN(256))
		}
		inputs = append(inputs, b)
	}
	for _, in := range inputs {
		_, _ = codec.Gob{}.Decode(in) // must not panic
	}
	for _, in := range inputs[:5] {
		if _, err := (codec.Gob{}).Decode(in); err == nil {
			t.Errorf("Decode(%q) succeeded", in)
		}
	}
	var c codec.Gob
	b, err := c.Encode(map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Decode(b); err != nil {
		t.Errorf("empty map: %v", err)
	}
}

// gobDeep returns a gob stream of a session that nests depth lists, each a
// single gobNode with only its list set: three bytes a level, the cheapest
// nesting the format allows.
func gobDeep(t testing.TB, depth int) []byte {
	t.Helper()
	// gobNode's L is its sixth field: delta 6 from the start, then a count
	// of 1; each nested node ends with a zero delta.
	node := bytes.Repeat([]byte{6, 1}, depth)
	return gobStream(t, append(node, bytes.Repeat([]byte{0}, depth+1)...))
}

// gobStream returns a gob stream of Encode's type definitions followed by
// a value whose gobNode is node, its fields as gob writes them. The type
// definitions come from Encode, as the type ids that gob puts on the wire
// depend on the process.
func gobStream(t testing.TB, node []byte) []byte {
	t.Helper()
	valid, err := codec.Gob{}.Encode(map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	// valid is type definitions, each one message, then one value message.
	var stream []byte
	for rest := valid; ; {
		n, body := gobUint(t, rest)
		msg, next := body[:n], body[n:]
		id, after := gobUint(t, msg)
		if id&1 != 0 { // negative: a type definition
			stream = append(stream, rest[:len(rest)-len(next)]...)
			rest = next
			continue
		}
		value := append(msg[:len(msg)-len(after):len(msg)-len(after)], node...)
		stream = gobAppendUint(stream, uint64(len(value)))
		return append(stream, value...)
	}
}

func gobUint(t testing.TB, b []byte) (uint64, []byte) {
	t.Helper()
	if len(b) == 0 {
		t.Fatal("truncated gob stream")
	}
	if b[0] < 0x80 {
		return uint64(b[0]), b[1:]
	}
	n := -int(int8(b[0]))
	var x uint64
	for _, c := range b[1 : 1+n] {
		x = x<<8 | uint64(c)
	}
	return x, b[1+n:]
}

func gobAppendUint(b []byte, x uint64) []byte {
	if x < 0x80 {
		return append(b, byte(x))
	}
	var be []byte
	for ; x > 0; x >>= 8 {
		be = append([]byte{byte(x)}, be...)
	}
	return append(append(b, byte(-len(be))), be...)
}

// TestGobDecodeRefusesDeepInput: encoding/gob decodes by recursion without
// a bound, so that before the check the oversized stream crashed the test
// binary with a stack overflow, and the one within the size bound took
// seconds and hundreds of megabytes of stack before fromGobNode refused it.
func TestGobDecodeRefusesDeepInput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		depth int
		want  error
	}{
		{"oversized", 1_500_000, codec.ErrTooLarge},
		{"within the size bound", (codec.MaxGobSize - 200) / 3, codec.ErrTooDeep},
		{"just too deep", 513, codec.ErrTooDeep},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := gobDeep(t, tc.depth)
			start := time.Now()
			_, err := codec.Gob{}.Decode(in)
			if elapsed := time.Since(start); elapsed > time.Second {
				t.Errorf("Decode of %d bytes took %v", len(in), elapsed)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Decode of %d levels (%d bytes): err = %v, want %v", tc.depth, len(in), err, tc.want)
			}
		})
	}
	// The stream is well formed: at a depth Encode writes, gob decodes it,
	// and only then is it found not to be a session (its nodes have no kind).
	if _, err := (codec.Gob{}).Decode(gobDeep(t, 100)); err == nil || !strings.Contains(err.Error(), "not a map") {
		t.Fatalf("Decode of 100 levels: err = %v, want a session that is not a map", err)
	}
}

// TestGobDepthLimits: what Encode writes at the deepest nesting decodes,
// one level more is refused with ErrTooDeep. The leaf counts as a level, as
// the session object does in tagged JSON.
func TestGobDepthLimits(t *testing.T) {
	nest := func(depth int) map[string]any {
		var v any = "leaf"
		for range depth {
			v = []any{v}
		}
		return map[string]any{"k": v}
	}
	b, err := codec.Gob{}.Encode(nest(511))
	if err != nil {
		t.Fatalf("Encode of 511 lists: %v", err)
	}
	if got, err := (codec.Gob{}).Decode(b); err != nil || !reflect.DeepEqual(got, nest(511)) {
		t.Fatalf("Decode of 511 lists: %v", err)
	}
	if _, err := (codec.Gob{}).Encode(nest(512)); !errors.Is(err, codec.ErrTooDeep) {
		t.Fatalf("Encode of 512 lists: err = %v, want ErrTooDeep", err)
	}
}

// TestGobDecodeRefusesForeignShapes: a field that gobNode lacks is skipped
// by encoding/gob, again by unbounded recursion, so the check walks it too;
// and types that Encode never writes are refused outright.
func TestGobDecodeRefusesForeignShapes(t *testing.T) {
	type hidden struct {
		K uint8
		X []hidden
	}
	deep := hidden{K: 9}
	for range 5000 {
		deep = hidden{K: 9, X: []hidden{deep}}
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&deep); err != nil {
		t.Fatal(err)
	}
	if _, err := (codec.Gob{}).Decode(buf.Bytes()); !errors.Is(err, codec.ErrTooDeep) {
		t.Errorf("Decode of a deep unknown field: err = %v, want ErrTooDeep", err)
	}

	type withMap struct {
		K uint8
		M map[string]int
	}
	buf.Reset()
	if err := gob.NewEncoder(&buf).Encode(withMap{K: 9, M: map[string]int{"a": 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := (codec.Gob{}).Decode(buf.Bytes()); err == nil {
		t.Error("Decode of a value with a map field succeeded")
	}
}

func TestGobEncodeRefusesOversizedSession(t *testing.T) {
	big := map[string]any{"blob": strings.Repeat("x", codec.MaxGobSize)}
	if _, err := (codec.Gob{}).Encode(big); !errors.Is(err, codec.ErrTooLarge) {
		t.Fatalf("Encode of a %d-byte session: err = %v, want ErrTooLarge", codec.MaxGobSize, err)
	}
	ok := map[string]any{"blob": strings.Repeat("x", codec.MaxGobSize/2)}
	b, err := codec.Gob{}.Encode(ok)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := (codec.Gob{}).Decode(b); err != nil || got["blob"] != ok["blob"] {
		t.Fatalf("half a MiB session: %v", err)
	}
}

// BenchmarkGobDecode measures Decode of the typical session used by the
// tagged-JSON benchmarks, its stream check included.
func BenchmarkGobDecode(b *testing.B) {
	session, _ := tjBenchSession(b)
	data, err := codec.Gob{}.Encode(session)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (codec.Gob{}).Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
