package codec_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/cloakroom/cloakroom/core/codec"
)

// checkFieldsAgree fails unless DecodeFields accepts data exactly when
// Decode does, and then lists the same keys, the last value of a key
// given twice being the one Decode keeps.
func checkFieldsAgree(t *testing.T, data []byte) {
	t.Helper()
	var c codec.TaggedJSON
	want, err := c.Decode(data)
	prefix := []codec.Field{{Key: "kept", Value: true}}
	fields, ferr := c.DecodeFields(data, prefix)
	if (err == nil) != (ferr == nil) {
		t.Fatalf("%.200q: Decode: %v; DecodeFields: %v", data, err, ferr)
	}
	if err != nil {
		return
	}
	if len(fields) == 0 || fields[0] != prefix[0] {
		t.Fatalf("%.200q: DecodeFields did not append to dst: %v", data, fields)
	}
	got := make(map[string]any, len(fields))
	for _, f := range fields[1:] {
		got[f.Key] = f.Value
	}
	// Compared through their encoding, which sorts keys and holds NaN.
	wantB, werr := c.Encode(want)
	gotB, gerr := c.Encode(got)
	if !bytes.Equal(wantB, gotB) || (werr == nil) != (gerr == nil) {
		t.Fatalf("%.200q: Decode gave %.300q (%v), DecodeFields %.300q (%v)", data, wantB, werr, gotB, gerr)
	}
}

func TestDecodeFieldsAgreesWithDecode(t *testing.T) {
	vectors, decodeOnly := tjLoadVectors(t)
	for _, v := range append(vectors, decodeOnly...) {
		checkFieldsAgree(t, []byte(v.Encoded))
	}
	many := make([]string, 40)
	for i := range many {
		many[i] = fmt.Sprintf("%q:%d", fmt.Sprint("k", i%30), i)
	}
	for _, s := range []string{
		`{}`, ` { "a" : 1 } `, `{"_permanent":true,"user":"alice","n":1}`,
		`{"a":1,"a":2}`, `{"a":1,"b":2,"a":3}`,
		"{" + strings.Join(many, ",") + "}",
		`{" t":[1,2]}`, `{" t":[1]," t":[2]}`, `{" t":[1],"a":1}`, `{"a":1," t":[1]}`,
		`{" di":{"x__":1}}`, `{" di":{"x__":1}," di":{"y__":2}}`, `{" di":{"x":1}}`,
		`{" b":"AQ=="}`, `{" b":"AQ==","a":1}`, `{" b":"not base64"}`, `{" b":"\u0041Q=="}`,
		`{" d":"Sun, 06 Nov 1994 08:49:37 GMT","x":{" d":"Sun, 06 Nov 1994 08:49:37 GMT"}}`,
		`[1]`, `"a"`, `1`, `null`, `{"a":1}x`, `{"a":1,}`, `{"a"}`, `{"a":}`, `{`, ``, `{"a":1 "b":2}`,
		`{"a":[1,{"b":{" t":[]}}]}`, strings.Repeat(`{"a":`, 600) + "1" + strings.Repeat("}", 600),
	} {
		checkFieldsAgree(t, []byte(s))
	}
}

func TestDecodeFieldsKeepsOrderAndRepeats(t *testing.T) {
	fields, err := codec.TaggedJSON{}.DecodeFields([]byte(`{"b":1,"a":"x","b":2}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []codec.Field{{Key: "b", Value: int64(1)}, {Key: "a", Value: "x"}, {Key: "b", Value: int64(2)}}
	if fmt.Sprint(fields) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", fields, want)
	}
}

func ExampleTaggedJSON_DecodeFields() {
	var buf [8]codec.Field // a small session needs no allocation for its list
	fields, err := codec.TaggedJSON{}.DecodeFields([]byte(`{"_permanent":true,"user":"alice","n":1}`), buf[:0])
	if err != nil {
		panic(err)
	}
	for _, f := range fields {
		fmt.Printf("%s: %v (%T)\n", f.Key, f.Value, f.Value)
	}
	// Output:
	// _permanent: true (bool)
	// user: alice (string)
	// n: 1 (int64)
}
