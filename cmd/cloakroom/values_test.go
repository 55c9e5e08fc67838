package main

import (
	"encoding/json"
	"html/template"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core/codec"
)

// Every type the codecs decode to has its word, its one-line text and a
// plain JSON value.
func TestValues(t *testing.T) {
	t.Parallel()
	uuid := codec.UUID{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef, 0x80, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde}
	when := time.Date(2024, 5, 6, 7, 8, 9, 500, time.FixedZone("CEST", 2*3600))
	for _, c := range []struct {
		v        any
		kind     string
		text     string
		jsonText string
	}{
		{nil, "null", "null", "null"},
		{"a\"b\n", "string", `"a\"b\n"`, `"a\"b\n"`},
		{true, "boolean", "true", "true"},
		{int64(-7), "integer", "-7", "-7"},
		{json.Number("123456789012345678901234567890"), "integer", "123456789012345678901234567890", "123456789012345678901234567890"},
		{json.Number("1e400"), "float", "1e400", "1e400"},
		{2.0, "float", "2.0", "2"},
		{0.1, "float", "0.1", "0.1"},
		{math.Inf(1), "float", "+Inf", `"+Inf"`},
		{[]any{"a", int64(1), uuid}, "list", `["a", 1, UUID("12345678-9abc-4def-8012-3456789abcde")]`, `["a",1,"12345678-9abc-4def-8012-3456789abcde"]`},
		{codec.Tuple{int64(1)}, "tuple", "(1,)", "[1]"},
		{codec.Tuple{"x", nil}, "tuple", `("x", null)`, `["x",null]`},
		{[]byte("\x00hi"), "bytes", `b"\x00hi"`, `"AGhp"`},
		{uuid, "UUID", "12345678-9abc-4def-8012-3456789abcde", `"12345678-9abc-4def-8012-3456789abcde"`},
		{when, "datetime", "2024-05-06T05:08:09.0000005Z", `"2024-05-06T05:08:09.0000005Z"`},
		{template.HTML("<b>"), "markup", `"<b>"`, `"\u003cb\u003e"`},
		{map[string]any{"b": []any{template.HTML("<i>")}, "a": int64(1)}, "map", `{"a": 1, "b": [Markup("<i>")]}`, `{"a":1,"b":["\u003ci\u003e"]}`},
		{int32(5), "integer", "5", "5"},
		{struct{ X int }{1}, "struct { X int }", "{1}", `"{1}"`},
	} {
		if got := kind(c.v); got != c.kind {
			t.Errorf("kind(%#v) = %q, want %q", c.v, got, c.kind)
		}
		if got := text(c.v, true); got != c.text {
			t.Errorf("text(%#v) = %s, want %s", c.v, got, c.text)
		}
		b, err := json.Marshal(jsonValue(c.v))
		if err != nil || string(b) != c.jsonText {
			t.Errorf("jsonValue(%#v) = %s, %v; want %s", c.v, b, err, c.jsonText)
		}
	}
}

func TestClip(t *testing.T) {
	t.Parallel()
	if s := clip("short"); s != "short" {
		t.Errorf("clip of a short value: %q", s)
	}
	long := strings.Repeat("é", 400) // 800 bytes
	got := clip(long)
	if !strings.HasPrefix(got, strings.Repeat("é", 256)+"… (288 more bytes") {
		t.Errorf("clip: %q", got)
	}
}

func TestSafe(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"alice":       "alice",
		"":            `""`,
		"a b":         `"a b"`,
		"\x1b[2Jevil": `"\x1b[2Jevil"`,
		"42":          "42",
	} {
		if got := safe(in); got != want {
			t.Errorf("safe(%q) = %s, want %s", in, got, want)
		}
	}
}
