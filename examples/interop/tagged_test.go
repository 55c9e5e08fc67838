package interop_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core/codec"
)

// typedValue is one value of a type tagged JSON tags, as the Python apps'
// typed_values() hold it, in the three forms the tests compare.
type typedValue struct {
	key    string
	tagged string // the demo's PUT body
	gov    any    // what Go decodes it to
	repr   string // Python's repr of it
}

var typedValues = []typedValue{
	{"tuple", `{" t":[1,"two",3.5]}`, codec.Tuple{int64(1), "two", 3.5}, `(1, 'two', 3.5)`},
	{"bytes", `{" b":"AP9jbG9haw=="}`, []byte("\x00\xffcloak"), `b'\x00\xffcloak'`},
	{"uuid", `{" u":"123456789abc4def8123456789abcdef"}`,
		codec.UUID{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef, 0x81, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef},
		`UUID('12345678-9abc-4def-8123-456789abcdef')`},
	{"when", `{" d":"Tue, 02 Jan 2024 03:04:05 GMT"}`, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		`datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)`},
	{"text", `"h\u00e9llo"`, "h\u00e9llo", "'h\u00e9llo'"},
}

// decodeSession decodes the demo's GET /api/session answer.
func decodeSession(t *testing.T, body []byte) map[string]any {
	t.Helper()
	v, err := codec.UnmarshalTagged(body)
	if err != nil {
		t.Fatalf("/api/session is not tagged JSON: %v: %s", err, body)
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("/api/session answered %T, want an object: %s", v, body)
	}
	return m
}

// checkGoValues checks that the session Go decoded holds typedValues with
// their Go types.
func checkGoValues(t *testing.T, got map[string]any) {
	t.Helper()
	for _, tv := range typedValues {
		v, ok := got[tv.key]
		if !ok {
			t.Errorf("Go: key %q missing from the session %v", tv.key, got)
			continue
		}
		if want, isTime := tv.gov.(time.Time); isTime {
			if g, ok := v.(time.Time); !ok || !g.Equal(want) {
				t.Errorf("Go: %q = %#v (%T), want time.Time %v", tv.key, v, v, want)
			}
			continue
		}
		if !reflect.DeepEqual(v, tv.gov) {
			t.Errorf("Go: %q = %#v (%T), want %#v (%T)", tv.key, v, v, tv.gov, tv.gov)
		}
	}
}

// decodeReprs decodes a Python app's GET /repr answer: {key: repr(value)}.
func decodeReprs(t *testing.T, body []byte) map[string]string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("/repr: %v: %s", err, body)
	}
	return m
}

// checkPythonValues checks that the session a Python app decoded holds
// typedValues with their Python types, and the extra reprs given.
func checkPythonValues(t *testing.T, got map[string]string, extra map[string]string) {
	t.Helper()
	want := map[string]string{}
	for _, tv := range typedValues {
		want[tv.key] = tv.repr
	}
	for k, v := range extra {
		want[k] = v
	}
	for k, w := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("Python: key %q missing from the session %v", k, got)
		} else if g != w {
			t.Errorf("Python: %q = %s, want %s", k, g, w)
		}
	}
}
