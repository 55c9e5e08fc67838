package codec_test

import (
	"encoding/json"
	"html/template"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core/codec"
)

func TestJSONCodecDecode(t *testing.T) {
	m, err := codec.JSON{}.Decode([]byte(`{"i":42,"f":1.5,"big":99999999999999999999,"neg":-3,"e":1e3,` +
		`"l":[true,null,"s"],"o":{"k":"v"},"tag":{" t":[1]},"s":"\u00e9"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"i":   int64(42),
		"f":   1.5,
		"big": json.Number("99999999999999999999"),
		"neg": int64(-3),
		"e":   1000.0,
		"l":   []any{true, nil, "s"},
		"o":   map[string]any{"k": "v"},
		"tag": map[string]any{" t": []any{int64(1)}}, // no tags in plain JSON
		"s":   "é",
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got  %#v\nwant %#v", m, want)
	}
	for _, s := range []string{`[1]`, `"x"`, `null`, `{"a":1`, `{"a":1}x`, ``} {
		if m, err := (codec.JSON{}).Decode([]byte(s)); err == nil {
			t.Errorf("Decode(%q) = %#v, want an error", s, m)
		}
	}
}

func TestJSONCodecEncode(t *testing.T) {
	u := tjUUID("12345678-1234-5678-1234-567812345678")
	data := map[string]any{
		"tuple": codec.Tuple{1, "a"},
		"bytes": []byte("hi"),
		"html":  template.HTML("<b>é</b>"),
		"uuid":  u,
		"time":  time.Date(2024, 5, 6, 7, 8, 9, 5000, time.UTC),
		"float": 2.0,
		"nest":  map[string]any{" t": 1},
		"n":     nil,
	}
	b, err := codec.JSON{}.Encode(data)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"bytes":"aGk=","float":2.0,"html":"<b>\u00e9</b>","n":null,"nest":{" t":1},` +
		`"time":"2024-05-06T07:08:09.000005Z","tuple":[1,"a"],"uuid":"12345678-1234-5678-1234-567812345678"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	if b, err := (codec.JSON{}).Encode(nil); err != nil || string(b) != "{}" {
		t.Errorf("Encode(nil) = %s, %v", b, err)
	}
	if _, err := (codec.JSON{}).Encode(map[string]any{"x": math.NaN()}); err == nil {
		t.Error("NaN encoded")
	}
}
