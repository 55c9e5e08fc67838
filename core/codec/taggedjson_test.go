package codec_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/codec"
)

const tjVectorsPath = "../../testdata/interop/tagged_json.json"

type tjVector struct {
	Name    string `json:"name"`
	Python  string `json:"python"`
	Note    string `json:"note"`
	Encoded string `json:"encoded"`
}

func tjLoadVectors(t testing.TB) (vectors, decodeOnly []tjVector) {
	t.Helper()
	raw, err := os.ReadFile(tjVectorsPath)
	if err != nil {
		t.Fatalf("reading vectors: %v", err)
	}
	var file struct {
		Vectors    []tjVector `json:"vectors"`
		DecodeOnly []tjVector `json:"decode_only"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatalf("parsing vectors: %v", err)
	}
	return file.Vectors, file.DecodeOnly
}

func tjUUID(s string) codec.UUID {
	u, err := codec.ParseUUID(s)
	if err != nil {
		panic(err)
	}
	return u
}

// tjExpected holds, per vector, the Go value its python field describes
// (in) and, where the wire format loses something, the value decoding
// gives back (out).
var tjExpected = map[string]struct{ in, out any }{
	"string":       {in: "bar"},
	"non_ascii":    {in: "café ☃ 😀"},
	"html_chars":   {in: "<a href='x'>&</a>"},
	"int":          {in: int64(42)},
	"big_int":      {in: int64(9007199254740993)},
	"negative_int": {in: int64(-7)},
	"float":        {in: 1.5},
	"bool_true":    {in: true},
	"null":         {in: nil},
	"list":         {in: []any{int64(1), "two", nil}},
	"tuple":        {in: codec.Tuple{int64(1), "two"}},
	"bytes":        {in: []byte("hi\x00\xff")},
	"markup":       {in: template.HTML("<b>x</b>")},
	"uuid":         {in: tjUUID("12345678-1234-5678-1234-567812345678")},
	"datetime_utc": {
		in:  time.Date(2020, 1, 2, 3, 4, 5, 678901000, time.UTC),
		out: time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC),
	},
	"datetime_offset": {
		in:  time.Date(2020, 1, 2, 3, 4, 5, 0, time.FixedZone("", 7200)),
		out: time.Date(2020, 1, 2, 1, 4, 5, 0, time.UTC),
	},
	"dict_tag_key":           {in: map[string]any{" t": "x"}},
	"dict_di_key":            {in: map[string]any{" di": int64(1)}},
	"nested_di":              {in: map[string]any{"k": map[string]any{" di": map[string]any{" t": int64(1)}}}},
	"dict_two_keys_tag_like": {in: map[string]any{" t": int64(1), "x": int64(2)}},
	"nested": {in: map[string]any{
		"k": []any{int64(1), map[string]any{"t": codec.Tuple{int64(2), []byte{1}}}},
	}},
	"empty_dict": {in: map[string]any{}},
	"flashes": {in: []any{
		codec.Tuple{"message", "Saved!"},
		codec.Tuple{"error", "Oops"},
	}},
	"whole_session": {in: tjWholeSession()},
	// decode_only
	"quart018_datetime": {in: time.Date(2020, 1, 2, 3, 4, 5, 678901000, time.UTC)},
}

func tjWholeSession() map[string]any {
	return map[string]any{
		"_permanent": true,
		"_addr":      "127.0.0.1",
		"user_id":    int64(7),
		"cart":       codec.Tuple{int64(1), int64(2)},
		"token":      []byte{0, 1},
		"when":       time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
		"id":         tjUUID("00000000-0000-0000-0000-000000000001"),
		"_flashes":   []any{codec.Tuple{"message", "hi"}},
	}
}

func TestTaggedJSONVectors(t *testing.T) {
	vectors, decodeOnly := tjLoadVectors(t)
	if len(vectors) == 0 || len(decodeOnly) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range vectors {
		t.Run(v.Name, func(t *testing.T) {
			exp, ok := tjExpected[v.Name]
			if !ok {
				t.Fatalf("no expected Go value for vector %q (python %s)", v.Name, v.Python)
			}
			want := exp.in
			if exp.out != nil {
				want = exp.out
			}
			got, err := codec.UnmarshalTagged([]byte(v.Encoded))
			if err != nil {
				t.Fatalf("decode %s: %v", v.Encoded, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("decode %s:\n got %#v\nwant %#v", v.Encoded, got, want)
			}

			enc, err := codec.MarshalTagged(exp.in)
			if err != nil {
				t.Fatalf("encode %#v: %v", exp.in, err)
			}
			if _, isDict := exp.in.(map[string]any); !isDict {
				if string(enc) != v.Encoded {
					t.Fatalf("encode %#v:\n got %s\nwant %s", exp.in, enc, v.Encoded)
				}
			}
			back, err := codec.UnmarshalTagged(enc)
			if err != nil {
				t.Fatalf("decode own %s: %v", enc, err)
			}
			if !reflect.DeepEqual(back, want) {
				t.Fatalf("round trip via %s:\n got %#v\nwant %#v", enc, back, want)
			}

			if m, isDict := exp.in.(map[string]any); isDict {
				enc, err := codec.TaggedJSON{}.Encode(m)
				if err != nil {
					t.Fatal(err)
				}
				dec, err := codec.TaggedJSON{}.Decode(enc)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(dec, want) {
					t.Fatalf("codec round trip via %s:\n got %#v\nwant %#v", enc, dec, want)
				}
			}
		})
	}
	for _, v := range decodeOnly {
		t.Run(v.Name, func(t *testing.T) {
			exp, ok := tjExpected[v.Name]
			if !ok {
				t.Fatalf("no expected Go value for vector %q (python %s)", v.Name, v.Python)
			}
			got, err := codec.UnmarshalTagged([]byte(v.Encoded))
			if err != nil {
				t.Fatalf("decode %s: %v", v.Encoded, err)
			}
			if !reflect.DeepEqual(got, exp.in) {
				t.Fatalf("decode %s:\n got %#v\nwant %#v", v.Encoded, got, exp.in)
			}
		})
	}
}

func tjMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := codec.MarshalTagged(v)
	if err != nil {
		t.Fatalf("MarshalTagged(%#v): %v", v, err)
	}
	return string(b)
}

func TestTaggedJSONIntegers(t *testing.T) {
	cases := []struct {
		v    any
		want string
	}{
		{int(-42), "-42"},
		{int8(math.MinInt8), "-128"},
		{int16(math.MinInt16), "-32768"},
		{int32(math.MinInt32), "-2147483648"},
		{int64(math.MinInt64), "-9223372036854775808"},
		{int64(math.MaxInt64), "9223372036854775807"},
		{uint(7), "7"},
		{uint8(255), "255"},
		{uint16(65535), "65535"},
		{uint32(math.MaxUint32), "4294967295"},
		{uint64(math.MaxUint64), "18446744073709551615"},
		{uintptr(9), "9"},
		{json.Number("12345678901234567890123"), "12345678901234567890123"},
		{json.Number("-1.5e3"), "-1.5e3"},
		{json.Number(""), "0"},
	}
	for _, c := range cases {
		if got := tjMarshal(t, c.v); got != c.want {
			t.Errorf("%T(%v): got %s, want %s", c.v, c.v, got, c.want)
		}
	}
	// Integers decode to int64, and beyond int64 to json.Number.
	decoded := []struct {
		in   string
		want any
	}{
		{"0", int64(0)},
		{"-0", int64(0)},
		{"-9223372036854775808", int64(math.MinInt64)},
		{"9223372036854775807", int64(math.MaxInt64)},
		{"9223372036854775808", json.Number("9223372036854775808")},
		{"-9223372036854775809", json.Number("-9223372036854775809")},
		{"18446744073709551615", json.Number("18446744073709551615")},
		{"99999999999999999999", json.Number("99999999999999999999")},
		{"1E2", 100.0},
		{"1.0", 1.0},
		{"-0.0", math.Copysign(0, -1)},
		{"1e-400", 0.0},
		{"1e400", json.Number("1e400")},
	}
	for _, c := range decoded {
		got, err := codec.UnmarshalTagged([]byte(c.in))
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.in, got, c.want)
		}
	}
	if _, err := codec.MarshalTagged(json.Number("12abc")); err == nil {
		t.Error("invalid json.Number encoded without error")
	}
}

func TestTaggedJSONFloats(t *testing.T) {
	// Expected strings are Python's repr, from json.dumps.
	cases := []struct {
		f    float64
		want string
	}{
		{1.5, "1.5"},
		{1e16, "1e+16"},
		{-1e16, "-1e+16"},
		{1.5e-05, "1.5e-05"},
		{0.1, "0.1"},
		{1e15, "1000000000000000.0"},
		{100, "100.0"},
		{0.0001, "0.0001"},
		{0.001234, "0.001234"},
		{1e-5, "1e-05"},
		{math.Copysign(0, -1), "-0.0"},
		{0, "0.0"},
		{0.5, "0.5"},
		{123456789.123, "123456789.123"},
		{1e22, "1e+22"},
		{1e100, "1e+100"},
		{5e-324, "5e-324"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
		{1.0 / 3, "0.3333333333333333"},
		{1234567890123456.7, "1234567890123456.8"},
		{12345678901234567.0, "1.2345678901234568e+16"},
		{-2.5e-7, "-2.5e-07"},
		{1.25e-10, "1.25e-10"},
		{9007199254740993.0, "9007199254740992.0"},
	}
	for _, c := range cases {
		if got := tjMarshal(t, c.f); got != c.want {
			t.Errorf("%v: got %s, want %s", c.f, got, c.want)
		}
		back, err := codec.UnmarshalTagged([]byte(c.want))
		if err != nil || back != any(c.f) {
			t.Errorf("%s decoded to %#v, %v; want %v", c.want, back, err, c.f)
		}
	}
	if got := tjMarshal(t, float32(0.1)); got != "0.1" {
		t.Errorf("float32(0.1): got %s", got)
	}
	if got := tjMarshal(t, float32(16777216)); got != "16777216.0" {
		t.Errorf("float32(2^24): got %s", got)
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if b, err := codec.MarshalTagged(f); err == nil {
			t.Errorf("%v encoded as %s", f, b)
		}
	}
}

func TestTaggedJSONStrings(t *testing.T) {
	// want is Python's json.dumps output.
	in := "a\x00\x01\x1f\x7f\"\\/\n\r\t\b\f<>&é\u2028\U0001F600"
	want := `"a\u0000\u0001\u001f\u007f\"\\/\n\r\t\b\f<>&\u00e9\u2028\ud83d\ude00"`
	if got := tjMarshal(t, in); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	back, err := codec.UnmarshalTagged([]byte(want))
	if err != nil || back != in {
		t.Errorf("decoded %q, %v", back, err)
	}
	if got := tjMarshal(t, "ok\xffbad"); got != `"ok\ufffdbad"` {
		t.Errorf("invalid UTF-8 encoded as %s", got)
	}
	if got := tjMarshal(t, template.HTML("<i>é</i>")); got != `{" m":"<i>\u00e9</i>"}` {
		t.Errorf("markup encoded as %s", got)
	}

	decoded := []struct{ in, want string }{
		{`"\u00e9\u00E9"`, "éé"},
		{`"\ud83d\ude00"`, "😀"},
		{`"\/"`, "/"},
		{`"x\ud800y"`, "x\uFFFDy"},          // lone high surrogate
		{`"\ude00"`, "\uFFFD"},              // lone low surrogate
		{`"\ud800\u0041"`, "\uFFFDA"},       // high surrogate then non-surrogate
		{`"\ud800\ud800\udc00"`, "\uFFFD𐀀"}, // high, then a valid pair
		{"\"a\xffb\"", "a\uFFFDb"},          // invalid UTF-8
		{"\"\xe2\x82\"", "\uFFFD\uFFFD"},    // truncated sequence
		{"\"caf\xc3\xa9\"", "café"},         // raw UTF-8
		{"\"\x7f\"", "\x7f"},
	}
	for _, c := range decoded {
		got, err := codec.UnmarshalTagged([]byte(c.in))
		if err != nil || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

type tjNamedUUID [16]byte

type tjRole string

type tjProfile struct {
	Name  string    `json:"name"`
	Age   int       `json:"age"`
	Tags  []string  `json:"tags,omitempty"`
	Since time.Time `json:"since"`
	skip  int
}

type tjTagged struct {
	T []int `json:" t"`
}

func TestTaggedJSONOtherTypes(t *testing.T) {
	u := tjNamedUUID(tjUUID("12345678-1234-5678-1234-567812345678"))
	pu := tjUUID("00000000-0000-0000-0000-000000000001")
	since := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	var nilMap map[string]any
	var nilPtr *int
	n := 5
	cases := []struct {
		name string
		v    any
		want string
	}{
		{"named uuid", u, `{" u":"12345678123456781234567812345678"}`},
		{"uuid pointer", &pu, `{" u":"00000000000000000000000000000001"}`},
		{"named uuid in slice", []tjNamedUUID{u}, `[{" u":"12345678123456781234567812345678"}]`},
		{"named string", tjRole("admin"), `"admin"`},
		{"int pointer", &n, `5`},
		{"nil pointer", nilPtr, `null`},
		{"nil map", nilMap, `{}`},
		{"nil slice", []any(nil), `[]`},
		{"nil tuple", codec.Tuple(nil), `{" t":[]}`},
		{"nil bytes", []byte(nil), `{" b":""}`},
		{"[]string", []string{"a", "b"}, `["a","b"]`},
		{"[]int", []int{1, 2}, `[1,2]`},
		{"array", [2]bool{true, false}, `[true,false]`},
		{"map[string]string", map[string]string{"b": "2", "a": "1"}, `{"a":"1","b":"2"}`},
		{"map[string]string tag key", map[string]string{" m": "x"}, `{" di":{" m__":"x"}}`},
		{"map[string]int", map[string]int{"b": 2, "a": 1}, `{"a":1,"b":2}`},
		{"map[string]int tag key", map[string]int{" u": 1}, `{" di":{" u__":1}}`},
		{"map[string][]time.Time", map[string][]time.Time{"t": {since}}, `{"t":[{" d":"Tue, 02 Jan 2024 03:04:05 GMT"}]}`},
		{"map[int]string", map[int]string{2: "b", 1: "a"}, `{"1":"a","2":"b"}`},
		{"struct", tjProfile{Name: "ann", Age: 3, Since: since, skip: 1},
			`{"age":3,"name":"ann","since":"2024-01-02T03:04:05Z"}`},
		{"struct pointer", &tjProfile{Name: "bo", Tags: []string{"x"}, Since: since},
			`{"age":0,"name":"bo","since":"2024-01-02T03:04:05Z","tags":["x"]}`},
		{"struct with tag-like field", tjTagged{T: []int{1}}, `{" di":{" t__":[1]}}`},
		{"nested maps sorted", map[string]any{"b": map[string]any{"z": 1, "y": map[string]any{"q": 1, "p": 2}}, "a": 0},
			`{"a":0,"b":{"y":{"p":2,"q":1},"z":1}}`},
		{"raw message", json.RawMessage(`{"b": 1, "a": [true]}`), `{"a":[true],"b":1}`},
		{"time in zone", time.Date(2024, 1, 2, 0, 30, 0, 999, time.FixedZone("", 3600)), `{" d":"Mon, 01 Jan 2024 23:30:00 GMT"}`},
	}
	for _, c := range cases {
		if got := tjMarshal(t, c.v); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
	for _, v := range []any{make(chan int), func() {}, complex(1, 2), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if b, err := codec.MarshalTagged(v); err == nil {
			t.Errorf("%T encoded as %s", v, b)
		}
	}
}

func TestTaggedJSONDepth(t *testing.T) {
	var v any = "x"
	for range 600 {
		v = []any{v}
	}
	if _, err := codec.MarshalTagged(v); err == nil {
		t.Error("600 nested lists encoded")
	}
	m := map[string]any{}
	m["self"] = m
	if _, err := codec.MarshalTagged(m); err == nil {
		t.Error("cyclic map encoded")
	}
	type loop *loop
	var p loop
	p = &p
	if _, err := codec.MarshalTagged(p); err == nil {
		t.Error("pointer cycle encoded")
	}

	ok := strings.Repeat("[", 512) + strings.Repeat("]", 512)
	if _, err := codec.UnmarshalTagged([]byte(ok)); err != nil {
		t.Errorf("512 levels: %v", err)
	}
	for _, s := range []string{
		strings.Repeat("[", 513) + strings.Repeat("]", 513),
		strings.Repeat(`{"a":`, 513) + "1" + strings.Repeat("}", 513),
		strings.Repeat("[", 1<<20),
	} {
		if _, err := codec.UnmarshalTagged([]byte(s)); err == nil {
			t.Errorf("%.20s... (%d bytes) decoded", s, len(s))
		}
	}
}

func TestTaggedJSONMalformed(t *testing.T) {
	bad := []string{
		``, ` `, `{`, `}`, `[`, `]`, `[1,]`, `[,1]`, `[1 2]`, `{"a"}`, `{"a":}`, `{"a":1,}`,
		`{a:1}`, `{"a" 1}`, `{"a":1 "b":2}`, `{1:2}`, `"abc`, `"\`, `"\x"`, `"\u12"`, `"\u12g4"`,
		"\"a\nb\"", "\"\x01\"", `tru`, `true false`, `nul`, `nulll`, `fals`, `01`, `-`, `-a`, `1.`,
		`.5`, `1e`, `1e+`, `+1`, `0x10`, `NaN`, `Infinity`, `-Infinity`, `[1]x`, `{}{}`, `"a"b`,
		`'a'`, "\xef\xbb\xbf{}", `{"a":[1,{"b":}]}`,
		// bad tags
		`{" t":1}`, `{" t":"ab"}`, `{" b":1}`, `{" b":"!!!"}`, `{" b":"aGk"}`, `{" m":null}`,
		`{" u":"xyz"}`, `{" u":"1234567812345678123456781234567g"}`, `{" d":"yesterday"}`,
		`{" d":"Thu, 31 Feb 2020 03:04:05 GMT"}`, `{" d":"Thu, 02 Jan 2020 24:04:05 GMT"}`,
		`{" d":"Xyz, 02 Jan 2020 03:04:05 GMT"}`, `{" d":5}`, `{" di":1}`, `{" di":{}}`,
		`{" di":{"a":1}}`, `{" di":{"a__":1,"b__":2}}`, `{" di":{" t":[1]}}`,
	}
	for _, s := range bad {
		if v, err := codec.UnmarshalTagged([]byte(s)); err == nil {
			t.Errorf("%q decoded to %#v", s, v)
		}
	}
	for _, s := range []string{`[1]`, `"x"`, `{" t":[1]}`, `{" di":{" t__":1}}`, `null`, `{`} {
		if m, err := (codec.TaggedJSON{}).Decode([]byte(s)); err == nil && s != `{" di":{" t__":1}}` {
			t.Errorf("Decode(%s) = %#v, want an error", s, m)
		}
	}
}

func TestTaggedJSONDecodeForms(t *testing.T) {
	cases := []struct {
		in   string
		want any
	}{
		{" \t\r\n{ \"a\" : [ 1 , 2 ] } \n", map[string]any{"a": []any{int64(1), int64(2)}}},
		{`[]`, []any{}},
		{`{" t":[]}`, codec.Tuple{}},
		{`{" b":""}`, []byte{}},
		// Duplicate keys: the last wins and the object is then untagged,
		// as Python's dict and object_hook do.
		{`{" t":[1]," t":[2]}`, codec.Tuple{int64(2)}},
		{`{"a":1,"a":2}`, map[string]any{"a": int64(2)}},
		{`{" t":[1],"x":2}`, map[string]any{" t": []any{int64(1)}, "x": int64(2)}},
		{`{" di":{"x__":1}}`, map[string]any{"x": int64(1)}},
		{`{" m":"a","x":1}`, map[string]any{" m": "a", "x": int64(1)}},
		{`{"x":1," m":"a"}`, map[string]any{" m": "a", "x": int64(1)}},
		{`{" m" : "a\u00e9\n" }`, template.HTML("a\u00e9\n")},
		{"{\" m\":\"\xff\"}", template.HTML("\uFFFD")},
		{`{" b":"aGkA/w=="}`, []byte("hi\x00\xff")},
		{`{" b":"aGkA\/w=="}`, []byte("hi\x00\xff")},
		{`{" u":"12345678123456781234567812345678"," u":"00000000000000000000000000000001"}`,
			tjUUID("00000000000000000000000000000001")},
		{`{" tt":1}`, map[string]any{" tt": int64(1)}},
		{`{" dix":1}`, map[string]any{" dix": int64(1)}},
		{`{" x":1}`, map[string]any{" x": int64(1)}},
		{`{" u":"12345678-1234-5678-1234-567812345678"}`, tjUUID("12345678123456781234567812345678")},
		{`{" u":"ABCDEF00000000000000000000000000"}`, tjUUID("abcdef00-0000-0000-0000-000000000000")},
		{`{" d":"Sunday, 06-Nov-94 08:49:37 GMT"}`, time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)},
		{`{" d":"Sun Nov  6 08:49:37 1994"}`, time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)},
		{`{" d":"Sun, 06 Nov 1994 10:49:37 +0200"}`, time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)},
		{`{" d":"2020-01-02T03:04:05"}`, time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)},
		{`{" d":"2020-01-02T05:04:05.5+02:00"}`, time.Date(2020, 1, 2, 3, 4, 5, 5e8, time.UTC)},
		{`{" d":"2020-01-02 03:04:05.000001"}`, time.Date(2020, 1, 2, 3, 4, 5, 1000, time.UTC)},
		{`{" d":"Sat, 29 Feb 2020 23:59:59 GMT"}`, time.Date(2020, 2, 29, 23, 59, 59, 0, time.UTC)},
	}
	for _, c := range cases {
		got, err := codec.UnmarshalTagged([]byte(c.in))
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %#v\nwant %#v", c.in, got, c.want)
		}
	}
}

func TestUUID(t *testing.T) {
	u := tjUUID("123e4567-E89B-12d3-a456-426614174000")
	if s := u.String(); s != "123e4567-e89b-12d3-a456-426614174000" {
		t.Errorf("String() = %s", s)
	}
	if v, err := codec.ParseUUID("123e4567e89b12d3a456426614174000"); err != nil || v != u {
		t.Errorf("32-digit form: %v, %v", v, err)
	}
	for _, s := range []string{"", "123e4567-e89b-12d3-a456-42661417400", "123e4567e89b12d3a45642661417400g",
		"123e4567-e89b-12d3-a456_426614174000", "{123e4567-e89b-12d3-a456-426614174000}"} {
		if _, err := codec.ParseUUID(s); err == nil {
			t.Errorf("ParseUUID(%q) succeeded", s)
		}
	}
	b, err := json.Marshal(struct{ ID codec.UUID }{u})
	if err != nil || string(b) != `{"ID":"123e4567-e89b-12d3-a456-426614174000"}` {
		t.Errorf("json.Marshal: %s, %v", b, err)
	}
	var back struct{ ID codec.UUID }
	if err := json.Unmarshal(b, &back); err != nil || back.ID != u {
		t.Errorf("json.Unmarshal: %v, %v", back.ID, err)
	}
}

// tjTruncateTimes drops what the " d" tag cannot carry, for comparing a
// decoded value with what it decodes to after a re-encoding.
func tjTruncateTimes(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.Truncate(time.Second)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = tjTruncateTimes(e)
		}
		return out
	case codec.Tuple:
		out := make(codec.Tuple, len(x))
		for i, e := range x {
			out[i] = tjTruncateTimes(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = tjTruncateTimes(e)
		}
		return out
	}
	return v
}

func FuzzTaggedJSON(f *testing.F) {
	vectors, decodeOnly := tjLoadVectors(f)
	for _, v := range append(vectors, decodeOnly...) {
		f.Add([]byte(v.Encoded))
	}
	for _, s := range []string{
		`{" di":{" di__":{" di":{" t__":1}}}}`, `[1e400,-0,-0.0,1E-7,99999999999999999999]`,
		`"\ud800\udc00\ud800x\u0000"`, "\"\xff\"", `{" d":"2020-01-02T03:04:05.678901+00:00"}`,
		`{" d":"Sun Nov  6 08:49:37 1994"}`, `{"a":1,"a":{" t":[]}}`, `[[[[[]]]]]`, `{" b":"AQ=="}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFieldsAgree(t, data)
		v1, err := codec.UnmarshalTagged(data)
		if err != nil {
			return
		}
		b1, err := codec.MarshalTagged(v1)
		if err != nil {
			t.Fatalf("decoded %q to %#v, which does not encode: %v", data, v1, err)
		}
		v2, err := codec.UnmarshalTagged(b1)
		if err != nil {
			t.Fatalf("re-encoded %q as %q, which does not decode: %v", data, b1, err)
		}
		if !reflect.DeepEqual(tjTruncateTimes(v1), v2) {
			t.Fatalf("%q decoded to\n%#v\nbut after re-encoding as %q to\n%#v", data, v1, b1, v2)
		}
		b2, err := codec.MarshalTagged(v2)
		if err != nil || string(b1) != string(b2) {
			t.Fatalf("encoding is not stable: %q then %q (%v)", b1, b2, err)
		}
	})
}

func tjBenchSession(b *testing.B) (map[string]any, []byte) {
	vectors, _ := tjLoadVectors(b)
	for _, v := range vectors {
		if v.Name == "whole_session" {
			return tjWholeSession(), []byte(v.Encoded)
		}
	}
	b.Fatal("no whole_session vector")
	return nil, nil
}

func BenchmarkTaggedJSONEncode(b *testing.B) {
	session, _ := tjBenchSession(b)
	var c codec.TaggedJSON
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Encode(session); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTaggedJSONDecode(b *testing.B) {
	_, data := tjBenchSession(b)
	var c codec.TaggedJSON
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodingJSONMarshal is the baseline for BenchmarkTaggedJSONEncode:
// encoding/json on the same map (without tags).
func BenchmarkEncodingJSONMarshal(b *testing.B) {
	session, _ := tjBenchSession(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(session); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodingJSONUnmarshal is the baseline for
// BenchmarkTaggedJSONDecode: encoding/json on the same bytes (without
// untagging).
func BenchmarkEncodingJSONUnmarshal(b *testing.B) {
	_, data := tjBenchSession(b)
	b.ReportAllocs()
	for b.Loop() {
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleMarshalTagged() {
	b, err := codec.MarshalTagged(codec.Tuple{"message", "Saved!"})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))

	v, err := codec.UnmarshalTagged([]byte(`{" b":"aGkA/w=="}`))
	if err != nil {
		panic(err)
	}
	fmt.Printf("%T %q\n", v, v)
	// Output:
	// {" t":["message","Saved!"]}
	// []uint8 "hi\x00\xff"
}

func ExampleTaggedJSON() {
	var c core.Codec = codec.TaggedJSON{}
	b, err := c.Encode(map[string]any{
		"_permanent": true,
		"user_id":    7,
		"_flashes":   []any{codec.Tuple{"message", "Saved!"}},
		"since":      time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))

	session, err := c.Decode(b)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%T %v\n", session["user_id"], session["user_id"])
	fmt.Printf("%T %v\n", session["_flashes"].([]any)[0], session["_flashes"])
	// Output:
	// {"_flashes":[{" t":["message","Saved!"]}],"_permanent":true,"since":{" d":"Mon, 06 May 2024 07:08:09 GMT"},"user_id":7}
	// int64 7
	// codec.Tuple [[message Saved!]]
}

// tjLargeSession is a session of about 100 KB: a user's cart of 400 items
// with a 200-byte note each, the size at which the encoder's buffer used to
// be dropped instead of reused.
func tjLargeSession() map[string]any {
	items := make([]any, 400)
	for i := range items {
		items[i] = map[string]any{
			"sku":  fmt.Sprintf("SKU-%06d", i),
			"qty":  int64(i % 7),
			"note": strings.Repeat("x", 200),
		}
	}
	return map[string]any{"_permanent": true, "user_id": int64(7), "cart": items}
}

// BenchmarkTaggedJSONEncodeLarge encodes a 100 KB session. With the
// encoder's buffer reused, B/op is about the output size: the one copy
// handed to the caller.
func BenchmarkTaggedJSONEncodeLarge(b *testing.B) {
	session := tjLargeSession()
	var c codec.TaggedJSON
	out, err := c.Encode(session)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Encode(session); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(out)), "out-bytes")
}

// TestDepthErrors: every codec refuses values nested too deeply, both
// ways, with an error that errors.Is matches against ErrTooDeep.
func TestDepthErrors(t *testing.T) {
	nest := func(depth int) map[string]any {
		var v any = int64(1)
		for range depth {
			v = []any{v}
		}
		return map[string]any{"k": v}
	}
	deepInput := []byte(`{"k":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`)
	for _, c := range []core.Codec{codec.TaggedJSON{}, codec.JSON{}, codec.Gob{}} {
		name := fmt.Sprintf("%T", c)
		b, err := c.Encode(nest(511))
		if err != nil {
			t.Fatalf("%s: Encode of 511 lists: %v", name, err)
		}
		if got, err := c.Decode(b); err != nil || !reflect.DeepEqual(got, nest(511)) {
			t.Fatalf("%s: Decode of 511 lists: %v", name, err)
		}
		if _, err := c.Encode(nest(600)); !errors.Is(err, codec.ErrTooDeep) {
			t.Errorf("%s: Encode of 600 lists: err = %v, want ErrTooDeep", name, err)
		}
		if _, ok := c.(codec.Gob); ok {
			continue // TestGobDecodeRefusesDeepInput makes deep gob input
		}
		if _, err := c.Decode(deepInput); !errors.Is(err, codec.ErrTooDeep) {
			t.Errorf("%s: Decode of 600 arrays: err = %v, want ErrTooDeep", name, err)
		}
	}
}

// The core's own keys, which nearly every session holds, cost no copy when
// decoded; the same key written with an escape still decodes to it.
func TestTaggedJSONSessionKeys(t *testing.T) {
	allocs := func(s string) float64 {
		return testing.AllocsPerRun(100, func() {
			if _, err := (codec.TaggedJSON{}).Decode([]byte(s)); err != nil {
				t.Fatal(err)
			}
		})
	}
	if own, other := allocs(`{"_permanent":true}`), allocs(`{"_xermanent":true}`); own >= other {
		t.Errorf("decoding \"_permanent\" allocates %v times, another key of its length %v", own, other)
	}
	got, err := (codec.TaggedJSON{}).Decode([]byte(`{"_perm\u0061nent":true,"_flashes\"":1}`))
	if err != nil || got["_permanent"] != true || got["_flashes\""] != int64(1) || len(got) != 2 {
		t.Errorf("escaped keys: %v, %v", got, err)
	}
}
