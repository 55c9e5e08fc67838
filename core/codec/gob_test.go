package codec_test

import (
	"encoding/json"
	"html/template"
	"math"
	"math/rand/v2"
	"reflect"
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
